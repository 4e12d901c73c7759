package plugins

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edged-io/edged/plugins/abi"
	"github.com/edged-io/edged/store"

	"github.com/edged-io/edged/internal/wiretest"
)

// memKV is a test double of store.KV: a map with expiry.
type memKV struct {
	mu sync.Mutex
	m  map[string]memEntry // plugin + "\x00" + key
}

type memEntry struct {
	v   []byte
	exp time.Time
}

func newMemKV() *memKV { return &memKV{m: map[string]memEntry{}} }

func (k *memKV) live(id string) (memEntry, bool) {
	e, ok := k.m[id]
	if ok && !e.exp.IsZero() && time.Now().After(e.exp) {
		delete(k.m, id)
		return memEntry{}, false
	}
	return e, ok
}

func (k *memKV) put(id string, v []byte, ttl time.Duration) {
	e := memEntry{v: bytes.Clone(v)}
	if ttl > 0 {
		e.exp = time.Now().Add(ttl)
	}
	k.m[id] = e
}

func (k *memKV) Get(plugin, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.live(plugin + "\x00" + key)
	return bytes.Clone(e.v), ok, nil
}

func (k *memKV) Set(plugin, key string, v []byte, ttl time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.put(plugin+"\x00"+key, v, ttl)
	return nil
}

func (k *memKV) Delete(plugin, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, plugin+"\x00"+key)
	return nil
}

func (k *memKV) Scan(plugin, prefix string, limit int) ([]store.Pair, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var keys []string
	for id := range k.m {
		if rest, ok := strings.CutPrefix(id, plugin+"\x00"); ok && strings.HasPrefix(rest, prefix) {
			if _, live := k.live(id); live {
				keys = append(keys, rest)
			}
		}
	}
	slices.Sort(keys)
	out := []store.Pair{}
	for _, key := range keys[:min(limit, len(keys))] {
		out = append(out, store.Pair{Key: key, Value: bytes.Clone(k.m[plugin+"\x00"+key].v)})
	}
	return out, nil
}

func (k *memKV) CompareAndSet(plugin, key string, old, v []byte, ttl time.Duration) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := plugin + "\x00" + key
	e, ok := k.live(id)
	if (old == nil && ok) || (old != nil && (!ok || !bytes.Equal(old, e.v))) {
		return false, nil
	}
	k.put(id, v, ttl)
	return true, nil
}

var _ store.KV = (*memKV)(nil)

// kvState is a call state of plugin name with kv, as the ops see it.
func kvState(name string, kv store.KV) *callState {
	return &callState{g: &generation{m: &Manager{opts: Options{KV: kv}}, name: name}}
}

