package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

func TestClosePollingFlushes(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	if err := s.conn.Send(host.Message{Data: []byte("a")}, host.Message{Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	s.conn.Close()
	if err := s.conn.Send(host.Message{Data: []byte("late")}); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Send after Close = %v, want ErrClosed", err)
	}
	if status, body := h.poll(sid); status != 200 || body != "4a\x1e4b" {
		t.Fatalf("GET = %d %q", status, body)
	}
	// The close packet goes alone, on the next GET.
	if status, body := h.poll(sid); status != 200 || body != "1" {
		t.Fatalf("second GET = %d %q", status, body)
	}
	s.expectClose(t, "forced close")
	if status, _ := h.poll(sid); status != 400 {
		t.Fatalf("GET after close = %d", status)
	}
}

func TestClosePollingPendingGet(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	pending := h.pendingPoll(sid)
	s.conn.Close()
	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "1" {
		t.Fatalf("pending GET = %+v", r)
	}
	s.expectClose(t, "forced close")
}

func TestClosePollingTimeout(t *testing.T) {
	h := newHarness(t, host.Options{CloseTimeout: 20 * time.Millisecond})
	h.handshake()
	s := h.session()
	s.conn.Close()
	s.expectClose(t, "forced close")
	if n := h.srv.ClientsCount(); n != 0 {
		t.Fatalf("ClientsCount = %d", n)
	}
}

func TestCloseWebSocketFlushes(t *testing.T) {
	h := newHarness(t, host.Options{})
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	s := h.session()
	for i := range 100 {
		if err := s.conn.Send(host.Message{Data: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.conn.Close()
	for i := range 100 {
		expectText(t, ws, fmt.Sprintf("4m%d", i))
	}
	err := expectWSClosed(t, ws)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("close = %v", err)
	}
	s.expectClose(t, "forced close")
}

func TestCloseNow(t *testing.T) {
	h := newHarness(t, host.Options{})
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	s := h.session()
	s.conn.CloseNow("parse error")
	s.expectClose(t, "parse error")
	expectWSClosed(t, ws)
	if err := s.conn.Send(host.Message{Data: []byte("x")}); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("Send after CloseNow = %v", err)
	}
	if s.conn.Writable() {
		t.Fatal("closed conn is writable")
	}
}

func TestServerClose(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	polling := h.session()
	idle := h.handshake()
	idleSession := h.session()
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	wsSession := h.session()
	pending := h.pendingPoll(sid)
	if err := wsSession.conn.Send(host.Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- h.srv.Shutdown(ctx) }()

	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "1" {
		t.Fatalf("pending GET = %+v", r)
	}
	expectText(t, ws, "4bye")
	expectWSClosed(t, ws)
	for _, s := range []*session{polling, idleSession, wsSession} {
		s.expectClose(t, "forced close")
	}
	if err := recv(t, shutdown, "Shutdown"); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if n := h.srv.ClientsCount(); n != 0 {
		t.Fatalf("ClientsCount = %d", n)
	}
	if status, _ := h.poll(idle); status != 400 {
		t.Fatalf("GET after close = %d", status)
	}
	if status, body := h.fetch("GET", "EIO=4&transport=polling", ""); status != 400 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("handshake after close = %d %s", status, body)
	}
}

func TestSlowConsumer(t *testing.T) {
	tests := []struct {
		name string
		opts host.Options
		msgs []host.Message
	}{
		{name: "messages", opts: host.Options{MaxQueuedMessages: 4}, msgs: []host.Message{{Data: []byte("a")}, {Data: []byte("b")}}},
		{name: "bytes", opts: host.Options{MaxQueuedBytes: 10}, msgs: []host.Message{{Data: []byte("0123456")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			h.handshake() // nobody polls: the queue keeps the open packet and grows
			s := h.session()
			var err error
			for range 10 {
				if err = s.conn.Send(tt.msgs...); err != nil {
					break
				}
			}
			if !errors.Is(err, host.ErrQueueFull) {
				t.Fatalf("Send = %v, want ErrQueueFull", err)
			}
			ev := s.expectClose(t, "transport error")
			if !errors.Is(ev.err, host.ErrQueueFull) {
				t.Fatalf("close error = %v", ev.err)
			}
		})
	}
}

func TestBigMessageIntoEmptyQueue(t *testing.T) {
	h := newHarness(t, host.Options{MaxQueuedBytes: 10})
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	s := h.session()
	big := strings.Repeat("x", 100)
	if err := s.conn.Send(host.Message{Data: []byte(big)}); err != nil {
		t.Fatalf("Send into an empty queue = %v", err)
	}
	expectText(t, ws, "4"+big)
}

// TestSendAtomic sends groups from many goroutines and checks that each
// group arrives whole and in order, on both transports.
func TestSendAtomic(t *testing.T) {
	const senders, groups, size = 8, 50, 3
	send := func(t *testing.T, c *host.Conn) {
		var wg sync.WaitGroup
		for g := range senders {
			wg.Go(func() {
				for i := range groups {
					msgs := make([]host.Message, size)
					for k := range msgs {
						msgs[k] = host.Message{Data: fmt.Appendf(nil, "%d/%d/%d", g, i, k), Binary: k == size-1}
					}
					if err := c.Send(msgs...); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	check := func(t *testing.T, frames []string) {
		if len(frames) != senders*groups*size {
			t.Fatalf("got %d messages", len(frames))
		}
		next := make([]int, senders)
		for i := 0; i < len(frames); i += size {
			var g, n int
			if _, err := fmt.Sscanf(frames[i], "%d/%d/0", &g, &n); err != nil || n != next[g] {
				t.Fatalf("message %d = %q: group out of order (want %d/%d/0)", i, frames[i], g, next[g])
			}
			for k := 1; k < size; k++ {
				if want := fmt.Sprintf("%d/%d/%d", g, n, k); frames[i+k] != want {
					t.Fatalf("message %d = %q, want %q: groups interleaved", i+k, frames[i+k], want)
				}
			}
			next[g]++
		}
	}

	t.Run("websocket", func(t *testing.T) {
		h := newHarness(t, host.Options{})
		ws := h.mustDial("EIO=4&transport=websocket")
		expectTextPrefix(t, ws, "0")
		s := h.session()
		go send(t, s.conn)
		var frames []string
		for len(frames) < senders*groups*size {
			typ, data := readWS(t, ws)
			if typ == websocket.MessageText {
				data = strings.TrimPrefix(data, "4")
			}
			frames = append(frames, data)
		}
		check(t, frames)
	})
	t.Run("polling", func(t *testing.T) {
		h := newHarness(t, host.Options{})
		sid := h.handshake()
		s := h.session()
		done := make(chan struct{})
		go func() {
			send(t, s.conn)
			close(done)
		}()
		var frames []string
		for len(frames) < senders*groups*size {
			status, body := h.poll(sid)
			if status != 200 {
				t.Fatalf("GET = %d", status)
			}
			for _, p := range strings.Split(body, "\x1e") {
				switch {
				case strings.HasPrefix(p, "4"):
					frames = append(frames, p[1:])
				case strings.HasPrefix(p, "b"):
					frames = append(frames, decodeB64(t, p[1:]))
				default:
					t.Fatalf("unexpected packet %q", p)
				}
			}
		}
		<-done
		check(t, frames)
	})
}

// TestSlowConsumerWebSocket sends to a client that never reads: the queue
// reaches its bound and the session closes, whatever the socket buffers hold.
func TestSlowConsumerWebSocket(t *testing.T) {
	h := newHarness(t, host.Options{MaxQueuedBytes: 1 << 20})
	h.mustDial("EIO=4&transport=websocket") // never read
	s := h.session()
	chunk := host.Message{Data: make([]byte, 64<<10), Binary: true}
	var err error
	for i := 0; i < 4096 && err == nil; i++ {
		err = s.conn.Send(chunk)
	}
	if !errors.Is(err, host.ErrQueueFull) {
		t.Fatalf("Send = %v, want ErrQueueFull", err)
	}
	ev := s.expectClose(t, "transport error")
	if !errors.Is(ev.err, host.ErrQueueFull) {
		t.Fatalf("close error = %v", ev.err)
	}
}
