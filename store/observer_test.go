package store

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/edged-io/edged/core"
)

// opRecorder is an Observer that counts operations and their errors.
type opRecorder struct {
	mu  sync.Mutex
	ops map[string]int
}

func (r *opRecorder) Op(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		op += " (negative duration)"
	}
	if err != nil {
		op += " error"
	}
	r.ops[op]++
}

func (r *opRecorder) get(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ops[op]
}

func TestObserver(t *testing.T) {
	rec := &opRecorder{ops: map[string]int{}}
	db := openTest(t, t.TempDir(), Options{FlushInterval: time.Hour, Observer: rec})
	kv := db.KV()
	must(t, kv.Set("p", "a", []byte("1"), 0))
	if _, _, err := kv.Get("p", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.CompareAndSet("p", "a", []byte("1"), []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Scan("p", "", 10); err != nil {
		t.Fatal(err)
	}
	must(t, kv.Delete("p", "a"))
	if err := kv.Set("p", "", []byte("x"), 0); !errors.Is(err, ErrKeyTooLong) {
		t.Fatalf("empty key: %v", err)
	}

	r := rs(db, &core.RecoveryOptions{MaxDisconnectionDuration: time.Minute, MaxPackets: 100})
	r.PersistSession("/", &core.Session{SID: "s1", PID: "p1", Rooms: []string{"s1"}})
	must(t, db.Flush())
	if _, err := r.RestoreSession("/", "p1", "0000000000000000"); err != nil {
		t.Fatal(err)
	}
	db.runGC()

	for op, want := range map[string]int{
		OpKVGet: 1, OpKVSet: 1, OpKVSet + " error": 1, OpKVCompareAndSet: 1, OpKVScan: 1, OpKVDelete: 1,
		OpRestoreSession: 1, OpGC: 1,
	} {
		if got := rec.get(op); got != want {
			t.Errorf("%s: %d, want %d (all: %v)", op, got, want, rec.ops)
		}
	}
	if rec.get(OpFlush) < 1 {
		t.Errorf("no flush reported (all: %v)", rec.ops)
	}

	// without an observer the KV is the plain one
	if _, wrapped := ObservedKV(NewMemoryKV(), nil).(observedKV); wrapped {
		t.Fatal("nil observer wraps the KV")
	}
}
