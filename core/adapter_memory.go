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

	mu    sync.RWMutex
	rooms map[string]smallSet[struct{}] // room -> socket ids
	sids  map[string]smallSet[struct{}] // socket id -> rooms

	recovery RecoveryStore // nil when recovery is off
}

// NewMemoryAdapter creates the in-memory adapter of a namespace.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	a := &MemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]smallSet[struct{}]),
		sids:  make(map[string]smallSet[struct{}]),
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

// AddAll adds a socket to rooms.
func (a *MemoryAdapter) AddAll(id string, rooms []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[id]
	created := 0
	for _, r := range rooms {
		mine.set(r, struct{}{})
		members, ok := a.rooms[r]
		if !ok {
			created++
		}
		members.set(id, struct{}{})
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
	if mine, ok := a.sids[id]; ok && mine.del(room) {
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
	for r := range mine.all() {
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
	return a.matching(BroadcastOptions{Rooms: rooms})
}

// SocketRooms returns the rooms of a socket.
func (a *MemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine := a.sids[id]
	out := make([]string, 0, mine.len())
	for r := range mine.all() {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// matching returns the ids of sockets selected by opts.
func (a *MemoryAdapter) matching(opts BroadcastOptions) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if members, ok := a.rooms[r]; ok && members.has(id) {
				return true
			}
		}
		return false
	}
	var ids []string
	if len(opts.Rooms) == 0 {
		ids = make([]string, 0, len(a.sids))
		for id := range a.sids {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	if len(opts.Rooms) == 1 {
		members := a.rooms[opts.Rooms[0]]
		ids = make([]string, 0, members.len())
		for id := range members.all() {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	seen := make(map[string]struct{})
	for _, r := range opts.Rooms {
		members := a.rooms[r]
		for id := range members.all() {
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// apply calls fn for every local socket selected by opts.
func (a *MemoryAdapter) apply(opts BroadcastOptions, fn func(*Socket)) {
	ids := a.matching(opts)
	// one namespace lock per broadcast, not one per recipient; fn runs
	// without it (it may disconnect the socket)
	sp := socketSlices.Get().(*[]*Socket)
	socks := (*sp)[:0]
	a.nsp.mu.RLock()
	for _, id := range ids {
		if s := a.nsp.sockets[id]; s != nil {
			socks = append(socks, s)
		}
	}
	a.nsp.mu.RUnlock()
	for _, s := range socks {
		fn(s)
	}
	clear(socks)
	if cap(socks) <= 1<<16 {
		*sp = socks[:0]
		socketSlices.Put(sp)
	}
}

var socketSlices = sync.Pool{New: func() any { return new([]*Socket) }}

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
	n := 0
	a.apply(opts, func(s *Socket) {
		n++
		s.notifyOutgoing(p)
		s.client.write(msgs, opts.Flags.Volatile)
	})
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
	n := 0
	a.apply(opts, func(s *Socket) {
		n++
		s.registerAck(p.ID, func(r *Ack, err error) {
			if err == nil {
				ack(r)
			}
		})
		s.notifyOutgoing(p)
		s.client.write(msgs, opts.Flags.Volatile)
	})
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
