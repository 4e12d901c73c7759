package plugins

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/edged-io/edged/plugins/abi"
	"github.com/edged-io/edged/store"
)

// The key-value ops (docs/ABI.md §4.5). Keys are scoped by the plugin's
// name, which the host knows from the file name: a guest cannot name
// another plugin's keys. Values travel as standard base64 with padding.

// maxTTLMillis is the largest ttl_ms (about 31.7 years): it keeps the
// conversion to a time.Duration far from overflow.
const maxTTLMillis = 1_000_000_000_000

var errNoKV = &opError{abi.ErrNotAllowed, "key-value store not configured"}

// kvReq is the request of every key-value op; each op reads its fields.
type kvReq struct {
	Key    string          `json:"key"`
	Value  json.RawMessage `json:"value"`
	Old    json.RawMessage `json:"old"`
	TTLMS  json.RawMessage `json:"ttl_ms"`
	Prefix string          `json:"prefix"`
	Limit  json.RawMessage `json:"limit"`
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errBad("key must be 1 to %d bytes", abi.MaxKVKeyBytes)
	case len(key) > abi.MaxKVKeyBytes:
		return &opError{abi.ErrTooLarge, fmt.Sprintf("key must be 1 to %d bytes (got %d)", abi.MaxKVKeyBytes, len(key))}
	}
	return nil
}

// decodeValue decodes a base64 field; absent or null gives nil, ok=false.
func decodeValue(raw json.RawMessage, field string) (b []byte, ok bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false, errBad("%s must be a base64 string", field)
	}
	if base64.StdEncoding.DecodedLen(len(s)) > abi.MaxKVValueBytes+2 {
		return nil, false, &opError{abi.ErrTooLarge, "value larger than 1 MiB"}
	}
	b, err = base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, false, errBad("%s is not valid base64 (standard alphabet, padded): %v", field, err)
	}
	if len(b) > abi.MaxKVValueBytes {
		return nil, false, &opError{abi.ErrTooLarge, fmt.Sprintf("value larger than 1 MiB (%d bytes)", len(b))}
	}
	if b == nil {
		b = []byte{}
	}
	return b, true, nil
}

// decodeInt decodes an optional non-negative integer field (absent: 0).
func decodeInt(raw json.RawMessage, field string, max int64) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 || n > max {
		return 0, errBad("%s must be an integer from 0 to %d", field, max)
	}
	return n, nil
}

// kvError maps an error of the store to an op error.
func kvError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrKeyTooLong), errors.Is(err, store.ErrValueTooLarge):
		return &opError{abi.ErrTooLarge, err.Error()}
	}
	return &opError{abi.ErrFailed, "key-value store: " + err.Error()}
}

type kvValue []byte

// MarshalJSON encodes a value as a base64 string (standard, padded).
func (v kvValue) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(len(v))+2)
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, v)
	return append(out, '"'), nil
}

// opKV runs one of the key-value ops.
func (cs *callState) opKV(op abi.Op, req []byte) ([]byte, error) {
	kv := cs.g.m.opts.KV
	if kv == nil {
		return nil, errNoKV
	}
	var r kvReq
	if err := decode(req, &r); err != nil {
		return nil, err
	}
	plugin := cs.g.name
	if op == abi.OpKVScan {
		if len(r.Prefix) > abi.MaxKVKeyBytes {
			return nil, &opError{abi.ErrTooLarge, fmt.Sprintf("prefix longer than %d bytes", abi.MaxKVKeyBytes)}
		}
		limit, err := decodeInt(r.Limit, "limit", abi.MaxKVScanLimit)
		if err != nil {
			return nil, err
		}
		if limit == 0 {
			limit = abi.MaxKVScanLimit
		}
		pairs, err := kv.Scan(plugin, r.Prefix, int(limit))
		if err != nil {
			return nil, kvError(err)
		}
		type pair struct {
			Key   string  `json:"key"`
			Value kvValue `json:"value"`
		}
		out := make([]pair, len(pairs))
		for i, p := range pairs {
			out[i] = pair{p.Key, p.Value}
		}
		return json.Marshal(out)
	}
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	switch op {
	case abi.OpKVGet:
		v, found, err := kv.Get(plugin, r.Key)
		if err != nil {
			return nil, kvError(err)
		}
		if !found {
			return []byte(`{"found":false,"value":null}`), nil
		}
		return json.Marshal(struct {
			Found bool    `json:"found"`
			Value kvValue `json:"value"`
		}{true, v})
	case abi.OpKVDelete:
		return nil, kvError(kv.Delete(plugin, r.Key))
	}
	// kv_set, kv_cas
	value, ok, err := decodeValue(r.Value, "value")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBad("value is missing (a base64 string; \"\" is the empty value)")
	}
	ms, err := decodeInt(r.TTLMS, "ttl_ms", maxTTLMillis)
	if err != nil {
		return nil, err
	}
	ttl := time.Duration(ms) * time.Millisecond
	if op == abi.OpKVSet {
		return nil, kvError(kv.Set(plugin, r.Key, value, ttl))
	}
	old, _, err := decodeValue(r.Old, "old")
	if err != nil {
		return nil, err
	}
	swapped, err := kv.CompareAndSet(plugin, r.Key, old, value, ttl)
	if err != nil {
		return nil, kvError(err)
	}
	return fmt.Appendf(nil, `{"swapped":%t}`, swapped), nil
}
