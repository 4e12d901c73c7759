package core

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edged-io/edged/core/parser"
	"github.com/edged-io/edged/host"
)

// Socket is one client connected to one namespace.
type Socket struct {
	id        string
	pid       string
	nsp       *Namespace
	client    *client
	auth      map[string]any
	handshake atomic.Pointer[Handshake] // built on first use
	recovered bool

	connected atomic.Bool
	closing   atomic.Bool

	mu   sync.Mutex // guards data and acks
	data any
	acks map[int64]func(*Ack, error)

	handlers listeners
	queue    serialQueue
}

func newSocket(nsp *Namespace, c *client, auth map[string]any, prev *Session) *Socket {
	s := &Socket{
		nsp:    nsp,
		client: c,
		auth:   auth,
	}
	s.queue.limit = int32(min(nsp.server.opts.MaxPendingEvents, math.MaxInt32))
	s.queue.onPanic = nsp.server.handlerPanic
	s.queue.reserve = nsp.server.opts.ReserveHandlerStack
	if prev != nil {
		s.id = prev.SID
		s.pid = prev.PID
		s.recovered = true
		if len(prev.Data) > 0 && string(prev.Data) != "null" {
			var v any
			if err := json.Unmarshal(prev.Data, &v); err == nil {
				s.data = v
			}
		}
	} else {
		s.id = nsp.server.newID()
		if nsp.server.opts.ConnectionStateRecovery != nil {
			s.pid = nsp.server.newID()
		}
	}
	return s
}

// ID returns the socket's public id (20 random url-safe characters).
func (s *Socket) ID() string { return s.id }

// Namespace returns the namespace the socket belongs to.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the details of the request that opened the connection.
// Every call returns the same value.
func (s *Socket) Handshake() *Handshake {
	if hs := s.handshake.Load(); hs != nil {
		return hs
	}
	// built on first use from the engine session, which keeps the request
	// anyway: most sockets never look at it
	hs := newHandshake(s.client.conn.Handshake(), s.auth)
	if !s.handshake.CompareAndSwap(nil, hs) {
		return s.handshake.Load()
	}
	return hs
}

// Conn returns the underlying Engine.IO session (transport name, upgrade state).
func (s *Socket) Conn() *host.Conn { return s.client.conn }

// Connected reports whether the socket is connected to its namespace.
func (s *Socket) Connected() bool { return s.connected.Load() && !s.closing.Load() }

// closed reports whether the socket finished disconnecting.
func (s *Socket) closed() bool { return s.closing.Load() && !s.connected.Load() }

// Recovered reports whether the socket's state was restored by connection state recovery.
func (s *Socket) Recovered() bool { return s.recovered }

// Data returns the socket's free-form data (socket.data).
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData replaces the socket's data; it must be JSON-serialisable to be seen
// by fetchSockets on other nodes and kept by connection state recovery.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
	s.track()
}

// track records the socket's rooms and data in the recovery store, so that a
// durable store can recover the socket even if the process dies.
func (s *Socket) track() {
	store := s.nsp.server.recoveryStore
	if store == nil || s.pid == "" || !s.Connected() {
		return
	}
	store.TrackSession(s.nsp.name, &Session{SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.dataJSON()})
}

func (s *Socket) dataJSON() json.RawMessage {
	data := s.Data()
	if data == nil {
		return nil
	}
	if raw, ok := data.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(data)
	if err != nil {
		s.nsp.server.log.Warn("socket data is not JSON-serialisable", "socket", s.id, "err", err)
		return nil
	}
	return b
}

// Rooms returns the rooms the socket is in, its own id room included.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	if s.closed() {
		return
	}
	s.nsp.adapter.AddAll(s.id, rooms)
	s.track()
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) {
	s.nsp.adapter.Del(s.id, room)
	s.track()
}

// On registers a handler for an event.
func (s *Socket) On(event string, h EventHandler) ListenerID { return s.handlers.on(event, h, false) }

// Once registers a handler that runs for the next occurrence of an event only.
func (s *Socket) Once(event string, h EventHandler) ListenerID { return s.handlers.on(event, h, true) }

// RemoveListener removes one handler of an event.
func (s *Socket) RemoveListener(event string, id ListenerID) { s.handlers.off(event, id) }

// RemoveAllListeners removes every handler of the given events, or of all events when none is given.
func (s *Socket) RemoveAllListeners(events ...string) { s.handlers.offAll(events) }

// EventNames lists the events that have handlers.
func (s *Socket) EventNames() []string { return s.handlers.names() }

// OnAny registers a catch-all handler for incoming events.
func (s *Socket) OnAny(h AnyHandler) ListenerID { return s.handlers.addAny(anyIncoming, h, false) }

// PrependAny registers a catch-all handler that runs before the others.
func (s *Socket) PrependAny(h AnyHandler) ListenerID {
	return s.handlers.addAny(anyIncoming, h, true)
}

