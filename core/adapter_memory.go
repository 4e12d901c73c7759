package core

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/edged-io/edged/core/parser"
)

// MemoryAdapter keeps the rooms of one namespace in memory and delivers to
// the sockets of this node. With connection state recovery on it also keeps
// disconnected sessions and a bounded buffer of recent packets.
type MemoryAdapter struct {
	nsp *Namespace

	// rooms and sids hold the socket of each id once known, so that a
	// broadcast reaches its recipients without looking each one up.
	mu    sync.RWMutex
	rooms map[string]smallSet[*Socket] // room -> socket ids (and sockets)
	sids  map[string]socketRooms       // socket id -> rooms

	recovery RecoveryStore // nil when recovery is off
}

// NewMemoryAdapter creates the in-memory adapter of a namespace.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	a := &MemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]smallSet[*Socket]),
		sids:  make(map[string]socketRooms),
	}
	if nsp.server.opts.ConnectionStateRecovery != nil {
		a.recovery = nsp.server.recoveryStore
	}
	return a
}

// Init does nothing for the in-memory adapter.
func (a *MemoryAdapter) Init(context.Context) error { return nil }

// Close does nothing for the in-memory adapter.
func (a *MemoryAdapter) Close() error { return nil }

// socketRooms is what the adapter knows of one socket id.
type socketRooms struct {
	// sock is the local socket with the id; nil while the namespace has
	// none (a socket that joins in a middleware is not added yet).
	sock  *Socket
	rooms smallSet[struct{}]
}

// AddAll adds a socket to rooms.
func (a *MemoryAdapter) AddAll(id string, rooms []string) {
	sock := a.nsp.Socket(id) // before a.mu: the namespace lock is never held inside it for writing
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	if sock != nil && sock != mine.sock {
		// the socket is local now (or a recovered one took the id): the
		// rooms it joined before must lead to it
		mine.sock = sock
		for r := range mine.rooms.all() {
			members := a.rooms[r]
			members.set(id, sock)
			a.rooms[r] = members
		}
	}
	created := 0
	for _, r := range rooms {
		mine.rooms.set(r, struct{}{})
		members, ok := a.rooms[r]
		if !ok {
			created++
		}
		members.set(id, mine.sock)
		a.rooms[r] = members
	}
	a.sids[id] = mine
	if obs := a.nsp.server.opts.Observer; obs != nil && created > 0 {
		obs.RoomsChanged(a.nsp.name, created)
	}
}

// Del removes a socket from a room.
func (a *MemoryAdapter) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine, ok := a.sids[id]; ok && mine.rooms.del(room) {
		a.sids[id] = mine
	}
	a.delMember(room, id)
}

func (a *MemoryAdapter) delMember(room, id string) {
	members, ok := a.rooms[room]
	if !ok || !members.del(id) {
		return
	}
	if members.len() > 0 {
		a.rooms[room] = members
		return
	}
	delete(a.rooms, room)
	if obs := a.nsp.server.opts.Observer; obs != nil {
		obs.RoomsChanged(a.nsp.name, -1)
	}
}

// DelAll removes a socket from every room.
func (a *MemoryAdapter) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	for r := range mine.rooms.all() {
		a.delMember(r, id)
	}
	delete(a.sids, id)
}

