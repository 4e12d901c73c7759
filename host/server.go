package host

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Server is an Engine.IO v4 server; it serves the polling and WebSocket
// transports as an http.Handler mounted at Options.Path.
type Server struct {
	cfg    config
	log    *slog.Logger
	cors   *corsPolicy
	client *clientFiles

	mu        sync.RWMutex
	conns     map[string]*Conn
	lingering map[string]*Conn // closed sessions a POST keeps reachable
	closed    bool

	// pollWaitHook, set only by tests, is called when a polling GET starts
	// waiting.
	pollWaitHook func(c *Conn)

	// active counts the sessions (until their OnClose returns) and the
	// WebSocket connections still open, so that Shutdown can wait for them.
	active tracker
}

// NewServer returns a Server configured by opts; zero fields take the
// defaults of the reference server.
func NewServer(opts Options) *Server {
	cfg, warnings := newConfig(opts)
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		cors:      newCORSPolicy(cfg.CORS),
		conns:     make(map[string]*Conn),
		lingering: make(map[string]*Conn),
	}
	for _, w := range warnings {
		s.log.Warn("engine options: " + w)
	}
	if cfg.OnConnection == nil {
		s.log.Warn("engine options: OnConnection is nil; sessions have no message handler")
	}
	if cfg.ServeClient {
		s.client = newClientFiles(cfg.ClientFiles)
		if !s.client.available {
			s.log.Warn("client bundles not embedded; run make client-dist; serveClient answers 404")
		}
	}
	return s
}

// ServeHTTP handles an Engine.IO request: a handshake, a polling GET or
// POST, a WebSocket connection or upgrade, or a client bundle download.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, s.cfg.Path) {
		http.NotFound(w, r)
		return
	}
	upgrade := isWebSocketUpgrade(r)
	if s.cors != nil {
		handled, err := s.cors.apply(w, r)
		if err != nil {
			s.refuse(w, r, CodeBadRequest, map[string]any{"name": "MIDDLEWARE_FAILURE", "error": err.Error()}, upgrade)
			return
		}
		if handled {
			return
		}
	}
	if s.client != nil && s.serveClient(w, r) {
		return
	}
	q := r.URL.Query()
	c, code, ctx := s.verify(r, q, upgrade)
	if code >= 0 {
		s.refuse(w, r, code, ctx, upgrade)
		return
	}
	switch {
	case c == nil && upgrade:
		s.handshakeWebSocket(w, r, q)
	case c == nil:
		s.handshakePolling(w, r, q)
	case upgrade:
		s.upgradeWebSocket(c, w, r)
	default:
		c.servePolling(w, r)
	}
}

// verify checks a request as the reference server does. It returns the
// session named by sid (nil for a handshake), or an error code >= 0 with its
// context.
func (s *Server) verify(r *http.Request, q url.Values, upgrade bool) (*Conn, int, map[string]any) {
	transport := queryValue(q, "transport")
	if !s.cfg.transportEnabled(transport) {
		return nil, CodeUnknownTransport, map[string]any{"transport": transport}
	}
	if origin := r.Header.Get("Origin"); invalidHeaderValue(origin) {
		return nil, CodeBadRequest, map[string]any{"name": "INVALID_ORIGIN", "origin": origin}
	}
	if transport == TransportWebSocket && !upgrade && r.ProtoMajor >= 2 {
		return nil, CodeBadRequest, map[string]any{
			"name":  "TRANSPORT_HANDSHAKE_ERROR",
			"error": "WebSocket needs an HTTP/1.1 Upgrade request; " + r.Proto + " requests cannot be upgraded",
		}
	}
	if sid := queryValue(q, "sid"); sid != "" {
		c := s.lookup(sid)
		if c == nil {
			return nil, CodeUnknownSID, map[string]any{"sid": sid}
		}
		previous := c.Transport()
		if !upgrade {
			if previous != transport {
				return nil, CodeBadRequest, map[string]any{"name": "TRANSPORT_MISMATCH", "transport": transport, "previousTransport": previous}
			}
			return c, -1, nil
		}
		if transport != TransportWebSocket || s.cfg.DisableUpgrades {
			return nil, CodeBadRequest, map[string]any{"name": "TRANSPORT_MISMATCH", "transport": transport, "previousTransport": previous}
		}
		if code, ctx := s.allow(r); code >= 0 {
			return nil, code, ctx
		}
		return c, -1, nil
	}
	if r.Method != http.MethodGet {
		return nil, CodeBadHandshakeMethod, map[string]any{"method": r.Method}
	}
	if (transport == TransportWebSocket) != upgrade {
		return nil, CodeBadRequest, map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"}
	}
	if code, ctx := s.allow(r); code >= 0 {
		return nil, code, ctx
	}
	return nil, -1, nil
}

// allow runs Options.AllowRequest.
func (s *Server) allow(r *http.Request) (int, map[string]any) {
	if s.cfg.AllowRequest == nil {
		return -1, nil
	}
	if err := s.cfg.AllowRequest(r); err != nil {
		return CodeForbidden, map[string]any{"message": err.Error()}
	}
	return -1, nil
}

