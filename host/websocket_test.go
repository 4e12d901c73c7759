package host_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

func TestWebSocketOnly(t *testing.T) {
	h := newHarness(t, host.Options{PingInterval: time.Minute})
	ws := h.mustDial("EIO=4&transport=websocket")
	o := parseOpen(t, expectTextPrefix(t, ws, "0"))
	if len(o.Upgrades) != 0 || o.PingInterval != 60000 {
		t.Fatalf("open = %+v", o)
	}
	s := h.session()
	if s.conn.ID() != o.SID || s.conn.Transport() != "websocket" || s.conn.Upgraded() {
		t.Fatalf("conn %q %q %v", s.conn.ID(), s.conn.Transport(), s.conn.Upgraded())
	}

	writeWS(t, ws, websocket.MessageText, "4hello")
	s.expectMessage(t, "hello", false)
	writeWS(t, ws, websocket.MessageBinary, "\x01\x02\x03")
	s.expectMessage(t, "\x01\x02\x03", true)
	writeWS(t, ws, websocket.MessageText, "bAQI=")
	s.expectMessage(t, "\x01\x02", true)

	if err := s.conn.Send(host.Message{Data: []byte("text")}, host.Message{Data: []byte{9, 8}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	expectText(t, ws, "4text")
	if typ, got := readWS(t, ws); typ != websocket.MessageBinary || got != "\x09\x08" {
		t.Fatalf("binary frame = %v %q", typ, got)
	}

	ws.Close(websocket.StatusNormalClosure, "")
	s.expectClose(t, "transport close")
}

func TestWebSocketErrors(t *testing.T) {
	tests := []struct {
		name       string
		typ        websocket.MessageType
		data       string
		wantReason string
		wantErr    error
	}{
		{name: "too large", typ: websocket.MessageText, data: "4" + strings.Repeat("x", 64), wantReason: "transport error", wantErr: host.ErrPayloadTooLarge},
		{name: "too large binary", typ: websocket.MessageBinary, data: strings.Repeat("x", 65), wantReason: "transport error", wantErr: host.ErrPayloadTooLarge},
		{name: "parse error", typ: websocket.MessageText, data: "abc", wantReason: "parse error", wantErr: host.ErrBadPacket},
		{name: "empty text frame", typ: websocket.MessageText, data: "", wantReason: "parse error", wantErr: host.ErrBadPacket},
		{name: "client ping", typ: websocket.MessageText, data: "2", wantReason: "transport error", wantErr: host.ErrHeartbeatDirection},
		{name: "client close", typ: websocket.MessageText, data: "1", wantReason: "transport close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, host.Options{MaxHTTPBufferSize: 64})
			ws := h.mustDial("EIO=4&transport=websocket")
			expectTextPrefix(t, ws, "0")
			s := h.session()
			writeWS(t, ws, tt.typ, tt.data)
			ev := s.expectClose(t, tt.wantReason)
			if tt.wantErr != nil && !errors.Is(ev.err, tt.wantErr) {
				t.Fatalf("close error = %v, want %v", ev.err, tt.wantErr)
			}
			expectWSClosed(t, ws)
		})
	}
}

func TestWebSocketAtLimit(t *testing.T) {
	h := newHarness(t, host.Options{MaxHTTPBufferSize: 64})
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	s := h.session()
	writeWS(t, ws, websocket.MessageText, "4"+strings.Repeat("x", 63))
	s.expectMessage(t, strings.Repeat("x", 63), false)
}

// upgrade performs the client side of a polling-to-websocket upgrade.
func (h *harness) upgrade(sid string) *websocket.Conn {
	h.t.Helper()
	ws := h.mustDial("EIO=4&transport=websocket&sid=" + sid)
	writeWS(h.t, ws, websocket.MessageText, "2probe")
	expectText(h.t, ws, "3probe")
	writeWS(h.t, ws, websocket.MessageText, "5")
	return ws
}

func TestUpgrade(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	pending := h.pendingPoll(sid)

	ws := h.mustDial("EIO=4&transport=websocket&sid=" + sid)
	writeWS(t, ws, websocket.MessageText, "2probe")
	expectText(t, ws, "3probe")
	// The probe ends the pending poll with a noop, so the client can pause polling.
	if r := recv(t, pending, "the pending GET"); r.status != 200 || r.body != "6" {
		t.Fatalf("pending GET = %+v, want noop", r)
	}
	// Until the upgrade packet, polling carries the session.
	if s.conn.Transport() != "polling" {
		t.Fatal("transport switched before the upgrade packet")
	}
	if err := s.conn.Send(host.Message{Data: []byte("queued during upgrade")}); err != nil {
		t.Fatal(err)
	}
	writeWS(t, ws, websocket.MessageText, "5")
	expectText(t, ws, "4queued during upgrade")
	if s.conn.Transport() != "websocket" || !s.conn.Upgraded() {
		t.Fatalf("after upgrade: transport %q upgraded %v", s.conn.Transport(), s.conn.Upgraded())
	}

	writeWS(t, ws, websocket.MessageText, "4hello")
	s.expectMessage(t, "hello", false)
	if err := s.conn.Send(host.Message{Data: []byte("over ws")}); err != nil {
		t.Fatal(err)
	}
	expectText(t, ws, "4over ws")

	// Polling requests for an upgraded session are refused.
	if status, body := h.poll(sid); status != 400 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("GET after upgrade = %d %s", status, body)
	}
	// So is a second WebSocket.
	ws2 := h.mustDial("EIO=4&transport=websocket&sid=" + sid)
	expectWSClosed(t, ws2)
	writeWS(t, ws, websocket.MessageText, "4still here")
	s.expectMessage(t, "still here", false)
}

