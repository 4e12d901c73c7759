package core

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edged-io/edged/core/parser"
)

// MemoryAdapter keeps the rooms of one namespace in memory and delivers to
// the sockets of this node. With connection state recovery on it also keeps
// disconnected sessions and a bounded buffer of recent packets.
type MemoryAdapter struct {
	nsp *Namespace

	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room -> socket ids
	sids  map[string]map[string]struct{} // socket id -> rooms

	recovery *recoveryBuffer // nil when recovery is off
}

// NewMemoryAdapter creates the in-memory adapter of a namespace.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	a := &MemoryAdapter{
		nsp:   nsp,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string]map[string]struct{}),
	}
	if rec := nsp.server.opts.ConnectionStateRecovery; rec != nil {
		a.recovery = newRecoveryBuffer(rec.MaxDisconnectionDuration, rec.MaxPackets)
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
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.sids[id] = mine
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
		members := a.rooms[r]
		if members == nil {
			members = make(map[string]struct{})
			a.rooms[r] = members
		}
		members[id] = struct{}{}
	}
}

// Del removes a socket from a room.
func (a *MemoryAdapter) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.sids[id]; mine != nil {
		delete(mine, room)
	}
	a.delMember(room, id)
}

func (a *MemoryAdapter) delMember(room, id string) {
	if members := a.rooms[room]; members != nil {
		delete(members, id)
		if len(members) == 0 {
			delete(a.rooms, room)
		}
	}
}

// DelAll removes a socket from every room.
func (a *MemoryAdapter) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for r := range a.sids[id] {
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
	out := make([]string, 0, len(a.sids[id]))
	for r := range a.sids[id] {
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
			if _, ok := a.rooms[r][id]; ok {
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
		ids = make([]string, 0, len(members))
		for id := range members {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	seen := make(map[string]struct{})
	for _, r := range opts.Rooms {
		for id := range a.rooms[r] {
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
	for _, id := range a.matching(opts) {
		if s := a.nsp.Socket(id); s != nil {
			fn(s)
		}
	}
}

// Broadcast encodes the packet once and queues it to every selected socket.
// With recovery on, a non-volatile EVENT without ack gets an offset appended
// to its arguments and is kept in the recovery buffer.
func (a *MemoryAdapter) Broadcast(p *parser.Packet, opts BroadcastOptions) error {
	p.Namespace = a.nsp.name
	if a.recovery != nil && p.Type == parser.Event && p.ID < 0 && !opts.Flags.Volatile {
		q := *p
		q.Data = a.recovery.add(p.Data, p.Attachments, opts)
		p = &q
	}
	msgs := encodePacket(p)
	a.apply(opts, func(s *Socket) {
		s.notifyOutgoing(p)
		s.client.write(msgs, opts.Flags.Volatile)
	})
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
	clientCount(n)
	return nil
}

// LocalSocketDetails returns the details of the selected local sockets.
func (a *MemoryAdapter) LocalSocketDetails(opts BroadcastOptions) []SocketDetails {
	var out []SocketDetails
	a.apply(opts, func(s *Socket) {
		out = append(out, SocketDetails{ID: s.id, Handshake: s.handshake, Rooms: s.Rooms(), Data: s.dataJSON()})
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

// PersistSession keeps a session for recovery.
func (a *MemoryAdapter) PersistSession(s *Session) {
	if a.recovery != nil {
		a.recovery.persist(s)
	}
}

// RestoreSession returns a kept session with the packets it missed after offset.
func (a *MemoryAdapter) RestoreSession(pid, offset string) (*Session, error) {
	if a.recovery == nil {
		return nil, nil
	}
	return a.recovery.restore(pid, offset), nil
}

// recoveryBuffer keeps disconnected sessions and recent packets, bounded by
// age (maxAge) and count (maxPackets).
type recoveryBuffer struct {
	maxAge     time.Duration
	maxPackets int
	prefix     string
	counter    atomic.Uint64
	now        func() time.Time // the clock; replaced in tests

	mu       sync.Mutex
	sessions map[string]*keptSession
	packets  []keptPacket
}

type keptSession struct {
	Session
	disconnectedAt time.Time
}

type keptPacket struct {
	offset    string
	rooms     []string
	except    []string
	payload   Payload
	emittedAt time.Time
}

func newRecoveryBuffer(maxAge time.Duration, maxPackets int) *recoveryBuffer {
	return &recoveryBuffer{
		maxAge:     maxAge,
		maxPackets: maxPackets,
		prefix:     strconv.FormatInt(time.Now().UnixNano(), 36) + "-",
		sessions:   make(map[string]*keptSession),
		now:        time.Now,
	}
}

// add stores an EVENT payload under a new offset and returns the payload with
// the offset appended as last argument.
func (b *recoveryBuffer) add(data json.RawMessage, attachments [][]byte, opts BroadcastOptions) json.RawMessage {
	offset := b.prefix + strconv.FormatUint(b.counter.Add(1), 36)
	quoted, _ := json.Marshal(offset)
	withOffset := appendToArray(data, quoted)
	now := b.now()
	b.mu.Lock()
	b.packets = append(b.packets, keptPacket{
		offset: offset, rooms: opts.Rooms, except: opts.Except,
		payload: Payload{Data: withOffset, Attachments: attachments}, emittedAt: now,
	})
	b.expireLocked(now)
	b.mu.Unlock()
	return withOffset
}

func (b *recoveryBuffer) expireLocked(now time.Time) {
	threshold := now.Add(-b.maxAge)
	drop := 0
	for drop < len(b.packets) && (b.packets[drop].emittedAt.Before(threshold) || len(b.packets)-drop > b.maxPackets) {
		drop++
	}
	if drop > 0 {
		clear(b.packets[:drop])
		b.packets = b.packets[drop:]
	}
	for pid, s := range b.sessions {
		if s.disconnectedAt.Before(threshold) {
			delete(b.sessions, pid)
		}
	}
}

func (b *recoveryBuffer) persist(s *Session) {
	now := b.now()
	b.mu.Lock()
	b.sessions[s.PID] = &keptSession{Session: *s, disconnectedAt: now}
	b.expireLocked(now)
	b.mu.Unlock()
}

func (b *recoveryBuffer) restore(pid, offset string) *Session {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked(now)
	kept, ok := b.sessions[pid]
	if !ok {
		return nil
	}
	delete(b.sessions, pid)
	idx := slices.IndexFunc(b.packets, func(p keptPacket) bool { return p.offset == offset })
	if idx < 0 {
		return nil
	}
	s := kept.Session
	s.MissedPackets = nil
	for _, p := range b.packets[idx+1:] {
		if includes(s.Rooms, p.rooms, p.except) {
			s.MissedPackets = append(s.MissedPackets, p.payload)
		}
	}
	return &s
}

// includes reports whether a socket in sessionRooms was a recipient of a
// broadcast to rooms except except.
func includes(sessionRooms, rooms, except []string) bool {
	in := len(rooms) == 0
	for _, r := range sessionRooms {
		if slices.Contains(except, r) {
			return false
		}
		if !in && slices.Contains(rooms, r) {
			in = true
		}
	}
	return in
}
