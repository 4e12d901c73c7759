package host_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/edged-io/edged/host"
)

func TestPollingMessages(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()

	// Client to server: text and binary packets of one POST, in order.
	status, body := h.post(sid, "4hello\x1ebAQIDBA==\x1e4€")
	if status != 200 || body != "ok" {
		t.Fatalf("POST = %d %q", status, body)
	}
	s.expectMessage(t, "hello", false)
	s.expectMessage(t, "\x01\x02\x03\x04", true)
	s.expectMessage(t, "€", false)

	// Server to client: everything queued goes out in one response.
	if err := s.conn.Send(host.Message{Data: []byte("a")}, host.Message{Data: []byte{1, 2, 3, 4}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.Send(host.Message{Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	status, body = h.poll(sid)
	if status != 200 || body != "4a\x1ebAQIDBA==\x1e4b" {
		t.Fatalf("GET = %d %q", status, body)
	}

	// A pending GET is answered as soon as something is sent.
	pending := h.pendingPoll(sid)
	if !s.conn.Writable() {
		t.Fatal("not writable with a GET pending")
	}
	if err := s.conn.Send(host.Message{Data: []byte("later")}); err != nil {
		t.Fatal(err)
	}
	if s.conn.Writable() {
		t.Fatal("writable once a message was handed to the pending GET")
	}
	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "4later" {
		t.Fatalf("pending GET = %+v", r)
	}
	if s.conn.Writable() {
		t.Fatal("writable without a GET pending")
	}
}

func TestPollingResponseHeaders(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	res := h.do("POST", pollQuery(sid), strings.NewReader("4x"), http.Header{"User-Agent": {"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0)"}})
	res.Body.Close()
	if res.Header.Get("Content-Type") != "text/html" || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-XSS-Protection") != "0" {
		t.Fatalf("POST headers = %v", res.Header)
	}
}

func TestPollingConcurrentGet(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	first := h.pendingPoll(sid)
	status, _ := h.poll(sid)
	if status != 400 {
		t.Fatalf("second GET status = %d, want 400", status)
	}
	if r := recv(t, first, "the first GET"); r.status != 200 || r.body != "1" {
		t.Fatalf("first GET = %+v, want 200 \"1\"", r)
	}
	ev := s.expectClose(t, "transport error")
	if !errors.Is(ev.err, host.ErrRequestOverlap) {
		t.Fatalf("close error = %v", ev.err)
	}
	if status, _ := h.poll(sid); status != 400 {
		t.Fatalf("GET after close = %d", status)
	}
}

// blockingHandler blocks in OnMessage until released.
type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
	closed  chan closeEvent
}

func (b *blockingHandler) OnMessage([]byte, bool) {
	b.entered <- struct{}{}
	<-b.release
}

func (b *blockingHandler) OnClose(reason string, err error) { b.closed <- closeEvent{reason, err} }

func TestPollingConcurrentPost(t *testing.T) {
	bh := &blockingHandler{entered: make(chan struct{}, 1), release: make(chan struct{}), closed: make(chan closeEvent, 1)}
	h := newHarness(t, host.Options{OnConnection: func(c *host.Conn) { c.SetHandler(bh) }})
	sid := h.handshake()
	first := make(chan int, 1)
	go func() {
		status, _ := h.post(sid, "4first")
		first <- status
	}()
	recv(t, bh.entered, "the first POST's message")
	if status, _ := h.post(sid, "4second"); status != 400 {
		t.Fatalf("second POST status = %d, want 400", status)
	}
	close(bh.release)
	if status := recv(t, first, "the first POST"); status != 200 {
		t.Fatalf("first POST status = %d", status)
	}
	ev := recv(t, bh.closed, "OnClose")
	if ev.reason != "transport error" || !errors.Is(ev.err, host.ErrRequestOverlap) {
		t.Fatalf("OnClose = %+v", ev)
	}
}

func TestPollingPostErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       io.Reader
		header     http.Header
		wantStatus int
		wantReason string
		wantErr    error
		wantMsgs   []string
	}{
		{name: "too large", body: strings.NewReader("4" + strings.Repeat("x", 100)), wantStatus: 413, wantReason: "transport error", wantErr: host.ErrPayloadTooLarge},
		{name: "too large chunked", body: io.MultiReader(strings.NewReader("4"), strings.NewReader(strings.Repeat("x", 100))), wantStatus: 413, wantReason: "transport error", wantErr: host.ErrPayloadTooLarge},
		{name: "at the limit", body: strings.NewReader("4" + strings.Repeat("x", 63)), wantStatus: 200, wantMsgs: []string{strings.Repeat("x", 63)}},
		{name: "parse error", body: strings.NewReader("abc"), wantStatus: 400, wantReason: "parse error", wantErr: host.ErrBadPacket},
		{name: "parse error after messages", body: strings.NewReader("4a\x1e4b\x1ex"), wantStatus: 400, wantReason: "parse error", wantErr: host.ErrBadPacket, wantMsgs: []string{"a", "b"}},
		{name: "binary content type", body: strings.NewReader("4a"), header: http.Header{"Content-Type": {"application/octet-stream"}}, wantStatus: 400, wantReason: "transport error", wantErr: host.ErrBadPacket},
		{name: "client ping", body: strings.NewReader("2"), wantStatus: 200, wantReason: "transport error", wantErr: host.ErrHeartbeatDirection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, host.Options{MaxHTTPBufferSize: 64})
			sid := h.handshake()
			s := h.session()
			res := h.do("POST", pollQuery(sid), tt.body, tt.header)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			for _, m := range tt.wantMsgs {
				s.expectMessage(t, m, false)
			}
			if tt.wantReason == "" {
				return
			}
			ev := s.expectClose(t, tt.wantReason)
			if !errors.Is(ev.err, tt.wantErr) {
				t.Fatalf("close error = %v, want %v", ev.err, tt.wantErr)
			}
			if status, _ := h.poll(sid); status != 400 {
				t.Fatalf("GET after close = %d", status)
			}
		})
	}
}