// newSession checks the protocol version of a handshake and creates its
// session, or refuses the request and returns nil.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, q url.Values, transport string) *Conn {
	upgrade := transport == TransportWebSocket
	if queryValue(q, "EIO") != "4" {
		s.refuse(w, r, CodeUnsupportedProtocolVersion, map[string]any{"protocol": 3}, upgrade)
		return nil
	}
	id, err := s.generateID(r)
	if err != nil {
		s.refuse(w, r, CodeBadRequest, map[string]any{"name": "ID_GENERATION_ERROR", "error": err}, upgrade)
		return nil
	}
	return newConn(s, id, newHandshake(r), transport)
}

// generateID returns a new session id that no live session uses.
func (s *Server) generateID(r *http.Request) (string, error) {
	for range 3 {
		var id string
		if s.cfg.GenerateID != nil {
			var err error
			if id, err = s.cfg.GenerateID(r); err != nil {
				return "", fmt.Errorf("generate session id: %w", err)
			}
			if id == "" {
				return "", errors.New("generate session id: empty id")
			}
		} else {
			id = randomID()
		}
		if s.lookupAny(id) == nil {
			return id, nil
		}
	}
	return "", errors.New("generate session id: id already in use")
}

// randomID returns 20 random URL-safe characters (120 bits).
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// handshakeHeaders adds the cookie and runs the header hooks of a handshake
// response.
func (s *Server) handshakeHeaders(h http.Header, r *http.Request, id string) {
	s.cfg.Cookie.setCookie(h, id)
	if s.cfg.InitialHeaders != nil {
		s.cfg.InitialHeaders(h, r)
	}
}

// register adds c to the live sessions. It fails, with the context of the
// refusal, when the id is taken or the server is closed.
func (s *Server) register(c *Conn) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return map[string]any{"name": "SERVER_CLOSED"}
	}
	if _, taken := s.conns[c.id]; taken {
		return map[string]any{"name": "ID_GENERATION_ERROR", "error": "session id already in use"}
	}
	s.conns[c.id] = c
	s.active.add()
	return nil
}

// open hands a registered session to Options.OnConnection, then starts its
// heartbeat and makes it reachable by sid. Messages are not delivered
// before OnConnection returns: it runs under the delivery lock.
func (s *Server) open(c *Conn) {
	c.inMu.Lock()
	defer c.inMu.Unlock()
	opened := false
	defer func() {
		if !opened {
			c.finish(ReasonTransportError, errors.New("OnConnection panicked"))
		}
	}()
	if obs := s.cfg.Observer; obs != nil {
		c.mu.Lock()
		if c.state != stateClosed {
			c.observed = true
			obs.ConnOpened(c.transport)
		}
		c.mu.Unlock()
	}
	if s.cfg.OnConnection != nil {
		s.cfg.OnConnection(c)
	}
	opened = true
	c.mu.Lock()
	c.opened = true
	if c.state == stateOpen {
		c.startHeartbeatLocked()
	}
	c.kickLocked()
	c.mu.Unlock()
}

// remove drops c from the live sessions. A lingering session stays
// reachable by sid until forget (see Conn.awaitLingeringPoll).
func (s *Server) remove(c *Conn, lingering bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
		if lingering {
			s.lingering[c.id] = c
		}
	}
}

// forget drops a lingering closed session.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lingering[c.id] == c {
		delete(s.lingering, c.id)
	}
}

// lookup returns the opened session with this id, or the lingering closed
// one, or nil.
func (s *Server) lookup(sid string) *Conn {
	s.mu.RLock()
	c, live := s.conns[sid]
	if !live {
		c = s.lingering[sid]
	}
	s.mu.RUnlock()
	if c == nil || !live {
		return c
	}
	c.mu.Lock()
	opened := c.opened
	c.mu.Unlock()
	if !opened {
		return nil
	}
	return c
}

func (s *Server) lookupAny(sid string) *Conn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.conns[sid]
}

// ClientsCount returns the number of live sessions.
func (s *Server) ClientsCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.conns)
}

// Close closes every session with reason "forced close", flushing what is
// queued (pending polling requests get a close packet, WebSockets a close
// frame), and refuses new handshakes. It does not wait.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(true)
	}
}

// Shutdown closes the server like Close and waits until every session has
// ended (its OnClose has returned) and every WebSocket connection is
// closed, or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Close()
	select {
	case <-s.active.idle():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("engine shutdown: %w", ctx.Err())
	}
}

// queryValue returns the last value of key, as the reference server (which
// builds an object from the query string) sees it.
func queryValue(q url.Values, key string) string {
	v := q[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// isWebSocketUpgrade reports whether r asks for a WebSocket upgrade.
func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// invalidHeaderValue reports whether v holds a character not allowed in a
// header value (controls other than tab, and DEL).
func invalidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

// tracker counts running work and signals when the count drops to zero.
type tracker struct {
	mu    sync.Mutex
	n     int
	zeroc chan struct{}
}

func (t *tracker) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.zeroc != nil {
		close(t.zeroc)
		t.zeroc = nil
	}
	t.mu.Unlock()
}

// idle returns a channel closed once the count is zero.
func (t *tracker) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if t.zeroc == nil {
		t.zeroc = make(chan struct{})
	}
	return t.zeroc
}
