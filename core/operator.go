package core

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// BroadcastOperator selects sockets of a namespace (rooms, exceptions, this
// node only) and emits to them or applies a utility operation. Its methods
// return modified copies, so operators can be shared and chained.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  BroadcastFlags
}

func (o *BroadcastOperator) with(f func(*BroadcastOperator)) *BroadcastOperator {
	c := *o
	c.rooms = slices.Clone(o.rooms)
	c.except = slices.Clone(o.except)
	f(&c)
	return &c
}

// To adds rooms to target; a socket in any of them is a recipient.
func (o *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	return o.with(func(c *BroadcastOperator) { c.rooms = appendUnique(c.rooms, rooms) })
}

// In is the same as To.
func (o *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return o.To(rooms...) }

// Except excludes sockets in any of rooms.
func (o *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	return o.with(func(c *BroadcastOperator) { c.except = appendUnique(c.except, rooms) })
}

// Local restricts the operation to this node.
func (o *BroadcastOperator) Local() *BroadcastOperator {
	return o.with(func(c *BroadcastOperator) { c.flags.Local = true })
}

// Volatile drops the event for clients whose transport cannot write now.
func (o *BroadcastOperator) Volatile() *BroadcastOperator {
	return o.with(func(c *BroadcastOperator) { c.flags.Volatile = true })
}

// Compress sets the compress hint.
func (o *BroadcastOperator) Compress(compress bool) *BroadcastOperator {
	return o.with(func(c *BroadcastOperator) { c.flags.Compress = compress })
}

// Timeout bounds the wait for acknowledgements of EmitWithAck.
func (o *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	return o.with(func(c *BroadcastOperator) { c.flags.Timeout = d })
}

func appendUnique(dst, add []string) []string {
	for _, r := range add {
		if !slices.Contains(dst, r) {
			dst = append(dst, r)
		}
	}
	return dst
}

// Options returns the selection as adapter options.
func (o *BroadcastOperator) Options() BroadcastOptions {
	return BroadcastOptions{Rooms: o.rooms, Except: o.except, Flags: o.flags}
}

// Emit sends an event to every selected socket; the packet is encoded once.
func (o *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := NewPayload(args...)
	if err != nil {
		return err
	}
	return o.EmitPayload(event, p)
}

// Send emits a "message" event.
func (o *BroadcastOperator) Send(args ...any) error { return o.Emit("message", args...) }

// EmitPayload sends an event whose arguments are already in wire form.
func (o *BroadcastOperator) EmitPayload(event string, args Payload) error {
	if isReservedServerEvent(event) {
		return &ReservedEventError{Name: event}
	}
	p, err := newEventPacket(o.nsp.name, event, args)
	if err != nil {
		return err
	}
	return o.nsp.adapter.Broadcast(p, o.Options())
}

// EmitWithAck sends an event asking every selected client for an
// acknowledgement and returns the answers once all arrived. If the operator's
// timeout (or ctx) ends first, it returns the answers so far with ErrTimeout.
func (o *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Ack, error) {
	p, err := NewPayload(args...)
	if err != nil {
		return nil, err
	}
	type result struct {
		acks []*Ack
		err  error
	}
	ch := make(chan result, 1)
	err = o.EmitPayloadWithAck(event, p, func(acks []*Ack, err error) { ch <- result{acks, err} })
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.acks, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for acks of %q: %w", event, ctx.Err())
	}
}

// EmitPayloadWithAck sends an event asking every selected client for an
// acknowledgement; done is called once with every answer, or with the answers
// so far and ErrTimeout when the operator's timeout ends first.
func (o *BroadcastOperator) EmitPayloadWithAck(event string, args Payload, done func([]*Ack, error)) error {
	if isReservedServerEvent(event) {
		return &ReservedEventError{Name: event}
	}
	p, err := newEventPacket(o.nsp.name, event, args)
	if err != nil {
		return err
	}
	servers := 1
	if !o.flags.Local {
		if n, err := o.nsp.adapter.ServerCount(context.Background()); err == nil && n > 0 {
			servers = n
		}
	}
	w := &ackWaiter{servers: servers, done: done}
	if o.flags.Timeout > 0 {
		w.timer = time.AfterFunc(o.flags.Timeout, func() { w.finish(ErrTimeout) })
	}
	if err := o.nsp.adapter.BroadcastWithAck(p, o.Options(), w.clientCount, w.ack); err != nil {
		w.finish(err)
		return nil
	}
	return nil
}

// ackWaiter collects the acknowledgements of a broadcast.
type ackWaiter struct {
	mu       sync.Mutex
	servers  int
	counts   int
	expected int
	acks     []*Ack
	finished bool
	timer    *time.Timer
	done     func([]*Ack, error)
}

func (w *ackWaiter) clientCount(n int) {
	w.mu.Lock()
	w.counts++
	w.expected += n
	w.mu.Unlock()
	w.check()
}

func (w *ackWaiter) ack(a *Ack) {
	w.mu.Lock()
	if !w.finished {
		w.acks = append(w.acks, a)
	}
	w.mu.Unlock()
	w.check()
}

func (w *ackWaiter) check() {
	w.mu.Lock()
	complete := w.counts >= w.servers && len(w.acks) >= w.expected
	w.mu.Unlock()
	if complete {
		w.finish(nil)
	}
}

func (w *ackWaiter) finish(err error) {
	w.mu.Lock()
	if w.finished {
		w.mu.Unlock()
		return
	}
	w.finished = true
	acks := w.acks
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.done(acks, err)
}

// SocketsJoin makes the selected sockets join rooms.
func (o *BroadcastOperator) SocketsJoin(rooms ...string) {
	o.nsp.adapter.AddSockets(o.Options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms.
func (o *BroadcastOperator) SocketsLeave(rooms ...string) {
	o.nsp.adapter.DelSockets(o.Options(), rooms)
}

// DisconnectSockets disconnects the selected sockets; close also closes their connections.
func (o *BroadcastOperator) DisconnectSockets(close bool) {
	o.nsp.adapter.DisconnectSockets(o.Options(), close)
}

// FetchSockets returns the selected sockets, across nodes.
func (o *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	details, err := o.nsp.adapter.FetchSockets(ctx, o.Options())
	if err != nil {
		return nil, fmt.Errorf("fetch sockets: %w", err)
	}
	out := make([]*RemoteSocket, len(details))
	for i, d := range details {
		out[i] = &RemoteSocket{nsp: o.nsp, SocketDetails: d}
	}
	return out, nil
}

// AllSockets returns the ids of the selected sockets on this node.
func (o *BroadcastOperator) AllSockets() []string {
	ids := o.nsp.adapter.Sockets(o.rooms)
	if len(o.except) == 0 {
		return ids
	}
	excluded := o.nsp.adapter.Sockets(o.except)
	return slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(excluded, id) })
}

// RemoteSocket is a socket returned by FetchSockets, possibly on another
// node: its details, and operations that reach it wherever it is.
type RemoteSocket struct {
	SocketDetails
	nsp *Namespace
}

func (r *RemoteSocket) op() *BroadcastOperator { return r.nsp.operator().To(r.ID) }

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error { return r.op().Emit(event, args...) }

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) { r.op().SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.op().SocketsLeave(rooms...) }

// Disconnect disconnects the socket; close also closes its connection.
func (r *RemoteSocket) Disconnect(close bool) { r.op().DisconnectSockets(close) }
