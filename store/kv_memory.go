package store

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"time"
)

// memoryKV is the in-memory KV (edged --data ""): lost on exit.
type memoryKV struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]memoryValue // plugin + "/" + key
}

type memoryValue struct {
	v       []byte
	expires time.Time // zero: never
}

// NewMemoryKV returns a KV kept in memory, with the limits and semantics of
// the Badger one.
func NewMemoryKV() KV { return &memoryKV{now: time.Now, m: make(map[string]memoryValue)} }

func (k *memoryKV) liveLocked(id string) (memoryValue, bool) {
	e, ok := k.m[id]
	if ok && !e.expires.IsZero() && !k.now().Before(e.expires) {
		delete(k.m, id)
		return memoryValue{}, false
	}
	return e, ok
}

func (k *memoryKV) putLocked(id string, v []byte, ttl time.Duration) {
	e := memoryValue{v: bytes.Clone(v)}
	if ttl > 0 {
		e.expires = k.now().Add(ttl)
	}
	k.m[id] = e
}

func (k *memoryKV) Get(plugin, key string) ([]byte, bool, error) {
	if err := checkKey(plugin, key); err != nil {
		return nil, false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.liveLocked(plugin + "/" + key)
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(e.v), true, nil
}

func (k *memoryKV) Set(plugin, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(plugin, key); err != nil {
		return err
	}
	if err := checkValue(value); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.putLocked(plugin+"/"+key, value, ttl)
	return nil
}

func (k *memoryKV) Delete(plugin, key string) error {
	if err := checkKey(plugin, key); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, plugin+"/"+key)
	return nil
}

func (k *memoryKV) Scan(plugin, prefix string, limit int) ([]Pair, error) {
	if err := checkScan(plugin, prefix); err != nil {
		return nil, err
	}
	limit = scanLimit(limit)
	scope := plugin + "/"
	k.mu.Lock()
	defer k.mu.Unlock()
	var keys []string
	for id := range k.m {
		if rest, ok := strings.CutPrefix(id, scope); ok && strings.HasPrefix(rest, prefix) {
			if _, live := k.liveLocked(id); live {
				keys = append(keys, rest)
			}
		}
	}
	slices.Sort(keys)
	out := []Pair{}
	for _, key := range keys[:min(limit, len(keys))] {
		out = append(out, Pair{Key: key, Value: bytes.Clone(k.m[scope+key].v)})
	}
	return out, nil
}

func (k *memoryKV) CompareAndSet(plugin, key string, old, value []byte, ttl time.Duration) (bool, error) {
	if err := checkKey(plugin, key); err != nil {
		return false, err
	}
	if err := checkValue(value); err != nil {
		return false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	id := plugin + "/" + key
	e, ok := k.liveLocked(id)
	if (old == nil && ok) || (old != nil && (!ok || !bytes.Equal(old, e.v))) {
		return false, nil
	}
	k.putLocked(id, value, ttl)
	return true, nil
}
