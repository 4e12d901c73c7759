package plugins

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// callRecorder is an Observer that counts calls by plugin, kind and outcome.
type callRecorder struct {
	mu      sync.Mutex
	calls   map[string]int
	reloads map[string]int
}

func (r *callRecorder) Call(plugin, version, kind string, d time.Duration, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if version == "" || d <= 0 {
		outcome += " (bad version or duration)"
	}
	r.calls[plugin+" "+kind+" "+outcome]++
}

func (r *callRecorder) Reload(plugin, version string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reloads[fmt.Sprintf("%s ok=%v removed=%v", plugin, err == nil, version == "" && err == nil)]++
}

func (r *callRecorder) get(m map[string]int, key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[key]
}

func TestObserverOutcomes(t *testing.T) {
	rec := &callRecorder{calls: map[string]int{}, reloads: map[string]int{}}
	e, err := startEnvOpts(t, map[string][]byte{
		"okwat.wasm":   fixture(t, "okwat"),
		"spin.wasm":    fixture(t, "spin"),
		"spin.json":    []byte(`{"call_timeout_ms": 100}`),
		"trap.wasm":    fixture(t, "trap"),
		"membomb.wasm": fixture(t, "membomb"),
		"membomb.json": []byte(`{"memory_pages": 64}`),
	}, func(o *Options) { o.Observer = rec })
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	connect(t, c, "/wat")
	c.Send(`42/wat,1["echo","x"]`)
	c.Expect(`43/wat,1["x"]`)
	for _, name := range []string{"spin", "trap", "membomb"} {
		nsp := "/hostile-" + name
		connect(t, c, nsp)
		c.Send("42" + nsp + `,2["go"]`)
		c.Expect("43" + nsp + `,2[{"error":"plugin error"}]`)
	}
	for key, want := range map[string]int{
		"okwat event ok":        1,
		"spin event timeout":    1,
		"trap event trap":       1,
		"membomb event oom":     1,
		"okwat event trap":      0,
		"membomb event timeout": 0,
	} {
		if got := rec.get(rec.calls, key); got != want {
			t.Errorf("calls %q = %d, want %d (all: %v)", key, got, want, rec.calls)
		}
	}

	// a broken file is a failed reload, a removal a successful one
	replaceFile(t, filepath.Join(e.dir, "trap.wasm"), []byte("garbage"))
	if err := e.m.Reload(t.Context()); err == nil {
		t.Fatal("reload of a broken file succeeded")
	}
	if got := rec.get(rec.reloads, "trap ok=false removed=false"); got != 1 {
		t.Fatalf("failed reloads = %d (all: %v)", got, rec.reloads)
	}
}
