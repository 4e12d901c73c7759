package core

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/edged-io/edged/core/parser"
	"github.com/edged-io/edged/host"
)

// Server is a Socket.IO server: an http.Handler serving the Engine.IO
// transports under its path, and the root of its namespaces.
type Server struct {
	opts          Options
	log           *slog.Logger
	engine        *host.Server
	recoveryStore RecoveryStore // nil when recovery is off

	mu           sync.RWMutex
	nsps         map[string]*Namespace
	parents      []*ParentNamespace
	newNamespace []func(*Namespace)
	clients      map[*client]struct{}
	closed       bool

	active sync.WaitGroup // connected sockets, until their disconnect handlers ran
}

// NewServer creates a server with the given options; the main namespace "/" exists from the start.
func NewServer(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		nsps:    make(map[string]*Namespace),
		clients: make(map[*client]struct{}),
	}
	if rec := opts.ConnectionStateRecovery; rec != nil {
		s.recoveryStore = opts.RecoveryStore
		if s.recoveryStore == nil {
			s.recoveryStore = newMemoryRecoveryStore(rec)
		}
	}
	eo := opts.Engine
	eo.ServeClient = !opts.DisableServeClient
	eo.OnConnection = s.onConnection
	if eo.Logger == nil {
		eo.Logger = opts.Logger
	}
	s.engine = host.NewServer(eo)
	s.Of("/")
	return s
}

// ServeHTTP serves the Engine.IO transports (and the client bundles).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *host.Server { return s.engine }

// Path returns the URL prefix the server answers under.
func (s *Server) Path() string { return s.opts.Engine.Path }

// ClientsCount returns the number of open Engine.IO connections.
func (s *Server) ClientsCount() int { return s.engine.ClientsCount() }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// RecoveryEnabled reports whether connection state recovery is on.
func (s *Server) RecoveryEnabled() bool { return s.opts.ConnectionStateRecovery != nil }

// Recovery returns the recovery options, nil when recovery is off.
func (s *Server) Recovery() *RecoveryOptions { return s.opts.ConnectionStateRecovery }

func (s *Server) newID() string {
	if s.opts.GenerateID != nil {
		return s.opts.GenerateID()
	}
	return randomID()
}

func (s *Server) handlerPanic(v any) {
	s.log.Error("handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// normalizeNamespace prefixes a namespace name with "/" as the Node.js server does.
func normalizeNamespace(name string) string {
	if !strings.HasPrefix(name, "/") {
		return "/" + name
	}
	return name
}

// Of returns the static namespace with this name, creating it if needed.
func (s *Server) Of(name string) *Namespace {
	name = normalizeNamespace(name)
	s.mu.Lock()
	if n, ok := s.nsps[name]; ok {
		s.mu.Unlock()
		return n
	}
	n := newNamespace(s, name, nil)
	s.nsps[name] = n
	handlers := s.newNamespace
	s.mu.Unlock()
	s.announce(n, handlers)
	return n
}

func (s *Server) announce(n *Namespace, handlers []func(*Namespace)) {
	if n.name == "/" {
		return
	}
	for _, h := range handlers {
		h(n)
	}
}

// OfRegexp declares dynamic namespaces: a client connecting to a name that
// matches re gets a child namespace of the returned parent.
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.OfFunc(func(name string, _ map[string]any) bool { return re.MatchString(name) })
}

// OfFunc declares dynamic namespaces decided by a function of the name and
// the auth payload.
func (s *Server) OfFunc(allow func(name string, auth map[string]any) bool) *ParentNamespace {
	p := &ParentNamespace{server: s, allow: allow, children: make(map[string]*Namespace)}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OnNewNamespace registers a handler called for every namespace created after
// it (static or dynamic), except the main one.
func (s *Server) OnNewNamespace(h func(*Namespace)) {
	s.mu.Lock()
	s.newNamespace = append(s.newNamespace, h)
	s.mu.Unlock()
}

// Namespaces returns the namespaces that exist now.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	return out
}

// Namespace returns the namespace with this name if it exists, without creating it.
func (s *Server) Namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[normalizeNamespace(name)]
}

// Sockets returns the main namespace "/".
func (s *Server) Sockets() *Namespace { return s.Of("/") }

// Use adds a connect middleware to the main namespace.
func (s *Server) Use(m Middleware) { s.Sockets().Use(m) }

// OnConnection registers a connection handler on the main namespace.
func (s *Server) OnConnection(h func(*Socket)) { s.Sockets().OnConnection(h) }

// Emit broadcasts an event to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.Sockets().Emit(event, args...) }

// To returns an operator targeting rooms of the main namespace.
func (s *Server) To(rooms ...string) *BroadcastOperator { return s.Sockets().To(rooms...) }

// In is the same as To.
func (s *Server) In(rooms ...string) *BroadcastOperator { return s.Sockets().To(rooms...) }

// Except returns an operator targeting every socket of the main namespace not in rooms.
func (s *Server) Except(rooms ...string) *BroadcastOperator { return s.Sockets().Except(rooms...) }

// lookupNamespace finds the namespace a CONNECT names: a static one, or a new
// child of the first parent that accepts the name. nil means "Invalid namespace".
func (s *Server) lookupNamespace(name string, auth map[string]any) *Namespace {
	s.mu.RLock()
	n := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, p := range parents {
		if !p.allow(name, auth) {
			continue
		}
		s.mu.Lock()
		if n := s.nsps[name]; n != nil { // created in the meantime
			s.mu.Unlock()
			return n
		}
		n := newNamespace(s, name, p)
		s.nsps[name] = n
		handlers := s.newNamespace
		s.mu.Unlock()
		p.addChild(n)
		s.announce(n, handlers)
		return n
	}
	return nil
}

func (s *Server) onConnection(conn *host.Conn) {
	c := newClient(s, conn)
	conn.SetHandler(c)
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.clients[c] = struct{}{}
	}
	s.mu.Unlock()
	if closed {
		conn.CloseNow(ReasonForcedClose)
	}
}

func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

// connect handles a CONNECT packet of client c for namespace name.
func (s *Server) connect(c *client, name string, auth map[string]any) {
	if auth == nil {
		s.mu.RLock()
		dynamic := len(s.parents) > 0
		s.mu.RUnlock()
		if dynamic {
			auth = map[string]any{} // given to the parents' functions, which may keep or fill it
		}
	}
	n := s.lookupNamespace(name, auth)
	if n == nil {
		c.write(encodePacket(&parser.Packet{
			Type: parser.ConnectError, Namespace: name, ID: -1,
			Data: []byte(`{"message":"Invalid namespace"}`),
		}), false)
		return
	}
	n.add(c, auth)
}

// Close disconnects every socket with "server shutting down", waits (within
// ctx) for their disconnect handlers, closes the adapters and then every
// Engine.IO connection. The caller stops its listener afterwards.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.Unlock()

	for _, n := range nsps {
		for _, sock := range n.Sockets() {
			sock.onClose(ReasonServerShuttingDown)
		}
	}
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("close: waiting for disconnect handlers: %w", ctx.Err())
	}
	for _, n := range nsps {
		if cerr := n.adapter.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close adapter of %s: %w", n.name, cerr)
		}
	}
	s.engine.Close()
	return err
}
