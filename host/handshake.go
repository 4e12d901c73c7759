package host

import (
	"net"
	"net/http"
	"net/url"
	"time"
)

// Handshake describes the HTTP request that opened a session.
type Handshake struct {
	// Header holds the request headers with the canonical keys net/http
	// gives them; the request host is included as "Host".
	Header http.Header
	// Query holds the query parameters of the request.
	Query url.Values
	// URL is the request URI, path and query (r.URL.RequestURI()).
	URL string
	// RemoteAddr is the client IP address, without port.
	RemoteAddr string
	// Secure reports whether the request came over TLS.
	Secure bool
	// XDomain reports whether the request carried an Origin header.
	XDomain bool
	// Time is when the session was opened.
	Time time.Time
}

func newHandshake(r *http.Request, q url.Values) *Handshake {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if _, ok := h["Host"]; !ok && r.Host != "" {
		h["Host"] = []string{r.Host}
	}
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return &Handshake{
		Header:     h,
		Query:      q,
		URL:        r.URL.RequestURI(),
		RemoteAddr: addr,
		Secure:     r.TLS != nil,
		XDomain:    r.Header.Get("Origin") != "",
		Time:       time.Now(),
	}
}
