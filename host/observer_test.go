package host_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

// recorder is a host.Observer that counts what it is told.
type recorder struct {
	mu     sync.Mutex
	events map[string]int
}

func newRecorder() *recorder { return &recorder{events: map[string]int{}} }

func (r *recorder) add(key string, n int) {
	r.mu.Lock()
	r.events[key] += n
	r.mu.Unlock()
}

func (r *recorder) ConnOpened(transport string) { r.add("open "+transport, 1) }
func (r *recorder) ConnUpgraded()               { r.add("upgrade", 1) }
func (r *recorder) ConnClosed(transport, reason string) {
	r.add("close "+transport+" "+reason, 1)
}
func (r *recorder) MessageIn(bytes int) { r.add("in", 1); r.add("in bytes", bytes) }
func (r *recorder) MessagesOut(n, bytes int) {
	r.add("out", n)
	r.add("out bytes", bytes)
}
func (r *recorder) SlowConsumer() { r.add("slow", 1) }

func (r *recorder) get(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[key]
}

// waitFor polls until the recorder holds want for key.
func (r *recorder) waitFor(t *testing.T, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for r.get(key) != want {
		if time.Now().After(deadline) {
			r.mu.Lock()
			t.Fatalf("observer %q = %d, want %d (all: %v)", key, r.events[key], want, fmt.Sprint(r.events))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserverPollingUpgrade(t *testing.T) {
	rec := newRecorder()
	h := newHarness(t, host.Options{Observer: rec})
	sid := h.handshake()
	s := h.session()
	rec.waitFor(t, "open polling", 1)
	if status, _ := h.post(sid, "4hello"); status != 200 {
		t.Fatalf("POST status %d", status)
	}
	s.expectMessage(t, "hello", false)
	rec.waitFor(t, "in", 1)
	rec.waitFor(t, "in bytes", 5)

	ws := h.upgrade(sid)
	rec.waitFor(t, "upgrade", 1)
	if err := s.conn.Send(host.Message{Data: []byte("abc")}, host.Message{Data: []byte("de"), Binary: true}); err != nil {
		t.Fatal(err)
	}
	expectText(t, ws, "4abc")
	rec.waitFor(t, "out", 2)
	rec.waitFor(t, "out bytes", 5)
	if err := ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Log(err)
	}
	s.expectClose(t, "transport close")
	// the close is reported with the transport the session ended on
	rec.waitFor(t, "close websocket transport close", 1)
	if n := rec.get("open websocket"); n != 0 {
		t.Fatalf("an upgrade is not a new websocket session: %d", n)
	}
}

func TestObserverWebSocketAndSlowConsumer(t *testing.T) {
	rec := newRecorder()
	h := newHarness(t, host.Options{Observer: rec, MaxQueuedMessages: 4})
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	h.session()
	rec.waitFor(t, "open websocket", 1)

	h.handshake() // nobody polls: the queue grows until it overflows
	s := h.session()
	for range 10 {
		if err := s.conn.Send(host.Message{Data: []byte("x")}); err != nil {
			break
		}
	}
	s.expectClose(t, "transport error")
	rec.waitFor(t, "slow", 1)
	rec.waitFor(t, "close polling transport error", 1)
}
