package core

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edged-io/edged/internal/wiretest"
)

// obsRecorder is an Observer that counts what it is told.
type obsRecorder struct {
	mu     sync.Mutex
	events map[string]int
}

func newObsRecorder() *obsRecorder { return &obsRecorder{events: map[string]int{}} }

func (r *obsRecorder) add(key string, n int) {
	r.mu.Lock()
	r.events[key] += n
	r.mu.Unlock()
}

func (r *obsRecorder) NamespaceCreated(nsp string)           { r.add("nsp "+nsp, 1) }
func (r *obsRecorder) SocketConnected(nsp string)            { r.add("connect "+nsp, 1) }
func (r *obsRecorder) SocketDisconnected(nsp, reason string) { r.add("disconnect "+nsp+" "+reason, 1) }
func (r *obsRecorder) Broadcast(nsp string, recipients int) {
	r.add("broadcast "+nsp, 1)
	r.add("recipients "+nsp, recipients)
}
func (r *obsRecorder) RoomsChanged(nsp string, delta int) { r.add("rooms "+nsp, delta) }
func (r *obsRecorder) VolatileDropped()                   { r.add("volatile dropped", 1) }
func (r *obsRecorder) ServerAckLatency(nsp string, d time.Duration) {
	if d > 0 {
		r.add("server ack "+nsp, 1)
	}
}
func (r *obsRecorder) ClientAckLatency(nsp string, d time.Duration) {
	if d > 0 {
		r.add("client ack "+nsp, 1)
	}
}

func (r *obsRecorder) waitFor(t *testing.T, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := r.events[key]
		all := fmt.Sprint(r.events)
		r.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("observer %q = %d, want %d (all: %s)", key, got, want, all)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserver(t *testing.T) {
	rec := newObsRecorder()
	srv, url := newTestServer(t, Options{Observer: rec})
	rec.waitFor(t, "nsp /", 1)
	chat := srv.Of("/chat")
	rec.waitFor(t, "nsp /chat", 1)
	chat.OnConnection(func(s *Socket) {
		s.Join("room")
		s.On("say", func(e *Event) {
			_ = s.To("room").Emit("said", mustArgs(t, e)...)
			_ = e.Ack("ok")
		})
		s.On("ask", func(*Event) {
			go func() {
				_, _ = s.Timeout(2*time.Second).EmitWithAck(context.Background(), "question")
			}()
		})
	})
	a, b := wiretest.Dial(t, url), wiretest.Dial(t, url)
	connect(t, a, "/chat")
	connect(t, b, "/chat")
	rec.waitFor(t, "connect /chat", 2)
	rec.waitFor(t, "rooms /chat", 3) // "room" and each socket's own

	a.Send(`42/chat,1["say","hi"]`)
	if got := b.Read(); got != `42/chat,["said","hi"]` {
		t.Fatalf("b got %q", got)
	}
	if got := a.Read(); got != `43/chat,1["ok"]` {
		t.Fatalf("a got %q", got)
	}
	rec.waitFor(t, "broadcast /chat", 1)
	rec.waitFor(t, "recipients /chat", 1) // the sender is excluded
	rec.waitFor(t, "server ack /chat", 1)

	a.Send(`42/chat,["ask"]`)
	frame := a.Read()
	id := strings.TrimSuffix(strings.TrimPrefix(frame, "42/chat,"), `["question"]`)
	a.Send("43/chat," + id + `[1]`)
	rec.waitFor(t, "client ack /chat", 1)

	a.Send("41/chat,")
	rec.waitFor(t, "disconnect /chat client namespace disconnect", 1)
	rec.waitFor(t, "rooms /chat", 2)
}

// TestObserverVolatileDropped: a polling client without a pending GET
// cannot receive now, so a volatile emit is dropped.
func TestObserverVolatileDropped(t *testing.T) {
	rec := newObsRecorder()
	srv, url := newTestServer(t, Options{Observer: rec})
	srv.OnConnection(func(s *Socket) { _ = s.Volatile().Emit("typing") })
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(url, "websocket"), "ws") + "polling"
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := wiretest.Between(string(body), `"sid":"`, `"`)
	resp, err = http.Post(base+"&sid="+sid, "text/plain", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec.waitFor(t, "connect /", 1)
	rec.waitFor(t, "volatile dropped", 1)
}