// OffAny removes the given catch-all handlers, or all of them when none is given.
func (s *Socket) OffAny(ids ...ListenerID) { s.handlers.removeAny(anyIncoming, ids) }

// ListenersAny returns the catch-all handlers for incoming events.
func (s *Socket) ListenersAny() []AnyHandler { return s.handlers.anyHandlers(anyIncoming) }

// OnAnyOutgoing registers a catch-all handler for events sent to the client.
func (s *Socket) OnAnyOutgoing(h AnyHandler) ListenerID {
	return s.handlers.addAny(anyOutgoing, h, false)
}

// PrependAnyOutgoing registers an outgoing catch-all handler that runs before the others.
func (s *Socket) PrependAnyOutgoing(h AnyHandler) ListenerID {
	return s.handlers.addAny(anyOutgoing, h, true)
}

// OffAnyOutgoing removes the given outgoing catch-all handlers, or all when none is given.
func (s *Socket) OffAnyOutgoing(ids ...ListenerID) {
	s.handlers.removeAny(anyOutgoing, ids)
}

// ListenersAnyOutgoing returns the catch-all handlers for outgoing events.
func (s *Socket) ListenersAnyOutgoing() []AnyHandler {
	return s.handlers.anyHandlers(anyOutgoing)
}

// Use adds a per-packet middleware; an error it returns stops the event and
// reaches the handlers registered with OnError.
func (s *Socket) Use(m PacketMiddleware) { s.handlers.addMiddleware(m) }

// OnDisconnecting registers a handler that runs when the socket is about to
// disconnect, while its rooms are still visible.
func (s *Socket) OnDisconnecting(h func(reason string)) {
	s.handlers.addDisconnecting(h)
}

// OnDisconnect registers a handler that runs once the socket has disconnected.
func (s *Socket) OnDisconnect(h func(reason string)) {
	s.handlers.addDisconnect(h)
}

// OnError registers a handler for errors of the socket (packet middleware errors, parse errors).
func (s *Socket) OnError(h func(err error)) { s.handlers.addError(h) }

// Emit sends an event to the client; []byte arguments travel as binary.
func (s *Socket) Emit(event string, args ...any) error { return s.emitter().Emit(event, args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement or the end of ctx.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*Ack, error) {
	return s.emitter().EmitWithAck(ctx, event, args...)
}

// Send emits a "message" event.
func (s *Socket) Send(args ...any) error { return s.emitter().Emit("message", args...) }

// Volatile returns an emitter whose events are dropped when the transport cannot write now.
func (s *Socket) Volatile() *SocketEmitter { return s.emitter().Volatile() }

// Compress returns an emitter with the compress hint set.
func (s *Socket) Compress(compress bool) *SocketEmitter { return s.emitter().Compress(compress) }

// Timeout returns an emitter whose acknowledgements fail with ErrTimeout after d.
func (s *Socket) Timeout(d time.Duration) *SocketEmitter { return s.emitter().Timeout(d) }

func (s *Socket) emitter() *SocketEmitter {
	return &SocketEmitter{socket: s, flags: BroadcastFlags{Compress: true}}
}

// Broadcast returns an operator targeting every socket of the namespace but this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return s.nsp.operator().Except(s.id)
}

// To returns an operator targeting the rooms, without this socket.
func (s *Socket) To(rooms ...string) *BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is the same as To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except returns an operator targeting every socket but this one and those in rooms.
func (s *Socket) Except(rooms ...string) *BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Enqueue runs task on the socket's queue, after the events already received
// and before later ones, one at a time with its handlers. Use it to deliver
// results that arrive elsewhere (an ack callback, a timer) in socket order.
func (s *Socket) Enqueue(task func()) { s.queue.pushAlways(task) }

// Disconnect disconnects the socket from its namespace; with close it closes
// the whole underlying connection (every namespace of that client).
func (s *Socket) Disconnect(close bool) {
	if !s.Connected() {
		return
	}
	if close {
		s.client.disconnectAll()
		return
	}
	s.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name, ID: -1}, false)
	s.onClose(ReasonServerNamespaceDisconnect)
}

// onConnect completes the connection: the socket joins its own room and the
// client gets the CONNECT reply.
func (s *Socket) onConnect() {
	s.connected.Store(true)
	s.Join(s.id) // also tracks the session
	reply := struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{s.id, s.pid}
	data, _ := json.Marshal(reply)
	s.writePacket(&parser.Packet{Type: parser.Connect, Namespace: s.nsp.name, ID: -1, Data: data}, false)
}

