package host

import (
	"encoding/binary"
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

// handshakeRecord is what a session keeps of the request that opened it,
// held by value in Conn: the headers packed into one string (see
// packHeader) instead of a map of slices that also kept every parsed value
// alive, and the query left inside the request URI. Conn.Handshake expands
// it into a Handshake; sessions whose handshake is never looked at pay only
// for the string.
type handshakeRecord struct {
	header     string
	uri        string // r.URL.RequestURI()
	queryLen   int    // the raw query is the last queryLen bytes of uri
	remoteAddr string
	time       time.Time
	secure     bool
	xdomain    bool
}

func newHandshake(r *http.Request) handshakeRecord {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return handshakeRecord{
		header:     packHeader(r.Header, r.Host),
		uri:        r.URL.RequestURI(),
		queryLen:   len(r.URL.RawQuery),
		remoteAddr: addr,
		time:       time.Now(),
		secure:     r.TLS != nil,
		xdomain:    r.Header.Get("Origin") != "",
	}
}

// handshake builds the Handshake described by rec.
func (rec *handshakeRecord) handshake() *Handshake {
	q, _ := url.ParseQuery(rec.uri[len(rec.uri)-rec.queryLen:])
	return &Handshake{
		Header:     unpackHeader(rec.header),
		Query:      q,
		URL:        rec.uri,
		RemoteAddr: rec.remoteAddr,
		Secure:     rec.secure,
		XDomain:    rec.xdomain,
		Time:       rec.time,
	}
}

// packHeader encodes h, with host added as "Host" unless h has that key,
// into one string: for each key its length and bytes, then 0 for a nil
// value list or the number of values plus one, then each value's length and
// bytes; every length and count is a uvarint.
func packHeader(h http.Header, host string) string {
	_, hasHost := h["Host"]
	addHost := !hasHost && host != ""
	n := 0
	for k, vv := range h {
		n += 2*binary.MaxVarintLen64 + len(k)
		for _, v := range vv {
			n += binary.MaxVarintLen64 + len(v)
		}
	}
	if addHost {
		n += 3*binary.MaxVarintLen64 + len("Host") + len(host)
	}
	b := make([]byte, 0, n)
	for k, vv := range h {
		b = appendHeaderEntry(b, k, vv)
	}
	if addHost {
		b = appendHeaderEntry(b, "Host", []string{host})
	}
	return string(b)
}

func appendHeaderEntry(b []byte, k string, vv []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	if vv == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(vv))+1)
	for _, v := range vv {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// unpackHeader decodes a string made by packHeader. The keys and values
// are substrings of p; like http.Header.Clone, all value lists share one
// backing array.
func unpackHeader(p string) http.Header {
	keys, values := 0, 0
	for d := (headerDecoder{p: p}); d.more(); {
		d.str()
		keys++
		for range d.count() {
			d.str()
			values++
		}
	}
	h := make(http.Header, keys)
	slab := make([]string, 0, values)
	for d := (headerDecoder{p: p}); d.more(); {
		k := d.str()
		n := d.uvarint()
		if n == 0 {
			h[k] = nil
			continue
		}
		start := len(slab)
		for range n - 1 {
			slab = append(slab, d.str())
		}
		h[k] = slab[start:len(slab):len(slab)]
	}
	return h
}

// headerDecoder reads a string made by packHeader.
type headerDecoder struct{ p string }

func (d *headerDecoder) more() bool { return len(d.p) > 0 }

func (d *headerDecoder) uvarint() uint64 {
	var x uint64
	for shift := 0; len(d.p) > 0; shift += 7 {
		c := d.p[0]
		d.p = d.p[1:]
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	return x
}

// count reads a value count: the number of values of a key.
func (d *headerDecoder) count() uint64 { return max(d.uvarint(), 1) - 1 }

func (d *headerDecoder) str() string {
	n := min(d.uvarint(), uint64(len(d.p)))
	s := d.p[:n]
	d.p = d.p[n:]
	return s
}
