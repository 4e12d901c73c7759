package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edged-io/edged/core/parser"
)

// Middleware runs when a client connects to a namespace, before the
// connection handlers; an error refuses the connection and reaches the client
// as connect_error (use *ConnectError to send data with the message).
type Middleware func(s *Socket) error

// ServerSideHandler handles an event sent by another node with ServerSideEmit;
// ack is nil unless the sender asked for an answer.
type ServerSideHandler func(args Payload, ack func(args ...any))

// Namespace is a communication channel that groups sockets; it owns its
// middleware, connection handlers and adapter (rooms).
type Namespace struct {
	name    string
	server  *Server
	parent  *ParentNamespace
	adapter Adapter
	ackIDs  atomic.Int64

	connectChain

	mu         sync.RWMutex
	sockets    map[string]*Socket
	serverSide map[string][]ServerSideHandler
}

// connectChain holds the connect middleware and connection handlers of a
// namespace or a dynamic parent.
type connectChain struct {
	chainMu      sync.RWMutex
	middlewares  []Middleware
	connHandlers []func(*Socket)
}

// Use adds a connect middleware.
func (c *connectChain) Use(m Middleware) {
	c.chainMu.Lock()
	c.middlewares = append(slices.Clone(c.middlewares), m)
	c.chainMu.Unlock()
}

// OnConnection registers a handler called for each socket that connects. It
// runs on the socket's queue before any of its events, so handlers it
// registers see every event.
func (c *connectChain) OnConnection(h func(*Socket)) {
	c.chainMu.Lock()
	c.connHandlers = append(slices.Clone(c.connHandlers), h)
	c.chainMu.Unlock()
}

func (c *connectChain) chain() ([]Middleware, []func(*Socket)) {
	c.chainMu.RLock()
	defer c.chainMu.RUnlock()
	return c.middlewares, c.connHandlers
}

func newNamespace(s *Server, name string, parent *ParentNamespace) *Namespace {
	n := &Namespace{name: name, server: s, parent: parent, sockets: make(map[string]*Socket)}
	if s.opts.Adapter != nil {
		n.adapter = s.opts.Adapter(n)
	} else {
		n.adapter = NewMemoryAdapter(n)
	}
	if err := n.adapter.Init(context.Background()); err != nil {
		s.log.Error("adapter init failed", "nsp", name, "err", err)
	}
	if obs := s.opts.Observer; obs != nil {
		obs.NamespaceCreated(name)
	}
	return n
}

// Name returns the namespace name, e.g. "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// Server returns the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.server }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Parent returns the dynamic parent this namespace was created from, or nil.
func (n *Namespace) Parent() *ParentNamespace { return n.parent }

// Sockets returns the sockets connected to this namespace on this node.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Collect(maps.Values(n.sockets))
}

// Socket returns the local socket with this id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

func (n *Namespace) nextAckID() int64 { return n.ackIDs.Add(1) - 1 }

// fullChain returns the parent's middleware and handlers followed by the namespace's own.
func (n *Namespace) fullChain() ([]Middleware, []func(*Socket)) {
	mws, hs := n.chain()
	if n.parent != nil {
		pm, ph := n.parent.chain()
		mws = append(slices.Clone(pm), mws...)
		hs = append(slices.Clone(ph), hs...)
	}
	return mws, hs
}

// add connects client c to this namespace: recovery, middleware, then the
// CONNECT reply and the connection handlers.
func (n *Namespace) add(c *client, auth map[string]any) {
	var session *Session
	if rec := n.server.opts.ConnectionStateRecovery; rec != nil {
		pid, _ := auth["pid"].(string)
		offset, _ := auth["offset"].(string)
		if pid != "" && offset != "" {
			var err error
			session, err = n.adapter.RestoreSession(pid, offset)
			if err != nil {
				n.server.log.Warn("restore session failed", "nsp", n.name, "err", err)
				session = nil
			}
		}
	}
	s := newSocket(n, c, auth, session)
	mws, handlers := n.fullChain()
	skip := session != nil && n.server.opts.ConnectionStateRecovery.SkipMiddlewares
	if !skip {
		for _, m := range mws {
			if err := runMiddleware(m, s); err != nil {
				if !c.isOpen() {
					return
				}
				n.writeConnectError(c, err)
				return
			}
		}
	}
	if !c.isOpen() {
		return
	}
	n.doConnect(s, session, handlers)
}

// runMiddleware calls m, turning a panic into an error so that a faulty
// middleware fails closed.
func runMiddleware(m Middleware, s *Socket) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.nsp.server.handlerPanic(v)
			err = errors.New("middleware failed")
		}
	}()
	return m(s)
}

func (n *Namespace) writeConnectError(c *client, err error) {
	body := map[string]any{"message": err.Error()}
	var ce *ConnectError
	if errors.As(err, &ce) && ce.Data != nil {
		body["data"] = ce.Data
	}
	data, merr := marshalJSON(body)
	if merr != nil {
		data = []byte(`{"message":"connection refused"}`)
	}
	c.write(encodePacket(&parser.Packet{Type: parser.ConnectError, Namespace: n.name, ID: -1, Data: data}), false)
}

