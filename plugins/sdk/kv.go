package sdk

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/edged-io/edged/plugins/abi"
)

// KVStore is the plugin's durable key-value data (docs/ABI.md §4.5), used
// through the package variable KV. The host scopes every key by the
// plugin's name: plugins never see each other's keys. Data lives outside
// the instances, so it is shared by every instance and survives hot reloads
// and (with edged --data) restarts.
//
// Keys are 1 to 1024 bytes; values up to 1 MiB (travelling base64-encoded,
// so the plugin's max_output_bytes must hold 4/3 of the value). A ttl > 0
// makes a key expire (with a resolution of about a second); 0 keeps it
// forever. Errors are *CallError values: ErrTooLarge for a key or value over
// the limits, ErrBadRequest for an empty key, ErrNotAllowed when edged runs
// without a store, ErrFailed when the store failed.
type KVStore struct{}

// KV is the plugin's key-value data.
var KV KVStore

// Pair is one key and its value, as Scan returns them.
type Pair struct {
	Key   string
	Value []byte
}

// MaxScanLimit is the most pairs one Scan returns.
const MaxScanLimit = abi.MaxKVScanLimit

func (e *encoder) bytes64(b []byte) {
	e.buf = append(e.buf, '"')
	e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
	e.buf = append(e.buf, '"')
}

func (e *encoder) ttl(ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond // round up: never 0
	e.field("ttl_ms")
	e.buf = strconv.AppendInt(e.buf, int64(ms), 10)
}

// parseBase64 decodes a JSON string of standard base64.
func parseBase64(v []byte) ([]byte, bool) {
	s, ok := parseString(v)
	if !ok {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	if b == nil {
		b = []byte{}
	}
	return b, true
}

func badResult(op abi.Op, res []byte) error {
	return fmt.Errorf("sdk: op %d: unexpected result %.100q: %w", op, res, errSyntax)
}

// Get returns the value of key; found is false when it is absent or expired.
func (KVStore) Get(key string) (value []byte, found bool, err error) {
	w := begin()
	w.field("key")
	w.str(key)
	res, err := w.send(abi.OpKVGet)
	if err != nil {
		return nil, false, err
	}
	err = eachMember(res, func(k, v []byte) error {
		var ok bool
		switch string(k) {
		case "found":
			found, ok = parseBool(v)
		case "value":
			if string(v) == "null" {
				return nil
			}
			value, ok = parseBase64(v)
		default:
			ok = true
		}
		if !ok {
			return errSyntax
		}
		return nil
	})
	if err != nil || (found && value == nil) {
		return nil, false, badResult(abi.OpKVGet, res)
	}
	if !found {
		value = nil
	}
	return value, found, nil
}

// Set stores value under key; ttl > 0 makes it expire, 0 keeps it forever
// (and removes an earlier expiry).
func (KVStore) Set(key string, value []byte, ttl time.Duration) error {
	w := begin()
	w.field("key")
	w.str(key)
	w.field("value")
	w.bytes64(value)
	w.ttl(ttl)
	_, err := w.send(abi.OpKVSet)
	return err
}

// Delete removes key; deleting an absent key is not an error.
func (KVStore) Delete(key string) error {
	w := begin()
	w.field("key")
	w.str(key)
	_, err := w.send(abi.OpKVDelete)
	return err
}

// Scan returns up to limit pairs whose key starts with prefix, in key
// (byte) order; limit <= 0 means MaxScanLimit, more than MaxScanLimit is
// an ErrBadRequest.
func (KVStore) Scan(prefix string, limit int) ([]Pair, error) {
	w := begin()
	w.field("prefix")
	w.str(prefix)
	if limit > 0 {
		w.field("limit")
		w.buf = strconv.AppendInt(w.buf, int64(limit), 10)
	}
	res, err := w.send(abi.OpKVScan)
	if err != nil {
		return nil, err
	}
	pairs := []Pair{}
	err = eachElement(res, func(el []byte) error {
		var p Pair
		var hasKey, hasValue bool
		err := eachMember(el, func(k, v []byte) error {
			var ok bool
			switch string(k) {
			case "key":
				p.Key, ok = parseString(v)
				hasKey = ok
			case "value":
				p.Value, ok = parseBase64(v)
				hasValue = ok
			default:
				ok = true
			}
			if !ok {
				return errSyntax
			}
			return nil
		})
		if err != nil || !hasKey || !hasValue {
			return errSyntax
		}
		pairs = append(pairs, p)
		return nil
	})
	if err != nil {
		return nil, badResult(abi.OpKVScan, res)
	}
	return pairs, nil
}

// CompareAndSet atomically stores value under key (with ttl, as Set) only
// if the current value equals old, or, with old == nil, only if key is
// absent; it reports whether it stored. []byte{} is the empty value, not
// absence. Typical use is a read-modify-write loop: Get, compute, then
// CompareAndSet with the value read, again on false.
func (KVStore) CompareAndSet(key string, old, value []byte, ttl time.Duration) (bool, error) {
	w := begin()
	w.field("key")
	w.str(key)
	w.field("old")
	if old == nil {
		w.buf = append(w.buf, "null"...)
	} else {
		w.bytes64(old)
	}
	w.field("value")
	w.bytes64(value)
	w.ttl(ttl)
	res, err := w.send(abi.OpKVCAS)
	if err != nil {
		return false, err
	}
	var swapped, seen bool
	err = eachMember(res, func(k, v []byte) error {
		if string(k) == "swapped" {
			var ok bool
			swapped, ok = parseBool(v)
			seen = ok
		}
		return nil
	})
	if err != nil || !seen {
		return false, badResult(abi.OpKVCAS, res)
	}
	return swapped, nil
}

// GetJSON decodes the JSON value of key into v (encoding/json); found is
// false (and v untouched) when the key is absent.
func (s KVStore) GetJSON(key string, v any) (found bool, err error) {
	b, found, err := s.Get(key)
	if err != nil || !found {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("sdk: key %q: %w", key, err)
	}
	return true, nil
}

// SetJSON stores v encoded with encoding/json under key, as Set.
func (s KVStore) SetJSON(key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sdk: key %q: %w", key, err)
	}
	return s.Set(key, b, ttl)
}
