package host

import (
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Transport names, as they appear in the "transport" query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Defaults applied by NewServer to zero-valued Options fields.
const (
	DefaultPath              = "/engine.io/"
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultUpgradeTimeout    = 10 * time.Second
	DefaultMaxHTTPBufferSize = 1_000_000
	DefaultMaxQueuedMessages = 4096
	DefaultMaxQueuedBytes    = 16 << 20
	DefaultCloseTimeout      = 30 * time.Second
)

// Options configures a Server. Zero values select the documented defaults,
// which are those of the reference Node.js engine.io server.
type Options struct {
	// Path is the URL prefix handled by the server, default "/engine.io/",
	// matched against r.URL.Path as the handler receives it (mount the server
	// without http.StripPrefix). A missing leading or trailing slash is added.
	Path string
	// PingInterval is the period of the server's ping packets, default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong before closing the
	// session with "ping timeout", default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds an unfinished polling-to-websocket upgrade, default 10s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest accepted polling POST body or WebSocket
	// message in bytes, default 1e6; a bigger one closes the session.
	MaxHTTPBufferSize int64
	// Transports lists the enabled transports, default {"polling", "websocket"}.
	Transports []string
	// DisableUpgrades turns off the polling-to-websocket upgrade (allowUpgrades=false).
	DisableUpgrades bool
	// AllowRequest decides whether a handshake or a WebSocket upgrade may
	// proceed; a non-nil error is answered 403 {"code":4,"message":<error text>}.
	AllowRequest func(r *http.Request) error
	// Cookie, when non-nil, sets a session cookie on handshake responses.
	Cookie *CookieOptions
	// CORS, when non-nil, answers preflight requests and adds CORS headers.
	CORS *CORSOptions
	// GenerateID returns the id of a new session; nil generates 20 random
	// URL-safe characters. An error fails the handshake with code 3.
	GenerateID func(r *http.Request) (string, error)
	// InitialHeaders may edit the headers of handshake responses only.
	InitialHeaders func(h http.Header, r *http.Request)
	// Headers may edit the headers of every successful engine response,
	// including the WebSocket upgrade response.
	Headers func(h http.Header, r *http.Request)
	// OnConnectionError is called for every request refused with an engine
	// error code (0-5), before the error answer is written.
	OnConnectionError func(ConnectionError)
	// OnConnection is called with every new session before any of its
	// messages is delivered; it must call c.SetHandler before returning.
	OnConnection func(c *Conn)
	// Logger receives the server's diagnostics; nil uses slog.Default().
	Logger *slog.Logger

	// ServeClient serves the Socket.IO browser bundles at
	// <Path without trailing slash>/socket.io.js (and .min.js, .msgpack.min.js, .map).
	ServeClient bool
	// ClientFiles overrides the bundles served by ServeClient; nil uses the
	// ones embedded by package clientdist.
	ClientFiles fs.FS
	// PerMessageDeflate enables WebSocket permessage-deflate compression
	// (without context takeover); off by default, as in the reference server.
	PerMessageDeflate bool
	// MaxQueuedMessages bounds a session's outgoing queue, default 4096
	// packets; a session that overflows it is closed with "transport error".
	MaxQueuedMessages int
	// MaxQueuedBytes bounds the payload bytes of a session's outgoing queue,
	// default 16 MiB. A single Send bigger than this is accepted only into an
	// empty queue.
	MaxQueuedBytes int64
	// CloseTimeout bounds how long Conn.Close waits for the next polling
	// request to deliver the close packet, default 30s.
	CloseTimeout time.Duration
	// Observer, when non-nil, receives the sessions' events for metrics.
	Observer Observer
}

// CookieOptions describes the session cookie set on handshake responses.
// Its value is the session id.
type CookieOptions struct {
	// Name of the cookie, default "io".
	Name string
	// Path of the cookie, default "/".
	Path string
	// Domain of the cookie; empty omits the attribute.
	Domain string
	// MaxAge of the cookie; zero omits the attribute (a session cookie).
	MaxAge time.Duration
	// Expires sets the Expires attribute when non-zero.
	Expires time.Time
	// DisableHTTPOnly drops the HttpOnly attribute, which is set by default.
	DisableHTTPOnly bool
	// Secure sets the Secure attribute.
	Secure bool
	// SameSite sets the SameSite attribute; the zero value means Lax.
	SameSite http.SameSite
	// Partitioned sets the Partitioned attribute (CHIPS).
	Partitioned bool
}

// CORSOptions configures Cross-Origin Resource Sharing, with the semantics
// of the npm "cors" package that the reference server uses.
type CORSOptions struct {
	// Origins lists the allowed origins. Empty or {"*"} answers
	// "Access-Control-Allow-Origin: *"; otherwise a listed request origin is
	// reflected and an unlisted one gets no Access-Control-Allow-Origin.
	Origins []string
	// OriginFunc, when set, replaces Origins: true reflects the request
	// origin, false adds no CORS headers, an error fails the request with
	// code 3 "Bad request".
	OriginFunc func(origin string, r *http.Request) (bool, error)
	// Methods answered to preflight requests, default GET,HEAD,PUT,PATCH,POST,DELETE.
	Methods []string
	// AllowedHeaders answered to preflight requests; nil reflects the
	// request's Access-Control-Request-Headers.
	AllowedHeaders []string
	// ExposedHeaders lists the headers exposed to the browser.
	ExposedHeaders []string
	// Credentials sets "Access-Control-Allow-Credentials: true".
	Credentials bool
	// MaxAge is sent to preflight requests as Access-Control-Max-Age
	// (seconds) when positive.
	MaxAge time.Duration
	// OptionsSuccessStatus is the preflight status code, default 204.
	OptionsSuccessStatus int
}

// config is Options with defaults applied, as the server uses them.
type config struct {
	Options
	polling, websocket bool
}

func newConfig(o Options) (config, []string) {
	var warnings []string
	c := config{Options: o}
	c.Path = normalizePath(o.Path)
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if c.MaxQueuedMessages <= 0 {
		c.MaxQueuedMessages = DefaultMaxQueuedMessages
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	transports := o.Transports
	if transports == nil {
		transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range transports {
		switch t {
		case TransportPolling:
			c.polling = true
		case TransportWebSocket:
			c.websocket = true
		default:
			warnings = append(warnings, "unknown transport "+t+" ignored")
		}
	}
	if !c.polling && !c.websocket {
		warnings = append(warnings, "no transport enabled: every request will be refused")
	}
	return c, warnings
}

func normalizePath(p string) string {
	if p == "" {
		return DefaultPath
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// transportEnabled reports whether name is one of the enabled transports.
func (c *config) transportEnabled(name string) bool {
	switch name {
	case TransportPolling:
		return c.polling
	case TransportWebSocket:
		return c.websocket
	}
	return false
}

// upgrades is the "upgrades" list of the open packet for a session opened
// on the given transport.
func (c *config) upgrades(transport string) []string {
	if transport == TransportPolling && c.websocket && !c.DisableUpgrades {
		return []string{TransportWebSocket}
	}
	return []string{}
}