func (n *Namespace) doConnect(s *Socket, session *Session, handlers []func(*Socket)) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
	n.server.active.Add(1)
	// The connection handlers run first on the socket's queue, after the
	// CONNECT reply, and before every event the client sends after it.
	s.queue.hold()
	s.queue.pushAlways(func() {
		for _, h := range handlers {
			h(s)
		}
	})
	if !s.client.add(s) {
		if n.remove(s) {
			n.server.active.Done()
		}
		return
	}
	if session != nil {
		n.adapter.AddAll(s.id, session.Rooms)
	}
	s.onConnect()
	if obs := n.server.opts.Observer; obs != nil {
		obs.SocketConnected(n.name)
	}
	if session != nil {
		for _, missed := range session.MissedPackets {
			s.writePacket(&parser.Packet{Type: parser.Event, Namespace: n.name, ID: -1, Data: missed.Data, Attachments: missed.Attachments}, false)
		}
	}
	s.queue.release()
}

// remove forgets a socket that disconnected and reports whether it was there.
func (n *Namespace) remove(s *Socket) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sockets[s.id] != s {
		return false
	}
	delete(n.sockets, s.id)
	return true
}

func (n *Namespace) operator() *BroadcastOperator {
	return &BroadcastOperator{nsp: n, flags: BroadcastFlags{Compress: true}}
}

// To returns an operator targeting sockets in rooms.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return n.operator().To(rooms...) }

// In is the same as To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.To(rooms...) }

// Except returns an operator targeting sockets not in rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator { return n.operator().Except(rooms...) }

// Local returns an operator restricted to this node.
func (n *Namespace) Local() *BroadcastOperator { return n.operator().Local() }

// Volatile returns an operator whose events are dropped for clients that cannot receive now.
func (n *Namespace) Volatile() *BroadcastOperator { return n.operator().Volatile() }

// Compress returns an operator with the compress hint set.
func (n *Namespace) Compress(compress bool) *BroadcastOperator {
	return n.operator().Compress(compress)
}

// Timeout returns an operator whose acknowledgements are awaited at most d.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.operator().Timeout(d) }

// Emit broadcasts an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.operator().Emit(event, args...) }

// EmitWithAck broadcasts an event and collects one acknowledgement per client.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Ack, error) {
	return n.operator().EmitWithAck(ctx, event, args...)
}

// Send broadcasts a "message" event.
func (n *Namespace) Send(args ...any) error { return n.operator().Emit("message", args...) }

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { n.operator().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { n.operator().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace.
func (n *Namespace) DisconnectSockets(close bool) { n.operator().DisconnectSockets(close) }

// FetchSockets returns every socket of the namespace, across nodes.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.operator().FetchSockets(ctx)
}

// AllSockets returns the ids of every socket of the namespace on this node.
func (n *Namespace) AllSockets() []string { return n.operator().AllSockets() }

// ServerSideEmit sends an event to the other nodes of the cluster (nothing
// is delivered on this node).
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	if isReservedServerEvent(event) {
		return &ReservedEventError{Name: event}
	}
	p, err := NewPayload(args...)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(context.Background(), event, p, nil)
}

// ServerSideEmitWithAck sends an event to the other nodes and waits for one
// answer per node, or ctx's end (ErrTimeout with the answers so far).
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Payload, error) {
	if isReservedServerEvent(event) {
		return nil, &ReservedEventError{Name: event}
	}
	p, err := NewPayload(args...)
	if err != nil {
		return nil, err
	}
	type result struct {
		answers []Payload
		err     error
	}
	ch := make(chan result, 1)
	if err := n.adapter.ServerSideEmit(ctx, event, p, func(a []Payload, err error) { ch <- result{a, err} }); err != nil {
		return nil, err
	}
	r := <-ch
	return r.answers, r.err
}

// OnServerSideEmit registers a handler for events other nodes send with ServerSideEmit.
func (n *Namespace) OnServerSideEmit(event string, h ServerSideHandler) {
	n.mu.Lock()
	if n.serverSide == nil {
		n.serverSide = make(map[string][]ServerSideHandler)
	}
	n.serverSide[event] = append(slices.Clone(n.serverSide[event]), h)
	n.mu.Unlock()
}

// HandleServerSideEmit delivers an event received from another node to the
// handlers registered with OnServerSideEmit; adapters call it.
func (n *Namespace) HandleServerSideEmit(event string, args Payload, ack func(Payload)) {
	n.mu.RLock()
	hs := n.serverSide[event]
	n.mu.RUnlock()
	for _, h := range hs {
		var reply func(args ...any)
		if ack != nil {
			reply = func(args ...any) {
				p, err := NewPayload(args...)
				if err != nil {
					n.server.log.Warn("server-side ack not encodable", "event", event, "err", err)
					return
				}
				ack(p)
			}
		}
		h(args, reply)
	}
}

// ParentNamespace is the parent of dynamic namespaces: its middleware and
// connection handlers apply to every child, and its broadcasts reach them all.
type ParentNamespace struct {
	server *Server
	allow  func(name string, auth map[string]any) bool
	// connectChain holds the middleware and connection handlers every child runs first.
	connectChain

	mu       sync.RWMutex
	children map[string]*Namespace
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Collect(maps.Values(p.children))
}

// Emit broadcasts an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, n := range p.Children() {
		if err := n.Emit(event, args...); err != nil {
			return fmt.Errorf("emit to %s: %w", n.name, err)
		}
	}
	return nil
}

func (p *ParentNamespace) addChild(n *Namespace) {
	p.mu.Lock()
	p.children[n.name] = n
	p.mu.Unlock()
}
