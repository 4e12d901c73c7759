package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/edged-io/edged/core"
)

// Keys of connection state recovery:
//
//	s/<nsp>\x00<pid>     sessionRecord, live or disconnected (TTL once disconnected)
//	p/<nsp>\x00<offset>  packetRecord (TTL: MaxDisconnectionDuration)
//
// <nsp> is path-escaped (no \x00 in it); <offset> is 16 hex digits of a
// sequence that only grows, across restarts too, so key order is emit order.
const (
	sessionPrefix = "s/"
	packetPrefix  = "p/"
)

func nspPart(nsp string) string { return url.PathEscape(nsp) + "\x00" }

func sessionKey(nsp, pid string) string { return sessionPrefix + nspPart(nsp) + pid }

func packetKey(nsp, offset string) string { return packetPrefix + nspPart(nsp) + offset }

// Session states.
const (
	stateLive         = "live"
	stateDisconnected = "disconnected"
)

// sessionRecord is the snapshot of a socket's session.
type sessionRecord struct {
	SID   string          `json:"sid"`
	PID   string          `json:"pid"`
	Nsp   string          `json:"nsp"`
	Rooms []string        `json:"rooms"`
	Data  json.RawMessage `json:"data,omitempty"`
	State string          `json:"state"`
	// DisconnectedAt is when the socket disconnected (Unix ms), or when the
	// process started again after a crash for a session that was live.
	DisconnectedAt int64 `json:"disconnectedAt,omitempty"`
}

// packetRecord is one recoverable packet.
type packetRecord struct {
	Rooms       []string        `json:"rooms,omitempty"`
	Except      []string        `json:"except,omitempty"`
	Data        json.RawMessage `json:"data"`
	Attachments [][]byte        `json:"att,omitempty"`
	At          int64           `json:"at"` // emitted, Unix ms
}

func marshalRecord(v any) ([]byte, error) { return json.Marshal(v) }

// recoveryStore is the core.RecoveryStore on a DB.
type recoveryStore struct {
	d          *DB
	maxAge     time.Duration
	maxPackets int

	dirtyMu sync.Mutex
	dirty   map[string]struct{} // namespaces with packets added since the last trim
}

// RecoveryStore returns the connection state recovery store on this
// database, bounded by o (MaxDisconnectionDuration, MaxPackets; defaults as
// in core). The first call turns every session still marked live (the
// process died without disconnecting it) into one disconnected when the
// database was opened, so that its client can recover it within
// MaxDisconnectionDuration of the restart. Later calls return the same store.
func (d *DB) RecoveryStore(o *core.RecoveryOptions) core.RecoveryStore {
	d.recMu.Lock()
	defer d.recMu.Unlock()
	if d.recovery != nil {
		return d.recovery
	}
	r := &recoveryStore{d: d, maxAge: 2 * time.Minute, maxPackets: 10000, dirty: make(map[string]struct{})}
	if o != nil {
		if o.MaxDisconnectionDuration > 0 {
			r.maxAge = o.MaxDisconnectionDuration
		}
		if o.MaxPackets > 0 {
			r.maxPackets = o.MaxPackets
		}
	}
	if err := r.afterRestart(); err != nil {
		d.log.Error("store: mark live sessions as disconnected", "dir", d.dir, "err", err)
	}
	d.recovery = r
	return r
}

