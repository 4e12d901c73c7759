package core

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RecoveryStore keeps what connection state recovery needs: the recent
// packets sent to rooms, each with an offset, and the sessions of sockets.
// The default keeps them in memory; package store keeps them in Badger so
// that they survive a restart. Methods must be safe for concurrent use.
type RecoveryStore interface {
	// AddPacket keeps an EVENT payload broadcast with opts in namespace nsp
	// and returns the payload's data with its new offset appended as last
	// argument (see AppendOffset).
	AddPacket(nsp string, args Payload, opts BroadcastOptions) (json.RawMessage, error)
	// TrackSession records the current rooms and data of a connected socket,
	// so that a store that outlives the process can recover it after a crash.
	TrackSession(nsp string, s *Session)
	// PersistSession keeps the session of a socket that disconnected for a
	// recoverable reason.
	PersistSession(nsp string, s *Session)
	// DropSession forgets the session of a socket that will not come back.
	DropSession(nsp, pid string)
	// RestoreSession returns and forgets the session pid with the packets it
	// missed after offset, or nil when it cannot be recovered.
	RestoreSession(nsp, pid, offset string) (*Session, error)
}

// AppendOffset returns a copy of the JSON array data with offset appended as
// a string, the form in which clients receive recoverable packets.
func AppendOffset(data json.RawMessage, offset string) json.RawMessage {
	quoted, _ := json.Marshal(offset)
	return appendToArray(data, quoted)
}

// WasRecipient reports whether a socket in sessionRooms was a recipient of a
// broadcast to rooms (all when empty) except those in except.
func WasRecipient(sessionRooms, rooms, except []string) bool {
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

// memoryRecoveryStore is the in-memory RecoveryStore: one bounded buffer per namespace.
type memoryRecoveryStore struct {
	maxAge     time.Duration
	maxPackets int

	mu      sync.Mutex
	buffers map[string]*recoveryBuffer
}

func newMemoryRecoveryStore(o *RecoveryOptions) *memoryRecoveryStore {
	return &memoryRecoveryStore{maxAge: o.MaxDisconnectionDuration, maxPackets: o.MaxPackets, buffers: make(map[string]*recoveryBuffer)}
}

func (m *memoryRecoveryStore) buffer(nsp string) *recoveryBuffer {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buffers[nsp]
	if b == nil {
		b = newRecoveryBuffer(m.maxAge, m.maxPackets)
		m.buffers[nsp] = b
	}
	return b
}

func (m *memoryRecoveryStore) AddPacket(nsp string, args Payload, opts BroadcastOptions) (json.RawMessage, error) {
	return m.buffer(nsp).add(args.Data, args.Attachments, opts), nil
}

// TrackSession does nothing: live sessions die with the process anyway.
func (m *memoryRecoveryStore) TrackSession(string, *Session) {}

func (m *memoryRecoveryStore) PersistSession(nsp string, s *Session) { m.buffer(nsp).persist(s) }

// DropSession does nothing: only disconnected sessions are kept.
func (m *memoryRecoveryStore) DropSession(string, string) {}

func (m *memoryRecoveryStore) RestoreSession(nsp, pid, offset string) (*Session, error) {
	return m.buffer(nsp).restore(pid, offset), nil
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
	withOffset := AppendOffset(data, offset)
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
		if WasRecipient(s.Rooms, p.rooms, p.except) {
			s.MissedPackets = append(s.MissedPackets, p.payload)
		}
	}
	return &s
}