// onPacket handles a packet from the client for this namespace.
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		name, args, err := parser.SplitEvent(p.Data)
		if err == nil && parser.IsReservedEvent(name) {
			// the reference decoder refuses these names from a client
			err = &ReservedEventError{Name: name}
		}
		if err != nil {
			s.client.closeWithParseError(err)
			return
		}
		e := &Event{Name: name, Args: Payload{Data: args, Attachments: p.Attachments}, Socket: s, ackID: p.ID}
		if p.ID >= 0 && s.nsp.server.opts.Observer != nil {
			e.received = time.Now()
		}
		if !s.queue.push(func() { s.dispatch(e) }) {
			s.nsp.server.log.Warn("socket event queue full, closing connection", "socket", s.id, "limit", s.queue.limit)
			s.client.conn.CloseNow(ReasonTransportError)
		}
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect)
	}
}

// dispatch runs catch-all handlers, packet middleware and the event handlers.
func (s *Socket) dispatch(e *Event) {
	if !s.Connected() {
		return
	}
	for _, h := range s.handlers.anyHandlers(anyIncoming) {
		h(e)
	}
	for _, m := range s.handlers.packetMiddlewares() {
		if err := m(e); err != nil {
			s.emitError(err)
			return
		}
	}
	if !s.Connected() {
		return
	}
	for _, h := range s.handlers.take(e.Name) {
		h(e)
	}
}

func (s *Socket) emitError(err error) {
	for _, h := range s.handlers.errorHandlers() {
		h(err)
	}
}

// onClose starts the disconnection of the socket; it is idempotent. Pending
// acknowledgements fail at once; the disconnecting and disconnect handlers run
// on the socket's queue after the events already received.
func (s *Socket) onClose(reason string) {
	if !s.connected.Load() || !s.closing.CompareAndSwap(false, true) {
		return
	}
	s.client.remove(s)
	s.failAcks(ErrDisconnected)
	s.queue.pushAlways(func() { s.finishClose(reason) })
}

func (s *Socket) finishClose(reason string) {
	for _, h := range s.handlers.disconnectingHandlers() {
		h(reason)
	}
	rooms := s.Rooms()
	s.nsp.adapter.DelAll(s.id)
	removed := s.nsp.remove(s)
	s.connected.Store(false)
	// persisted only now: a client recovering this session at once must not
	// have its restored rooms removed by the DelAll above
	if store := s.nsp.server.recoveryStore; store != nil && s.pid != "" {
		if isRecoverable(reason) {
			s.nsp.adapter.PersistSession(&Session{SID: s.id, PID: s.pid, Rooms: rooms, Data: s.dataJSON()})
		} else {
			store.DropSession(s.nsp.name, s.pid)
		}
	}
	if removed {
		if obs := s.nsp.server.opts.Observer; obs != nil {
			obs.SocketDisconnected(s.nsp.name, reason)
		}
		// Server.Close waits for this: the disconnect handlers have run.
		defer s.nsp.server.active.Done()
	}
	for _, h := range s.handlers.disconnectHandlers() {
		h(reason)
	}
}

// registerAck stores the callback for an ack id.
func (s *Socket) registerAck(id int64, cb func(*Ack, error)) {
	if obs := s.nsp.server.opts.Observer; obs != nil {
		sent, answered, nsp := time.Now(), cb, s.nsp.name
		cb = func(a *Ack, err error) {
			if err == nil {
				obs.ClientAckLatency(nsp, time.Since(sent))
			}
			answered(a, err)
		}
	}
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[int64]func(*Ack, error))
	}
	s.acks[id] = cb
	s.mu.Unlock()
}

// takeAck removes and returns the callback for an ack id.
func (s *Socket) takeAck(id int64) func(*Ack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.acks[id]
	delete(s.acks, id)
	return cb
}

func (s *Socket) onAck(p *parser.Packet) {
	if cb := s.takeAck(p.ID); cb != nil {
		cb(&Ack{SocketID: s.id, Payload: Payload{Data: p.Data, Attachments: p.Attachments}}, nil)
	}
}

func (s *Socket) failAcks(err error) {
	s.mu.Lock()
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, cb := range acks {
		cb(nil, err)
	}
}

// sendAck answers the client's ack id.
func (s *Socket) sendAck(id int64, p Payload) error {
	if !s.Connected() {
		return ErrDisconnected
	}
	data := p.Data
	if len(data) == 0 {
		data = json.RawMessage("[]")
	}
	s.writePacket(&parser.Packet{Type: parser.Ack, Namespace: s.nsp.name, ID: id, Data: data, Attachments: p.Attachments}, false)
	return nil
}

// writePacket encodes a packet and queues it on the connection.
func (s *Socket) writePacket(p *parser.Packet, volatile bool) {
	s.client.write(encodePacket(p), volatile)
}

// notifyOutgoing runs the outgoing catch-all handlers for an EVENT packet.
// It is called per recipient of a broadcast: without handlers (the common
// case) it is an atomic load, inlined.
func (s *Socket) notifyOutgoing(p *parser.Packet) {
	if s.handlers.outgoing.Load() != 0 {
		s.runOutgoing(p)
	}
}

