package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func kvBackends(t *testing.T) map[string]KV {
	return map[string]KV{"memory": NewMemoryKV(), "badger": openTest(t, t.TempDir(), Options{}).KV()}
}

func TestKV(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, kv KV)
	}{
		{"get set delete", func(t *testing.T, kv KV) {
			if _, found, err := kv.Get("a", "k"); found || err != nil {
				t.Fatalf("absent: found=%v err=%v", found, err)
			}
			must(t, kv.Set("a", "k", []byte("v1"), 0))
			must(t, kv.Set("a", "k", []byte("v2"), 0))
			if v, found, err := kv.Get("a", "k"); !found || err != nil || string(v) != "v2" {
				t.Fatalf("get: %q %v %v", v, found, err)
			}
			must(t, kv.Delete("a", "k"))
			must(t, kv.Delete("a", "k"))
			if _, found, _ := kv.Get("a", "k"); found {
				t.Fatal("deleted key found")
			}
		}},
		{"plugins are isolated", func(t *testing.T, kv KV) {
			must(t, kv.Set("a", "k", []byte("of a"), 0))
			must(t, kv.Set("ab", "k", []byte("of ab"), 0))
			if _, found, _ := kv.Get("b", "k"); found {
				t.Fatal("b sees a's key")
			}
			pairs, err := kv.Scan("a", "", 10)
			must(t, err)
			if len(pairs) != 1 || string(pairs[0].Value) != "of a" {
				t.Fatalf("scan of a: %+v", pairs)
			}
			must(t, kv.Delete("b", "k"))
			if v, _, _ := kv.Get("a", "k"); string(v) != "of a" {
				t.Fatal("b deleted a's key")
			}
		}},
		{"scan by prefix in key order with limit", func(t *testing.T, kv KV) {
			for _, k := range []string{"s/3", "s/1", "t/1", "s/2", "r"} {
				must(t, kv.Set("a", k, []byte(k), 0))
			}
			pairs, err := kv.Scan("a", "s/", 2)
			must(t, err)
			if len(pairs) != 2 || pairs[0].Key != "s/1" || pairs[1].Key != "s/2" || string(pairs[1].Value) != "s/2" {
				t.Fatalf("scan: %+v", pairs)
			}
			if pairs, _ := kv.Scan("a", "s/", 0); pairs == nil || len(pairs) != 0 {
				t.Fatalf("limit 0: %#v", pairs)
			}
			if pairs, _ := kv.Scan("a", "none", 5); pairs == nil || len(pairs) != 0 {
				t.Fatalf("no match: %#v", pairs)
			}
			if pairs, _ := kv.Scan("a", "", MaxScanLimit+5); len(pairs) != 5 {
				t.Fatalf("all: %+v", pairs)
			}
		}},
		{"compare and set", func(t *testing.T, kv KV) {
			ok, err := kv.CompareAndSet("a", "c", nil, []byte("1"), 0)
			if !ok || err != nil {
				t.Fatalf("create: %v %v", ok, err)
			}
			if ok, _ := kv.CompareAndSet("a", "c", nil, []byte("x"), 0); ok {
				t.Fatal("create over an existing key")
			}
			if ok, _ := kv.CompareAndSet("a", "c", []byte("0"), []byte("x"), 0); ok {
				t.Fatal("swap with a wrong old value")
			}
			if ok, _ := kv.CompareAndSet("a", "missing", []byte("0"), []byte("x"), 0); ok {
				t.Fatal("swap of an absent key")
			}
			if ok, _ := kv.CompareAndSet("a", "c", []byte("1"), []byte("2"), 0); !ok {
				t.Fatal("swap with the right old value")
			}
			if v, _, _ := kv.Get("a", "c"); string(v) != "2" {
				t.Fatalf("after swap %q", v)
			}
		}},
		{"concurrent CAS increments lose nothing", func(t *testing.T, kv KV) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 25 {
						for {
							cur, found, err := kv.Get("a", "n")
							if err != nil {
								t.Error(err)
								return
							}
							var n int
							var old []byte
							if found {
								old = cur
								fmt.Sscan(string(cur), &n)
							}
							ok, err := kv.CompareAndSet("a", "n", old, []byte(fmt.Sprint(n+1)), 0)
							if err != nil {
								t.Error(err)
								return
							}
							if ok {
								break
							}
						}
					}
				})
			}
			wg.Wait()
			if v, _, _ := kv.Get("a", "n"); string(v) != "200" {
				t.Fatalf("counter %q, want 200", v)
			}
		}},
		{"limits", func(t *testing.T, kv KV) {
			long := strings.Repeat("k", MaxKeyBytes+1)
			for name, err := range map[string]error{
				"empty key":    kv.Set("a", "", []byte("v"), 0),
				"long key":     kv.Set("a", long, []byte("v"), 0),
				"long get":     func() error { _, _, err := kv.Get("a", long); return err }(),
				"long prefix":  func() error { _, err := kv.Scan("a", long, 1); return err }(),
				"long cas key": func() error { _, err := kv.CompareAndSet("a", long, nil, nil, 0); return err }(),
			} {
				if !errors.Is(err, ErrKeyTooLong) {
					t.Errorf("%s: %v", name, err)
				}
			}
			big := make([]byte, MaxValueBytes+1)
			if err := kv.Set("a", "k", big, 0); !errors.Is(err, ErrValueTooLarge) {
				t.Errorf("big value: %v", err)
			}
			if _, err := kv.CompareAndSet("a", "k", nil, big, 0); !errors.Is(err, ErrValueTooLarge) {
				t.Errorf("big cas value: %v", err)
			}
			must(t, kv.Set("a", strings.Repeat("k", MaxKeyBytes), make([]byte, MaxValueBytes), 0))
			if err := kv.Set("a/b", "k", nil, 0); err == nil {
				t.Error("plugin name with a slash accepted")
			}
		}},
		{"ttl", func(t *testing.T, kv KV) {
			must(t, kv.Set("a", "short", []byte("v"), time.Second))
			must(t, kv.Set("a", "long", []byte("v"), time.Hour))
			if ok, _ := kv.CompareAndSet("a", "cas", nil, []byte("v"), time.Second); !ok {
				t.Fatal("cas")
			}
			if _, found, _ := kv.Get("a", "short"); !found {
				t.Fatal("expired at once")
			}
			// a real time requirement: Badger expires by the second, so a 1s
			// TTL is gone after at most 2s
			time.Sleep(2100 * time.Millisecond)
			for _, k := range []string{"short", "cas"} {
				if _, found, _ := kv.Get("a", k); found {
					t.Fatalf("%s outlived its TTL", k)
				}
			}
			if pairs, _ := kv.Scan("a", "", 10); len(pairs) != 1 || pairs[0].Key != "long" {
				t.Fatalf("scan after expiry: %+v", pairs)
			}
		}},
	}
	for _, tc := range cases {
		for name, kv := range kvBackends(t) {
			t.Run(name+"/"+tc.name, func(t *testing.T) { tc.run(t, kv) })
		}
	}
}

func TestKVSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Logger: quietLog})
	must(t, err)
	must(t, db.KV().Set("chat", "history/lobby", []byte(`["hi"]`), 0))
	must(t, db.Close())
	db = openTest(t, dir, Options{})
	if v, found, err := db.KV().Get("chat", "history/lobby"); !found || err != nil || !bytes.Equal(v, []byte(`["hi"]`)) {
		t.Fatalf("after reopen: %q %v %v", v, found, err)
	}
}