// kvOp runs op and returns its code and result (or error text).
func kvOp(cs *callState, op abi.Op, req string) (int32, string) {
	res, _, code, err := cs.op(context.Background(), op, []byte(req), nil)
	if code < 0 {
		return code, err.Error()
	}
	return code, string(res)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestKVOps(t *testing.T) {
	kv := newMemKV()
	a, b := kvState("a", kv), kvState("b", kv)
	check := func(cs *callState, op abi.Op, req string, wantCode int32, want string) {
		t.Helper()
		code, res := kvOp(cs, op, req)
		if code != wantCode || res != want {
			t.Fatalf("op %d %s: got %d %q, want %d %q", op, req, code, res, wantCode, want)
		}
	}
	check(a, abi.OpKVGet, `{"key":"k"}`, 0, `{"found":false,"value":null}`)
	check(a, abi.OpKVSet, `{"key":"k","value":"`+b64("from a")+`"}`, 0, "")
	check(b, abi.OpKVSet, `{"key":"k","value":"`+b64("from b")+`"}`, 0, "")
	check(a, abi.OpKVGet, `{"key":"k"}`, 0, `{"found":true,"value":"`+b64("from a")+`"}`)
	check(b, abi.OpKVGet, `{"key":"k"}`, 0, `{"found":true,"value":"`+b64("from b")+`"}`)
	check(a, abi.OpKVSet, `{"key":"empty","value":""}`, 0, "")
	check(a, abi.OpKVGet, `{"key":"empty"}`, 0, `{"found":true,"value":""}`)
	check(b, abi.OpKVScan, `{"prefix":""}`, 0, `[{"key":"k","value":"`+b64("from b")+`"}]`)
	check(a, abi.OpKVDelete, `{"key":"k"}`, 0, "")
	check(a, abi.OpKVDelete, `{"key":"k"}`, 0, "") // absent: no error
	check(a, abi.OpKVGet, `{"key":"k"}`, 0, `{"found":false,"value":null}`)
	check(b, abi.OpKVGet, `{"key":"k"}`, 0, `{"found":true,"value":"`+b64("from b")+`"}`)

	// compare-and-set
	check(a, abi.OpKVCAS, `{"key":"c","old":null,"value":"`+b64("1")+`"}`, 0, `{"swapped":true}`)
	check(a, abi.OpKVCAS, `{"key":"c","value":"`+b64("1")+`"}`, 0, `{"swapped":false}`) // old absent: only if absent
	check(a, abi.OpKVCAS, `{"key":"c","old":"`+b64("0")+`","value":"`+b64("2")+`"}`, 0, `{"swapped":false}`)
	check(a, abi.OpKVCAS, `{"key":"c","old":"`+b64("1")+`","value":"`+b64("2")+`"}`, 0, `{"swapped":true}`)
	check(a, abi.OpKVCAS, `{"key":"c","old":"","value":"`+b64("3")+`"}`, 0, `{"swapped":false}`) // "" is the empty value, not absence
	check(a, abi.OpKVCAS, `{"key":"empty","old":"","value":"`+b64("x")+`"}`, 0, `{"swapped":true}`)
	check(a, abi.OpKVGet, `{"key":"c"}`, 0, `{"found":true,"value":"`+b64("2")+`"}`)

	// scan: key order, prefix, limit
	for i := 5; i >= 1; i-- {
		check(a, abi.OpKVSet, fmt.Sprintf(`{"key":"s/%d","value":"%s"}`, i, b64(fmt.Sprint(i))), 0, "")
	}
	check(a, abi.OpKVScan, `{"prefix":"s/","limit":3}`, 0,
		`[{"key":"s/1","value":"MQ=="},{"key":"s/2","value":"Mg=="},{"key":"s/3","value":"Mw=="}]`)
	check(a, abi.OpKVScan, `{"prefix":"nothing"}`, 0, `[]`)
	check(b, abi.OpKVScan, `{"prefix":"s/"}`, 0, `[]`)
	check(a, abi.OpKVScan, `{"prefix":"s/","limit":1001}`, abi.ErrBadRequest, "limit must be an integer from 0 to 1000")
	check(a, abi.OpKVScan, `{"prefix":"s/","limit":-1}`, abi.ErrBadRequest, "limit must be an integer from 0 to 1000")
	check(a, abi.OpKVScan, `{"prefix":"`+strings.Repeat("p", 1025)+`"}`, abi.ErrTooLarge, "prefix longer than 1024 bytes")

	// limits and bad requests
	check(a, abi.OpKVGet, `{}`, abi.ErrBadRequest, "key must be 1 to 1024 bytes")
	check(a, abi.OpKVSet, `{"key":"`+strings.Repeat("k", 1025)+`","value":""}`, abi.ErrTooLarge, "key must be 1 to 1024 bytes (got 1025)")
	check(a, abi.OpKVSet, `{"key":"`+strings.Repeat("k", 1024)+`","value":""}`, 0, "")
	big := base64.StdEncoding.EncodeToString(make([]byte, 1<<20))
	check(a, abi.OpKVSet, `{"key":"big","value":"`+big+`"}`, 0, "")
	bigger := base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1))
	check(a, abi.OpKVSet, `{"key":"big","value":"`+bigger+`"}`, abi.ErrTooLarge, "value larger than 1 MiB (1048577 bytes)")
	check(a, abi.OpKVCAS, `{"key":"big","value":"`+bigger+`"}`, abi.ErrTooLarge, "value larger than 1 MiB (1048577 bytes)")
	check(a, abi.OpKVSet, `{"key":"k"}`, abi.ErrBadRequest, `value is missing (a base64 string; "" is the empty value)`)
	check(a, abi.OpKVSet, `{"key":"k","value":"not base64!"}`, abi.ErrBadRequest,
		"value is not valid base64 (standard alphabet, padded): illegal base64 data at input byte 3")
	check(a, abi.OpKVSet, `{"key":"k","value":"YQ"}`, abi.ErrBadRequest,
		"value is not valid base64 (standard alphabet, padded): illegal base64 data at input byte 0")
	check(a, abi.OpKVSet, `{"key":"k","value":7}`, abi.ErrBadRequest, "value must be a base64 string")
	check(a, abi.OpKVSet, `{"key":"k","value":"","ttl_ms":-1}`, abi.ErrBadRequest, "ttl_ms must be an integer from 0 to 1000000000000")
	check(a, abi.OpKVSet, `{"key":"k","value":"","ttl_ms":1.5}`, abi.ErrBadRequest, "ttl_ms must be an integer from 0 to 1000000000000")
	check(a, abi.OpKVGet, `{"key":5}`, abi.ErrBadRequest, "bad request: json: cannot unmarshal number into Go struct field kvReq.key of type string")

	// no store configured
	none := kvState("a", nil)
	for _, op := range []abi.Op{abi.OpKVGet, abi.OpKVSet, abi.OpKVDelete, abi.OpKVScan, abi.OpKVCAS} {
		check(none, op, `{"key":"k","value":""}`, abi.ErrNotAllowed, "key-value store not configured")
	}
}

