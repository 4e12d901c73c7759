package metrics

import (
	"testing"
	"time"
)

// TestHotPathAllocations: the observer methods called per packet, per
// broadcast and per plugin call allocate nothing once their series exist.
func TestHotPathAllocations(t *testing.T) {
	m := New()
	m.NamespaceCreated("/chat")
	calls := map[string]func(){
		"MessageIn":        func() { m.MessageIn(42) },
		"MessagesOut":      func() { m.MessagesOut(2, 42) },
		"VolatileDropped":  func() { m.VolatileDropped() },
		"Broadcast":        func() { m.Broadcast("/chat", 2) },
		"ServerAckLatency": func() { m.ServerAckLatency("/chat", time.Millisecond) },
		"RoomsChanged":     func() { m.RoomsChanged("/chat", 1) },
		"Call":             func() { m.Call("chat", "abc", "event", time.Millisecond, "ok") },
		"Op":               func() { m.Op("kv_get", time.Millisecond, nil) },
	}
	for name, f := range calls {
		f() // creates the series
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}
