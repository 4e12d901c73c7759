package store

import (
	"errors"
	"time"
)

// KV is the durable key-value data of plugins. Every key lives in the scope
// of one plugin (by name): a plugin never sees another's keys.
// Implementations are safe for concurrent use.
type KV interface {
	// Get returns the value of key, or found=false.
	Get(plugin, key string) (value []byte, found bool, err error)
	// Set stores value under key; ttl > 0 makes it expire.
	Set(plugin, key string, value []byte, ttl time.Duration) error
	// Delete removes key (no error when absent).
	Delete(plugin, key string) error
	// Scan returns up to limit pairs whose key starts with prefix, in key order.
	Scan(plugin, prefix string, limit int) ([]Pair, error)
	// CompareAndSet stores value under key only if the current value equals
	// old (old == nil: only if key is absent) and reports whether it did.
	CompareAndSet(plugin, key string, old, value []byte, ttl time.Duration) (bool, error)
}

// Pair is one key and its value, as Scan returns them.
type Pair struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// Limits of the key-value data.
const (
	// MaxKeyBytes is the longest key.
	MaxKeyBytes = 1024
	// MaxValueBytes is the largest value.
	MaxValueBytes = 1 << 20
	// MaxScanLimit is the most pairs one Scan returns.
	MaxScanLimit = 1000
)

// Errors of the key-value data.
var (
	// ErrKeyTooLong is returned for a key longer than MaxKeyBytes (or empty).
	ErrKeyTooLong = errors.New("key must be 1 to 1024 bytes")
	// ErrValueTooLarge is returned for a value larger than MaxValueBytes.
	ErrValueTooLarge = errors.New("value larger than 1 MiB")
)