func TestKVTTL(t *testing.T) {
	a := kvState("a", newMemKV())
	kvOp(a, abi.OpKVSet, `{"key":"short","value":"eA==","ttl_ms":50}`)
	kvOp(a, abi.OpKVSet, `{"key":"long","value":"eA==","ttl_ms":60000}`)
	kvOp(a, abi.OpKVSet, `{"key":"forever","value":"eA==","ttl_ms":0}`)
	if _, res := kvOp(a, abi.OpKVGet, `{"key":"short"}`); res != `{"found":true,"value":"eA=="}` {
		t.Fatalf("before expiry: %s", res)
	}
	time.Sleep(120 * time.Millisecond)
	if _, res := kvOp(a, abi.OpKVGet, `{"key":"short"}`); res != `{"found":false,"value":null}` {
		t.Fatalf("after expiry: %s", res)
	}
	if _, res := kvOp(a, abi.OpKVScan, `{}`); res != `[{"key":"forever","value":"eA=="},{"key":"long","value":"eA=="}]` {
		t.Fatalf("scan after expiry: %s", res)
	}
	// an expired key is absent for compare-and-set
	kvOp(a, abi.OpKVSet, `{"key":"lease","value":"eA==","ttl_ms":30}`)
	if _, res := kvOp(a, abi.OpKVCAS, `{"key":"lease","old":null,"value":"eQ=="}`); res != `{"swapped":false}` {
		t.Fatalf("cas on live lease: %s", res)
	}
	time.Sleep(80 * time.Millisecond)
	if _, res := kvOp(a, abi.OpKVCAS, `{"key":"lease","old":null,"value":"eQ=="}`); res != `{"swapped":true}` {
		t.Fatalf("cas on expired lease: %s", res)
	}
}

// kvGuest forwards raw ops: the event "kv" carries one binary argument, a
// little-endian i32 op code followed by the request; the ack is one binary
// value, the i32 return of call followed by the result (or error text).
func kvGuest(nsp, extraEvent string) string {
	decl := fmt.Sprintf(`{"namespaces":[%q],"events":["kv"%s]}`, nsp, extraEvent)
	const ack = `{"args":[{"_placeholder":true,"num":0}]}`
	return fmt.Sprintf(`(module
 (import "edged_v1" "call" (func $call (param i32 i32 i32) (result i32)))
 (import "edged_v1" "attachment_read" (func $att_read (param i32 i32 i32) (result i32)))
 (import "edged_v1" "attach" (func $attach (param i32 i32) (result i32)))
 (import "edged_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
 (memory (export "memory") 4)
 (data (i32.const 0) "%s")
 (data (i32.const 2048) "%s")
 (func (export "edged_abi_v1"))
 (func (export "edged_init") (param i32) (result i32)
  (drop (call $call (i32.const 1) (i32.const 0) (i32.const %d))) (i32.const 0))
 (func (export "edged_on") (param $kind i32) (param $len i32) (result i32)
  (local $n i32) (local $r i32) (local $m i32)
  (if (i32.ne (local.get $kind) (i32.const 3)) (then (return (i32.const -2))))
  (local.set $n (call $att_read (i32.const 0) (i32.const 65536) (i32.const 65536)))
  (local.set $r (call $call (i32.load (i32.const 65536)) (i32.const 65540) (i32.sub (local.get $n) (i32.const 4))))
  (local.set $m (call $result_read (i32.const 131076) (i32.const 65536)))
  (i32.store (i32.const 131072) (local.get $r))
  (drop (call $attach (i32.const 131072) (i32.add (local.get $m) (i32.const 4))))
  (drop (call $call (i32.const 4) (i32.const 2048) (i32.const %d)))
  (i32.const 0)))
`, watString(decl), watString(ack), len(decl), len(ack))
}

