package core

import (
	"strings"
	"time"

	"github.com/edged-io/edged/host"
)

// Handshake describes the request that opened a socket's connection, in the
// shape the Node.js server gives it: header names lower-case with string
// values, query values plain strings, time a JavaScript date string, issued
// epoch milliseconds and address the client IP without port.
type Handshake struct {
	Headers map[string]string `json:"headers"`
	Time    string            `json:"time"`
	Address string            `json:"address"`
	XDomain bool              `json:"xdomain"`
	Secure  bool              `json:"secure"`
	Issued  int64             `json:"issued"`
	URL     string            `json:"url"`
	Query   map[string]string `json:"query"`
	Auth    map[string]any    `json:"auth"`
}

// newHandshake builds the handshake of a socket from its engine session.
// Sockets build it on first use only (see Socket.Handshake).
func newHandshake(h *host.Handshake, auth map[string]any) *Handshake {
	hs := &Handshake{
		Headers: make(map[string]string, len(h.Header)),
		Query:   make(map[string]string, len(h.Query)),
		Auth:    auth,
		Address: h.RemoteAddr,
		XDomain: h.XDomain,
		Secure:  h.Secure,
		URL:     h.URL,
		Issued:  h.Time.UnixMilli(),
		Time:    jsDateString(h.Time),
	}
	if hs.Auth == nil {
		hs.Auth = map[string]any{}
	}
	for k, v := range h.Header {
		name := lowerHeaderName(k)
		sep := ", "
		if name == "cookie" {
			sep = "; "
		}
		hs.Headers[name] = strings.Join(v, sep)
	}
	for k, v := range h.Query {
		if len(v) > 0 {
			hs.Query[k] = v[len(v)-1]
		}
	}
	return hs
}

// lowerHeaderName lower-cases a header name, without allocating for the
// names browsers commonly send.
func lowerHeaderName(k string) string {
	switch k {
	case "Host":
		return "host"
	case "Connection":
		return "connection"
	case "User-Agent":
		return "user-agent"
	case "Accept":
		return "accept"
	case "Accept-Encoding":
		return "accept-encoding"
	case "Accept-Language":
		return "accept-language"
	case "Cache-Control":
		return "cache-control"
	case "Pragma":
		return "pragma"
	case "Cookie":
		return "cookie"
	case "Origin":
		return "origin"
	case "Referer":
		return "referer"
	case "Upgrade":
		return "upgrade"
	case "Sec-Websocket-Key":
		return "sec-websocket-key"
	case "Sec-Websocket-Version":
		return "sec-websocket-version"
	case "Sec-Websocket-Extensions":
		return "sec-websocket-extensions"
	case "X-Forwarded-For":
		return "x-forwarded-for"
	}
	return strings.ToLower(k)
}

// jsDateString formats t as JavaScript's Date.prototype.toString does, e.g.
// "Thu Nov 26 2026 07:11:06 GMT+0000 (Coordinated Universal Time)".
func jsDateString(t time.Time) string {
	name, _ := t.Zone()
	if name == "UTC" {
		name = "Coordinated Universal Time"
	}
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (" + name + ")"
}