// afterRestart marks the sessions left live as disconnected at start-up and
// the namespaces with packets as due for a trim.
func (r *recoveryStore) afterRestart() error {
	at := r.d.openedAt
	var live []sessionRecord
	err := r.d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(sessionPrefix), PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var rec sessionRecord
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
				r.d.log.Warn("store: unreadable session skipped", "key", string(it.Item().Key()), "err", err)
				continue
			}
			if rec.State == stateLive {
				live = append(live, rec)
			}
		}
		it2 := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(packetPrefix)})
		defer it2.Close()
		for it2.Rewind(); it2.Valid(); {
			k := string(it2.Item().Key())
			i := strings.IndexByte(k, 0)
			if i < 0 {
				it2.Next()
				continue
			}
			if nsp, err := url.PathUnescape(k[len(packetPrefix):i]); err == nil {
				r.dirty[nsp] = struct{}{}
			}
			it2.Seek([]byte(k[:i] + "\x01")) // next namespace
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range live {
		rec.State = stateDisconnected
		rec.DisconnectedAt = at.UnixMilli()
		r.d.put(sessionKey(rec.Nsp, rec.PID), pendingEntry{record: rec, expiresAt: expiry(at, r.maxAge)})
	}
	if len(live) > 0 {
		r.d.log.Info("store: sessions live at the last stop are recoverable", "count", len(live), "until", at.Add(r.maxAge).Format(time.RFC3339))
	}
	return r.d.Flush()
}

// expiry is the Badger expiry (Unix seconds, rounded up) of data kept for d after t.
func expiry(t time.Time, d time.Duration) uint64 {
	end := t.Add(d)
	s := end.Unix()
	if end.Nanosecond() > 0 {
		s++
	}
	return uint64(s)
}

// AddPacket gives the packet the next offset and queues it for the next flush.
func (r *recoveryStore) AddPacket(nsp string, args core.Payload, opts core.BroadcastOptions) (json.RawMessage, error) {
	offset := fmt.Sprintf("%016x", r.d.seq.Add(1))
	data := core.AppendOffset(args.Data, offset)
	now := r.d.now()
	r.d.put(packetKey(nsp, offset), pendingEntry{
		record:    packetRecord{Rooms: opts.Rooms, Except: opts.Except, Data: data, Attachments: args.Attachments, At: now.UnixMilli()},
		expiresAt: expiry(now, r.maxAge),
	})
	r.dirtyMu.Lock()
	r.dirty[nsp] = struct{}{}
	r.dirtyMu.Unlock()
	return data, nil
}

// TrackSession queues the snapshot of a connected socket (no expiry while live).
func (r *recoveryStore) TrackSession(nsp string, s *core.Session) {
	r.d.put(sessionKey(nsp, s.PID), pendingEntry{record: sessionRecord{
		SID: s.SID, PID: s.PID, Nsp: nsp, Rooms: slices.Clone(s.Rooms), Data: s.Data, State: stateLive,
	}})
}

// PersistSession queues the snapshot of a socket that disconnected, kept for
// MaxDisconnectionDuration.
func (r *recoveryStore) PersistSession(nsp string, s *core.Session) {
	now := r.d.now()
	r.d.put(sessionKey(nsp, s.PID), pendingEntry{
		record: sessionRecord{
			SID: s.SID, PID: s.PID, Nsp: nsp, Rooms: slices.Clone(s.Rooms), Data: s.Data,
			State: stateDisconnected, DisconnectedAt: now.UnixMilli(),
		},
		expiresAt: expiry(now, r.maxAge),
	})
}

// DropSession queues the deletion of a session.
func (r *recoveryStore) DropSession(nsp, pid string) {
	r.d.put(sessionKey(nsp, pid), pendingEntry{delete: true})
}

// RestoreSession returns the disconnected session pid with the packets sent
// to its rooms after offset, and forgets it; nil when the session is unknown,
// live, expired, or offset is no longer kept. Pending writes are seen.
func (r *recoveryStore) RestoreSession(nsp, pid, offset string) (_ *core.Session, err error) {
	defer func(start time.Time) { r.d.observe(OpRestoreSession, start, err) }(time.Now())
	// Write what is pending so that one read sees everything; if the disk
	// refuses, the pending writes are overlaid below.
	_ = r.d.Flush()
	now := r.d.now()
	threshold := now.Add(-r.maxAge).UnixMilli()
	skey := sessionKey(nsp, pid)
	rec, found, err := r.readSession(skey)
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if !found || rec.State != stateDisconnected {
		return nil, nil
	}
	r.d.put(skey, pendingEntry{delete: true}) // consumed, as in core's memory store
	if rec.DisconnectedAt < threshold || !validOffset(offset) {
		return nil, nil
	}
	packets, ok, err := r.packetsFrom(nsp, offset)
	if err != nil {
		return nil, fmt.Errorf("read packets: %w", err)
	}
	if !ok {
		return nil, nil
	}
	s := &core.Session{SID: rec.SID, PID: rec.PID, Rooms: rec.Rooms, Data: rec.Data}
	for _, p := range packets {
		if p.At >= threshold && core.WasRecipient(s.Rooms, p.Rooms, p.Except) {
			s.MissedPackets = append(s.MissedPackets, core.Payload{Data: p.Data, Attachments: p.Attachments})
		}
	}
	return s, nil
}