func TestPollingCancelledGet(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.base+"?"+pollQuery(sid), nil)
	done := make(chan error, 1)
	go func() {
		res, err := h.ts.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	recv(t, h.waiting, "the pending GET")
	cancel()
	recv(t, done, "the cancelled GET")
	ev := s.expectClose(t, "transport error")
	if !errors.Is(ev.err, host.ErrPollClosed) {
		t.Fatalf("close error = %v", ev.err)
	}
}

func TestPollingClientClose(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	pending := h.pendingPoll(sid)
	if status, body := h.post(sid, "1"); status != 200 || body != "ok" {
		t.Fatalf("POST close = %d %q", status, body)
	}
	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "6" {
		t.Fatalf("pending GET = %+v, want noop", r)
	}
	s.expectClose(t, "transport close")
	if status, _ := h.poll(sid); status != 400 {
		t.Fatalf("GET after close = %d", status)
	}
}

func TestPollingUnknownMethod(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	if status, _ := h.fetch("PUT", pollQuery(sid), ""); status != 500 {
		t.Fatalf("PUT status = %d, want 500 as the reference", status)
	}
}

func TestPollingIgnoredPackets(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	if status, _ := h.post(sid, "6\x1e5\x1e0\x1e3\x1e4after"); status != 200 {
		t.Fatalf("POST status = %d", status)
	}
	s.expectMessage(t, "after", false)
}

// TestPollingGetRacingClosingPost sends a malformed POST and a GET at the
// same time, as a polling client (whose GET is always in flight) does: in
// whichever order the server reads them, the GET gets the close packet.
func TestPollingGetRacingClosingPost(t *testing.T) {
	h := newHarness(t, host.Options{})
	for range 20 {
		sid := h.handshake()
		s := h.session()
		postDone := make(chan int, 1)
		go func() {
			status, _ := h.post(sid, "abc")
			postDone <- status
		}()
		get := h.pollAsync(sid)
		if r := recv(t, get, "the GET"); r.status != 200 || r.body != "1" {
			t.Fatalf("GET = %+v, want the close packet", r)
		}
		if status := recv(t, postDone, "the POST"); status != 400 {
			t.Fatalf("POST = %d", status)
		}
		s.expectClose(t, "parse error")
		if status, body := h.poll(sid); status != 400 {
			t.Fatalf("GET after the POST answer = %d %q", status, body)
		}
	}
}

func TestPollingTooLargeWithPendingGet(t *testing.T) {
	h := newHarness(t, host.Options{MaxHTTPBufferSize: 10})
	sid := h.handshake()
	s := h.session()
	pending := h.pendingPoll(sid)
	if status, _ := h.post(sid, "4"+strings.Repeat("x", 20)); status != 413 {
		t.Fatalf("POST = %d", status)
	}
	// A noop, not a close packet: the client learns of the error from the 413.
	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "6" {
		t.Fatalf("pending GET = %+v", r)
	}
	s.expectClose(t, "transport error")
}
