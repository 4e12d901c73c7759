package host_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

var fastHeartbeat = host.Options{PingInterval: 30 * time.Millisecond, PingTimeout: 30 * time.Millisecond}

func TestHeartbeatWebSocket(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	s := h.session()
	// Answered pings keep the session alive well past one interval+timeout.
	for range 5 {
		expectText(t, ws, "2")
		writeWS(t, ws, websocket.MessageText, "3")
	}
	if n := h.srv.ClientsCount(); n != 1 {
		t.Fatalf("ClientsCount = %d", n)
	}
	// An unanswered ping closes the session.
	expectText(t, ws, "2")
	s.expectClose(t, "ping timeout")
	expectWSClosed(t, ws)
}

func TestHeartbeatPolling(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	sid := h.handshake()
	s := h.session()
	for range 3 {
		if status, body := h.poll(sid); status != 200 || body != "2" {
			t.Fatalf("GET = %d %q, want ping", status, body)
		}
		if status, _ := h.post(sid, "3"); status != 200 {
			t.Fatalf("POST pong = %d", status)
		}
	}
	// No GET and no pong: the ping goes unanswered.
	s.expectClose(t, "ping timeout")
	if status, _ := h.poll(sid); status != 400 {
		t.Fatalf("GET after ping timeout = %d", status)
	}
}

func TestHeartbeatPendingPollGetsClose(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	sid := h.handshake()
	s := h.session()
	if status, body := h.poll(sid); status != 200 || body != "2" {
		t.Fatalf("GET = %d %q, want ping", status, body)
	}
	// The ping is not answered; the pending GET ends with a close packet.
	pending := h.pendingPoll(sid)
	s.expectClose(t, "ping timeout")
	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "1" {
		t.Fatalf("pending GET = %+v, want close packet", r)
	}
}
