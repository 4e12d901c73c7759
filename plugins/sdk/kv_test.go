package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edged-io/edged/plugins/abi"
)

// fakeKV answers the key-value ops like the host (docs/ABI.md §4.5),
// decoding requests with encoding/json as the host does.
type fakeKV struct {
	data map[string][]byte
	ttls map[string]int64
}

func (f *fakeKV) handle(op abi.Op, req []byte) (string, int32, bool) {
	var r struct {
		Key    string  `json:"key"`
		Value  *[]byte `json:"value"`
		Old    *[]byte `json:"old"`
		TTLMS  int64   `json:"ttl_ms"`
		Prefix string  `json:"prefix"`
		Limit  int     `json:"limit"`
	}
	if op < abi.OpKVGet || op > abi.OpKVCAS {
		return "", 0, false
	}
	if err := json.Unmarshal(req, &r); err != nil {
		return "bad request: " + err.Error(), abi.ErrBadRequest, true
	}
	if op != abi.OpKVScan && (r.Key == "" || len(r.Key) > abi.MaxKVKeyBytes) {
		return "key must be 1 to 1024 bytes", abi.ErrTooLarge, true
	}
	out := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch op {
	case abi.OpKVGet:
		v, ok := f.data[r.Key]
		if !ok {
			return `{"found":false,"value":null}`, 0, true
		}
		return out(map[string]any{"found": true, "value": v}), 0, true
	case abi.OpKVSet:
		f.data[r.Key], f.ttls[r.Key] = *r.Value, r.TTLMS
		return "", 0, true
	case abi.OpKVDelete:
		delete(f.data, r.Key)
		return "", 0, true
	case abi.OpKVScan:
		var keys []string
		for k := range f.data {
			if strings.HasPrefix(k, r.Prefix) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if r.Limit == 0 {
			r.Limit = 1000
		}
		type pair struct {
			Key   string `json:"key"`
			Value []byte `json:"value"`
		}
		pairs := []pair{}
		for _, k := range keys[:min(r.Limit, len(keys))] {
			pairs = append(pairs, pair{k, f.data[k]})
		}
		return out(pairs), 0, true
	default:
		cur, ok := f.data[r.Key]
		if (r.Old == nil && ok) || (r.Old != nil && (!ok || !bytes.Equal(cur, *r.Old))) {
			return `{"swapped":false}`, 0, true
		}
		f.data[r.Key], f.ttls[r.Key] = *r.Value, r.TTLMS
		return `{"swapped":true}`, 0, true
	}
}

func installKV(t *testing.T) (*fakeHost, *fakeKV) {
	h := install(t, &Plugin{})
	f := &fakeKV{data: map[string][]byte{}, ttls: map[string]int64{}}
	h.handle = f.handle
	return h, f
}

func TestKV(t *testing.T) {
	h, f := installKV(t)
	if _, found, err := KV.Get("k"); found || err != nil {
		t.Fatalf("get absent: %v %v", found, err)
	}
	bin := []byte{0, 1, 2, 0xff, '"', '\\'}
	if err := KV.Set("k", bin, 0); err != nil {
		t.Fatal(err)
	}
	if got := h.calls[len(h.calls)-1].req; got != `{"key":"k","value":"AAEC/yJc"}` {
		t.Fatalf("set request %s", got)
	}
	v, found, err := KV.Get("k")
	if err != nil || !found || !bytes.Equal(v, bin) {
		t.Fatalf("get: %q %v %v", v, found, err)
	}
	// an empty value is found and not nil
	if err := KV.Set("empty", nil, 1500*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if f.ttls["empty"] != 2 { // rounded up to whole milliseconds
		t.Fatalf("ttl_ms %d", f.ttls["empty"])
	}
	if v, found, err := KV.Get("empty"); err != nil || !found || v == nil || len(v) != 0 {
		t.Fatalf("get empty: %q %v %v", v, found, err)
	}
	if err := KV.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := KV.Get("k"); found {
		t.Fatal("deleted key found")
	}

	// compare-and-set
	swapped, err := KV.CompareAndSet("n", nil, []byte("1"), 0)
	if err != nil || !swapped {
		t.Fatalf("cas absent: %v %v", swapped, err)
	}
	if got := h.calls[len(h.calls)-1].req; got != `{"key":"n","old":null,"value":"MQ=="}` {
		t.Fatalf("cas request %s", got)
	}
	if swapped, _ := KV.CompareAndSet("n", nil, []byte("2"), 0); swapped {
		t.Fatal("cas of a present key with old nil swapped")
	}
	if swapped, _ := KV.CompareAndSet("n", []byte("0"), []byte("2"), 0); swapped {
		t.Fatal("cas with a wrong old swapped")
	}
	if swapped, _ := KV.CompareAndSet("n", []byte("1"), []byte("2"), time.Minute); !swapped || f.ttls["n"] != 60000 {
		t.Fatalf("cas with the right old: %v ttl %d", swapped, f.ttls["n"])
	}
	if swapped, _ := KV.CompareAndSet("empty", []byte{}, []byte("x"), 0); !swapped {
		t.Fatal("cas from the empty value did not swap")
	}

	// scan
	for _, k := range []string{"s/b", "s/a", "s/c", "t/a"} {
		if err := KV.Set(k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	pairs, err := KV.Scan("s/", 2)
	if err != nil || len(pairs) != 2 || pairs[0].Key != "s/a" || string(pairs[1].Value) != "s/b" {
		t.Fatalf("scan: %+v %v", pairs, err)
	}
	if got := h.calls[len(h.calls)-1].req; got != `{"prefix":"s/","limit":2}` {
		t.Fatalf("scan request %s", got)
	}
	if pairs, err := KV.Scan("none/", 0); err != nil || pairs == nil || len(pairs) != 0 {
		t.Fatalf("empty scan: %+v %v", pairs, err)
	}
	if got := h.calls[len(h.calls)-1].req; got != `{"prefix":"none/"}` {
		t.Fatalf("scan request %s", got)
	}

	// JSON helpers
	type hist struct {
		Seq  int      `json:"seq"`
		Msgs []string `json:"msgs"`
	}
	if err := KV.SetJSON("j", hist{3, []string{"a", "b"}}, 0); err != nil {
		t.Fatal(err)
	}
	var got hist
	if found, err := KV.GetJSON("j", &got); err != nil || !found || got.Seq != 3 || len(got.Msgs) != 2 {
		t.Fatalf("get json: %+v %v %v", got, found, err)
	}
	if found, err := KV.GetJSON("nothing", &got); err != nil || found {
		t.Fatalf("get json absent: %v %v", found, err)
	}
	_ = KV.Set("notjson", []byte("{"), 0)
	if found, err := KV.GetJSON("notjson", &got); err == nil || !found {
		t.Fatalf("get json of bad data: %v %v", found, err)
	}
	if err := KV.SetJSON("bad", func() {}, 0); err == nil {
		t.Fatal("set json of a func succeeded")
	}
}

func TestKVErrors(t *testing.T) {
	h, _ := installKV(t)
	_, _, err := KV.Get(strings.Repeat("k", 1025))
	var ce *CallError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &ce) || ce.Message != "key must be 1 to 1024 bytes" || ce.Op != abi.OpKVGet {
		t.Fatalf("long key: %v", err)
	}
	h.handle = nil
	h.errs[abi.OpKVSet] = abi.ErrNotAllowed
	if err := KV.Set("k", []byte("v"), 0); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("no store: %v", err)
	}
	// a malformed result is an error, not a wrong answer
	h.results[abi.OpKVGet] = `{"found":true,"value":"%%%"}`
	if _, _, err := KV.Get("k"); err == nil {
		t.Fatal("bad base64 result accepted")
	}
	h.results[abi.OpKVCAS] = `{}`
	if _, err := KV.CompareAndSet("k", nil, nil, 0); err == nil {
		t.Fatal("cas result without swapped accepted")
	}
	h.results[abi.OpKVScan] = `[{"key":"a"}]`
	if _, err := KV.Scan("", 0); err == nil {
		t.Fatal("scan pair without value accepted")
	}
}