// kvCall runs op through a kvGuest connected on nsp.
func kvCall(t testing.TB, c *wiretest.Client, nsp string, id int, op abi.Op, req string) (int32, string) {
	t.Helper()
	c.Send(fmt.Sprintf(`451-%s,%d["kv",{"_placeholder":true,"num":0}]`, nsp, id))
	c.SendBinary(append(binary.LittleEndian.AppendUint32(nil, uint32(op)), req...))
	c.Expect(fmt.Sprintf(`461-%s,%d[{"_placeholder":true,"num":0}]`, nsp, id))
	bin, ok := strings.CutPrefix(c.Read(), "bin:")
	if !ok || len(bin) < 4 {
		t.Fatalf("no binary ack: %q", bin)
	}
	return int32(binary.LittleEndian.Uint32([]byte(bin))), bin[4:]
}

func TestKVInGuest(t *testing.T) {
	kv := newMemKV()
	e := newKVEnv(t, kv, map[string][]byte{
		"a.wasm": mustWAT(t, kvGuest("/a", "")),
		"b.wasm": mustWAT(t, kvGuest("/b", "")),
	})
	if err := e.m.Watch(); err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	connect(t, c, "/a")
	connect(t, c, "/b")
	must := func(nsp string, id int, op abi.Op, req string, wantCode int32, want string) {
		t.Helper()
		code, res := kvCall(t, c, nsp, id, op, req)
		if code != wantCode || res != want {
			t.Fatalf("%s op %d: got %d %q, want %d %q", nsp, op, code, res, wantCode, want)
		}
	}
	// the same key in two plugins
	must("/a", 1, abi.OpKVSet, `{"key":"k","value":"`+b64("A")+`"}`, 0, "")
	must("/b", 2, abi.OpKVSet, `{"key":"k","value":"`+b64("B")+`"}`, 0, "")
	must("/a", 3, abi.OpKVGet, `{"key":"k"}`, int32(len(`{"found":true,"value":"QQ=="}`)), `{"found":true,"value":"QQ=="}`)
	must("/b", 4, abi.OpKVGet, `{"key":"k"}`, int32(len(`{"found":true,"value":"Qg=="}`)), `{"found":true,"value":"Qg=="}`)
	if v, _, _ := kv.Get("a", "k"); string(v) != "A" {
		t.Fatalf("store holds %q under plugin a", v)
	}
	must("/a", 5, abi.OpKVSet, `{"key":"`+strings.Repeat("k", 1025)+`","value":""}`, abi.ErrTooLarge, "key must be 1 to 1024 bytes (got 1025)")
	must("/a", 6, abi.OpKVCAS, `{"key":"k","old":"QQ==","value":"QTI="}`, int32(len(`{"swapped":true}`)), `{"swapped":true}`)

	// a new version of a sees the same data
	replaceFile(t, filepath.Join(e.dir, "a.wasm"), mustWAT(t, kvGuest("/a", `,"other"`)))
	if ev := e.waitReload(t, "a"); ev.err != nil || ev.version == "" {
		t.Fatalf("reload: %+v", ev)
	}
	must("/a", 7, abi.OpKVGet, `{"key":"k"}`, int32(len(`{"found":true,"value":"QTI="}`)), `{"found":true,"value":"QTI="}`)
}

func TestKVNotConfigured(t *testing.T) {
	e := newEnv(t, map[string][]byte{"a.wasm": mustWAT(t, kvGuest("/a", ""))})
	c := e.dial(t)
	connect(t, c, "/a")
	code, res := kvCall(t, c, "/a", 1, abi.OpKVGet, `{"key":"k"}`)
	if code != abi.ErrNotAllowed || res != "key-value store not configured" {
		t.Fatalf("got %d %q", code, res)
	}
}

// newKVEnv is newEnv with a key-value store.
func newKVEnv(t *testing.T, kv store.KV, files map[string][]byte) *env {
	t.Helper()
	e, err := startEnvOpts(t, files, func(o *Options) { o.KV = kv })
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return e
}