func validOffset(o string) bool {
	if len(o) != 16 {
		return false
	}
	_, err := strconv.ParseUint(o, 16, 64)
	return err == nil
}

func (r *recoveryStore) readSession(key string) (sessionRecord, bool, error) {
	var rec sessionRecord
	if e, ok := r.d.pendingValue(key); ok {
		if e.delete {
			return rec, false, nil
		}
		rec, ok = e.record.(sessionRecord)
		return rec, ok, nil
	}
	found := false
	err := r.d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) })
	})
	return rec, found, err
}

// packetsFrom returns the packets of nsp after offset in order, pending ones
// included; ok is false when the packet at offset is not kept.
func (r *recoveryStore) packetsFrom(nsp, offset string) ([]packetRecord, bool, error) {
	prefix := packetPrefix + nspPart(nsp)
	start := prefix + offset
	type kp struct {
		key string
		rec packetRecord
	}
	var list []kp
	err := r.d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Seek([]byte(start)); it.Valid(); it.Next() {
			item := it.Item()
			var p packetRecord
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
				return fmt.Errorf("packet %s: %w", item.Key(), err)
			}
			list = append(list, kp{string(item.KeyCopy(nil)), p})
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	// overlay what could not be flushed
	r.d.mu.Lock()
	overlaid := false
	for k, e := range r.d.pending {
		if strings.HasPrefix(k, prefix) && k >= start && !e.delete {
			if p, ok := e.record.(packetRecord); ok {
				list = append(list, kp{k, p})
				overlaid = true
			}
		}
	}
	r.d.mu.Unlock()
	if overlaid {
		slices.SortFunc(list, func(a, b kp) int { return strings.Compare(a.key, b.key) })
		list = slices.CompactFunc(list, func(a, b kp) bool { return a.key == b.key })
	}
	if len(list) == 0 || list[0].key != start {
		return nil, false, nil
	}
	out := make([]packetRecord, 0, len(list)-1)
	for _, p := range list[1:] {
		out = append(out, p.rec)
	}
	return out, true, nil
}

// trim deletes the oldest packets of every namespace that has more than
// maxPackets (expired ones go by their TTL).
func (r *recoveryStore) trim() {
	r.dirtyMu.Lock()
	nsps := make([]string, 0, len(r.dirty))
	for n := range r.dirty {
		nsps = append(nsps, n)
	}
	clear(r.dirty)
	r.dirtyMu.Unlock()
	for _, nsp := range nsps {
		if err := r.trimNamespace(nsp); err != nil {
			r.d.log.Warn("store: trim recovery packets", "nsp", nsp, "err", err)
		}
	}
}

// trimNamespace deletes the oldest packets of nsp beyond maxPackets.
func (r *recoveryStore) trimNamespace(nsp string) error {
	prefix := []byte(packetPrefix + nspPart(nsp))
	var old [][]byte
	err := r.d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		n := 0
		seek := append(bytes.Clone(prefix), 0xff)
		for it.Seek(seek); it.Valid(); it.Next() {
			n++
			if n > r.maxPackets {
				old = append(old, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil || len(old) == 0 {
		return err
	}
	wb := r.d.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range old {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	return wb.Flush()
}