func (s *Socket) runOutgoing(p *parser.Packet) {
	hs := s.handlers.anyHandlers(anyOutgoing)
	if len(hs) == 0 || (p.Type != parser.Event && p.Type != parser.BinaryEvent) {
		return
	}
	name, args, err := parser.SplitEvent(p.Data)
	if err != nil {
		return
	}
	e := &Event{Name: name, Args: Payload{Data: args, Attachments: p.Attachments}, ackID: -1}
	for _, h := range hs {
		h(e)
	}
}

// encodePacket turns a packet into the engine messages that carry it.
func encodePacket(p *parser.Packet) []host.Message {
	header, attachments := parser.Encode(p)
	msgs := make([]host.Message, 0, 1+len(attachments))
	msgs = append(msgs, host.Message{Data: header})
	for _, a := range attachments {
		msgs = append(msgs, host.Message{Data: a, Binary: true})
	}
	return msgs
}

// SocketEmitter emits to one socket with modifiers (volatile, compress, timeout).
type SocketEmitter struct {
	socket  *Socket
	flags   BroadcastFlags
	timeout time.Duration
}

func (e *SocketEmitter) with(f func(*SocketEmitter)) *SocketEmitter {
	c := *e
	f(&c)
	return &c
}

// Volatile marks the events as droppable when the transport cannot write now.
func (e *SocketEmitter) Volatile() *SocketEmitter {
	return e.with(func(c *SocketEmitter) { c.flags.Volatile = true })
}

// Compress sets the compress hint.
func (e *SocketEmitter) Compress(compress bool) *SocketEmitter {
	return e.with(func(c *SocketEmitter) { c.flags.Compress = compress })
}

// Timeout bounds the wait for the acknowledgement.
func (e *SocketEmitter) Timeout(d time.Duration) *SocketEmitter {
	return e.with(func(c *SocketEmitter) { c.timeout = d })
}

// Emit sends an event; []byte arguments travel as binary.
func (e *SocketEmitter) Emit(event string, args ...any) error {
	p, err := NewPayload(args...)
	if err != nil {
		return err
	}
	return e.EmitPayload(event, p)
}

// Send emits a "message" event.
func (e *SocketEmitter) Send(args ...any) error { return e.Emit("message", args...) }

// EmitPayload sends an event whose arguments are already in wire form.
func (e *SocketEmitter) EmitPayload(event string, args Payload) error {
	s := e.socket
	p, err := newEventPacket(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	if s.nsp.server.opts.ConnectionStateRecovery != nil {
		// through the adapter so that the packet gets an offset and is kept for recovery
		return s.nsp.adapter.Broadcast(p, BroadcastOptions{Rooms: []string{s.id}, Flags: e.flags})
	}
	s.notifyOutgoing(p)
	s.writePacket(p, e.flags.Volatile)
	return nil
}

// EmitWithAck sends an event and waits for the acknowledgement, the emitter's
// timeout (ErrTimeout) or the end of ctx.
func (e *SocketEmitter) EmitWithAck(ctx context.Context, event string, args ...any) (*Ack, error) {
	p, err := NewPayload(args...)
	if err != nil {
		return nil, err
	}
	type result struct {
		ack *Ack
		err error
	}
	ch := make(chan result, 1)
	if err := e.EmitPayloadWithAck(event, p, func(a *Ack, err error) { ch <- result{a, err} }); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.ack, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for ack of %q: %w", event, ctx.Err())
	}
}

// EmitPayloadWithAck sends an event and calls cb once with the client's
// answer, ErrTimeout after the emitter's timeout, or ErrDisconnected. cb runs
// on the connection's read path or a timer: it must not block.
func (e *SocketEmitter) EmitPayloadWithAck(event string, args Payload, cb func(*Ack, error)) error {
	s := e.socket
	if !s.Connected() {
		return ErrDisconnected
	}
	p, err := newEventPacket(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	p.ID = s.nsp.nextAckID()
	var once sync.Once
	call := func(a *Ack, err error) { once.Do(func() { cb(a, err) }) }
	if e.timeout > 0 {
		id := p.ID
		timer := time.AfterFunc(e.timeout, func() {
			if s.takeAck(id) != nil {
				call(nil, ErrTimeout)
			}
		})
		s.registerAck(id, func(a *Ack, err error) { timer.Stop(); call(a, err) })
	} else {
		s.registerAck(p.ID, call)
	}
	s.notifyOutgoing(p)
	s.writePacket(p, e.flags.Volatile)
	return nil
}

// EmitPayload sends an event whose arguments are already in wire form.
func (s *Socket) EmitPayload(event string, args Payload) error {
	return s.emitter().EmitPayload(event, args)
}