// Rooms lists the rooms that have members.
func (a *MemoryAdapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

// Sockets returns the ids of sockets in any of rooms, or of all sockets when rooms is empty.
func (a *MemoryAdapter) Sockets(rooms []string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var ids []string
	a.each(BroadcastOptions{Rooms: rooms}, func(id string, _ *Socket) { ids = append(ids, id) })
	return ids
}

// SocketRooms returns the rooms of a socket.
func (a *MemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine := a.sids[id]
	out := make([]string, 0, mine.rooms.len())
	for r := range mine.rooms.all() {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// maxInlineRooms bounds the rooms (or except rooms) of a selection that are
// checked by lookups in the others; more use a map of the ids seen.
const maxInlineRooms = 8

// each calls fn, with a.mu held for reading, once for every socket id
// selected by opts, with the socket when the adapter knows it. It builds no
// set for the common selections: a room or all sockets, with up to
// maxInlineRooms rooms and except rooms.
func (a *MemoryAdapter) each(opts BroadcastOptions, fn func(id string, s *Socket)) {
	var exceptBuf [maxInlineRooms]smallSet[*Socket]
	except := exceptBuf[:0]
	var exceptMap map[string]struct{} // beyond maxInlineRooms except rooms
	for _, r := range opts.Except {
		members, ok := a.rooms[r]
		if !ok {
			continue
		}
		if len(except) < maxInlineRooms {
			except = append(except, members)
			continue
		}
		if exceptMap == nil {
			exceptMap = make(map[string]struct{})
		}
		for id := range members.all() {
			exceptMap[id] = struct{}{}
		}
	}
	excluded := func(id string) bool {
		for i := range except {
			if except[i].has(id) {
				return true
			}
		}
		_, ok := exceptMap[id]
		return ok
	}

	if len(opts.Rooms) == 0 {
		for id, mine := range a.sids {
			if !excluded(id) {
				fn(id, mine.sock)
			}
		}
		return
	}
	var roomBuf [maxInlineRooms]smallSet[*Socket]
	rooms := roomBuf[:0]
	for _, r := range opts.Rooms {
		if members, ok := a.rooms[r]; ok {
			rooms = append(rooms, members)
		}
	}
	var seen map[string]struct{} // beyond maxInlineRooms rooms
	if len(rooms) > maxInlineRooms {
		seen = make(map[string]struct{})
	}
	for i := range rooms {
		for id, s := range rooms[i].all() {
			if seen != nil {
				if _, dup := seen[id]; dup {
					continue
				}
				seen[id] = struct{}{}
			} else if inAny(rooms[:i], id) {
				continue // delivered with an earlier room
			}
			if !excluded(id) {
				fn(id, s)
			}
		}
	}
}

func inAny(sets []smallSet[*Socket], id string) bool {
	for i := range sets {
		if sets[i].has(id) {
			return true
		}
	}
	return false
}

// selected returns the local sockets selected by opts in a pooled slice;
// give it back with putSockets. The callers deliver without the adapter's
// lock (a delivery may disconnect the socket).
func (a *MemoryAdapter) selected(opts BroadcastOptions) *[]*Socket {
	sp := socketSlices.Get().(*[]*Socket)
	socks := (*sp)[:0]
	nspLocked := false
	a.mu.RLock()
	a.each(opts, func(id string, s *Socket) {
		if s == nil {
			// not local when it joined: look it up (lock order adapter, then namespace)
			if !nspLocked {
				a.nsp.mu.RLock()
				nspLocked = true
			}
			s = a.nsp.sockets[id]
		}
		if s != nil && !s.closed() {
			socks = append(socks, s)
		}
	})
	if nspLocked {
		a.nsp.mu.RUnlock()
	}
	a.mu.RUnlock()
	*sp = socks
	return sp
}

// putSockets returns a slice from selected to the pool.
func putSockets(sp *[]*Socket) {
	clear(*sp)
	if cap(*sp) <= 1<<16 {
		*sp = (*sp)[:0]
		socketSlices.Put(sp)
	}
}

var socketSlices = sync.Pool{New: func() any { return new([]*Socket) }}

// apply calls fn for every local socket selected by opts.
func (a *MemoryAdapter) apply(opts BroadcastOptions, fn func(*Socket)) {
	sp := a.selected(opts)
	for _, s := range *sp {
		fn(s)
	}
	putSockets(sp)
}

// Broadcast encodes the packet once and queues it to every selected socket.
// With recovery on, a non-volatile EVENT without ack gets an offset appended
// to its arguments and is kept in the recovery buffer.
func (a *MemoryAdapter) Broadcast(p *parser.Packet, opts BroadcastOptions) error {
	p.Namespace = a.nsp.name
	if a.recovery != nil && p.Type == parser.Event && p.ID < 0 && !opts.Flags.Volatile {
		data, err := a.recovery.AddPacket(a.nsp.name, Payload{Data: p.Data, Attachments: p.Attachments}, opts)
		if err != nil {
			return fmt.Errorf("keep packet for recovery: %w", err)
		}
		q := *p
		q.Data = data
		p = &q
	}
	msgs := encodePacket(p)
	sp := a.selected(opts)
	for _, s := range *sp {
		s.notifyOutgoing(p)
		s.client.write(msgs, opts.Flags.Volatile)
	}
	n := len(*sp)
	putSockets(sp)
	if obs := a.nsp.server.opts.Observer; obs != nil {
		obs.Broadcast(a.nsp.name, n)
	}
	return nil
}

// BroadcastWithAck sends a packet with a fresh ack id to every selected socket
// and registers ack for each; clientCount gets the number of recipients.
func (a *MemoryAdapter) BroadcastWithAck(p *parser.Packet, opts BroadcastOptions, clientCount func(int), ack func(*Ack)) error {
	p.Namespace = a.nsp.name
	p.ID = a.nsp.nextAckID()
	msgs := encodePacket(p)
	answered := func(r *Ack, err error) {
		if err == nil {
			ack(r)
		}
	}
	sp := a.selected(opts)
	for _, s := range *sp {
		s.registerAck(p.ID, answered)
		s.notifyOutgoing(p)
		s.client.write(msgs, opts.Flags.Volatile)
	}
	n := len(*sp)
	putSockets(sp)
	if obs := a.nsp.server.opts.Observer; obs != nil {
		obs.Broadcast(a.nsp.name, n)
	}
	clientCount(n)
	return nil
}

// LocalSocketDetails returns the details of the selected local sockets.
func (a *MemoryAdapter) LocalSocketDetails(opts BroadcastOptions) []SocketDetails {
	var out []SocketDetails
	a.apply(opts, func(s *Socket) {
		out = append(out, SocketDetails{ID: s.id, Handshake: s.Handshake(), Rooms: s.Rooms(), Data: s.dataJSON()})
	})
	return out
}

// FetchSockets returns the selected local sockets.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketDetails, error) {
	return a.LocalSocketDetails(opts), nil
}

// AddSockets makes the selected sockets join rooms.
func (a *MemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	a.apply(opts, func(s *Socket) { s.Join(rooms...) })
}

// DelSockets makes the selected sockets leave rooms.
func (a *MemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	a.apply(opts, func(s *Socket) {
		for _, r := range rooms {
			s.Leave(r)
		}
	})
}

// DisconnectSockets disconnects the selected sockets.
func (a *MemoryAdapter) DisconnectSockets(opts BroadcastOptions, close bool) {
	a.apply(opts, func(s *Socket) { s.Disconnect(close) })
}

// ServerSideEmit has no other node to reach: an ack gets no answers at once.
func (a *MemoryAdapter) ServerSideEmit(_ context.Context, _ string, _ Payload, ack func([]Payload, error)) error {
	if ack != nil {
		ack([]Payload{}, nil)
	}
	return nil
}

// ServerCount is 1: this node.
func (a *MemoryAdapter) ServerCount(context.Context) (int, error) { return 1, nil }

// PersistSession keeps a session for recovery in the server's RecoveryStore.
func (a *MemoryAdapter) PersistSession(s *Session) {
	if a.recovery != nil {
		a.recovery.PersistSession(a.nsp.name, s)
	}
}

// RestoreSession returns a kept session with the packets it missed after offset.
func (a *MemoryAdapter) RestoreSession(pid, offset string) (*Session, error) {
	if a.recovery == nil {
		return nil, nil
	}
	return a.recovery.RestoreSession(a.nsp.name, pid, offset)
}