func TestUpgradeEndsPendingPollOnUpgradePacket(t *testing.T) {
	h := newHarness(t, host.Options{})
	sid := h.handshake()
	s := h.session()
	ws := h.mustDial("EIO=4&transport=websocket&sid=" + sid)
	writeWS(t, ws, websocket.MessageText, "2probe")
	expectText(t, ws, "3probe")
	// A GET arriving after the probe (the client's noop raced the probe
	// answer) is answered with a noop, after a short wait.
	if status, body := h.poll(sid); status != 200 || body != "6" {
		t.Fatalf("GET after probe = %d %q", status, body)
	}
	writeWS(t, ws, websocket.MessageText, "5")
	writeWS(t, ws, websocket.MessageText, "4x")
	s.expectMessage(t, "x", false)
}

// TestUpgradeGetRacingUpgradePacket sends the upgrade packet and, at once, a
// polling GET: in whichever order the server reads them, the GET is refused
// as coming after the upgrade.
func TestUpgradeGetRacingUpgradePacket(t *testing.T) {
	h := newHarness(t, host.Options{})
	for range 20 {
		sid := h.handshake()
		s := h.session()
		ws := h.upgrade(sid)
		if status, body := h.poll(sid); status != 400 || !strings.Contains(body, `"code":3`) {
			t.Fatalf("GET after the upgrade packet = %d %q", status, body)
		}
		writeWS(t, ws, websocket.MessageText, "4hello")
		s.expectMessage(t, "hello", false)
		ws.CloseNow()
	}
}

func TestUpgradeCancelled(t *testing.T) {
	tests := []struct {
		name   string
		action func(t *testing.T, ws *websocket.Conn)
		// clientClosed: the server learns of the cancellation only after its
		// close handshake completes, so an immediate new upgrade could find the
		// old one still in progress; it is not retried.
		clientClosed bool
	}{
		{name: "timeout", action: func(t *testing.T, ws *websocket.Conn) {
			writeWS(t, ws, websocket.MessageText, "2probe")
			expectText(t, ws, "3probe")
		}},
		{name: "unexpected packet", action: func(t *testing.T, ws *websocket.Conn) {
			writeWS(t, ws, websocket.MessageText, "4not yet")
		}},
		{name: "parse error", action: func(t *testing.T, ws *websocket.Conn) {
			writeWS(t, ws, websocket.MessageText, "x")
		}},
		{name: "client closes", action: func(t *testing.T, ws *websocket.Conn) {
			ws.Close(websocket.StatusNormalClosure, "")
		}, clientClosed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, host.Options{UpgradeTimeout: 50 * time.Millisecond})
			sid := h.handshake()
			s := h.session()
			ws := h.mustDial("EIO=4&transport=websocket&sid=" + sid)
			tt.action(t, ws)
			expectWSClosed(t, ws)
			// The session goes on polling, and can upgrade again.
			if err := s.conn.Send(host.Message{Data: []byte("still polling")}); err != nil {
				t.Fatal(err)
			}
			if status, body := h.poll(sid); status != 200 || body != "4still polling" {
				t.Fatalf("GET = %d %q", status, body)
			}
			if s.conn.Transport() != "polling" || s.conn.Upgraded() {
				t.Fatal("session upgraded")
			}
			if tt.clientClosed {
				return
			}
			ws = h.upgrade(sid)
			writeWS(t, ws, websocket.MessageText, "4upgraded")
			s.expectMessage(t, "upgraded", false)
		})
	}
}

func TestUpgradeDisabled(t *testing.T) {
	h := newHarness(t, host.Options{DisableUpgrades: true})
	sid := h.handshake()
	_, res, err := h.dial("EIO=4&transport=websocket&sid="+sid, nil)
	if err == nil || res == nil || res.StatusCode != 400 {
		t.Fatalf("upgrade with upgrades disabled: %v %v", res, err)
	}
}

func TestUpgradeAllowRequest(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	h := newHarness(t, host.Options{AllowRequest: func(r *http.Request) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.URL.Query().Get("transport"))
		if r.URL.Query().Get("sid") != "" {
			return errors.New("no upgrade for you")
		}
		return nil
	}})
	sid := h.handshake()
	_, res, err := h.dial("EIO=4&transport=websocket&sid="+sid, nil)
	if err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("refused upgrade: %v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(calls) != "[polling websocket]" {
		t.Fatalf("AllowRequest calls = %v", calls)
	}
}

// TestNoMessageBeforeOnConnection sends a message before OnConnection
// returns and checks that it is delivered only afterwards.
func TestNoMessageBeforeOnConnection(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	returned := make(chan struct{})
	got := make(chan bool, 1)
	h := newHarness(t, host.Options{OnConnection: func(c *host.Conn) {
		c.SetHandler(handlerFunc(func(data []byte) {
			select {
			case <-returned:
				got <- true
			default:
				got <- false
			}
		}))
		close(entered)
		<-release
		close(returned)
	}})
	ws := h.mustDial("EIO=4&transport=websocket")
	writeWS(t, ws, websocket.MessageText, "4early")
	recv(t, entered, "OnConnection")
	close(release)
	if after := recv(t, got, "the message"); !after {
		t.Fatal("message delivered before OnConnection returned")
	}
	expectTextPrefix(t, ws, "0")
}

// handlerFunc adapts a function to host.MessageHandler.
type handlerFunc func(data []byte)

func (f handlerFunc) OnMessage(data []byte, _ bool) { f(data) }
func (handlerFunc) OnClose(string, error)           {}
