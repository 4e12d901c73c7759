package host_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

// TestTLSAndHTTP2 serves polling over HTTP/2 and a WebSocket over HTTP/1.1
// from one TLS server, and refuses a WebSocket request made over HTTP/2.
func TestTLSAndHTTP2(t *testing.T) {
	protos := make(chan int, 64)
	errs := make(chan host.ConnectionError, 1)
	h := newHarnessWith(t, host.Options{
		Headers:           func(_ http.Header, r *http.Request) { protos <- r.ProtoMajor },
		OnConnectionError: func(e host.ConnectionError) { errs <- e },
	}, func(ts *httptest.Server) {
		ts.EnableHTTP2 = true
		ts.StartTLS()
	})
	if !strings.HasPrefix(h.base, "https://") {
		t.Fatalf("base %q", h.base)
	}

	// Polling over HTTP/2.
	res := h.do("GET", "EIO=4&transport=polling", nil, nil)
	open, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.ProtoMajor != 2 {
		t.Fatalf("client used HTTP/%d", res.ProtoMajor)
	}
	if got := recv(t, protos, "Headers hook"); got != 2 {
		t.Fatalf("server saw HTTP/%d", got)
	}
	sid := parseOpen(t, string(open)).SID
	s := h.session()
	if !s.conn.Handshake().Secure {
		t.Fatal("handshake over TLS not Secure")
	}
	if status, _ := h.post(sid, "4over h2"); status != 200 {
		t.Fatalf("POST = %d", status)
	}
	s.expectMessage(t, "over h2", false)
	if err := s.conn.Send(host.Message{Data: []byte("back")}); err != nil {
		t.Fatal(err)
	}
	if status, body := h.poll(sid); status != 200 || body != "4back" {
		t.Fatalf("GET = %d %q", status, body)
	}

	// A WebSocket request over HTTP/2 gets a clear error.
	status, errBody := h.fetch("GET", "EIO=4&transport=websocket", "")
	if status != 400 || !strings.Contains(errBody, `"code":3`) {
		t.Fatalf("websocket over h2 = %d %s", status, errBody)
	}
	e := recv(t, errs, "connection_error")
	if msg, _ := e.Context["error"].(string); !strings.Contains(msg, "HTTP/2") {
		t.Fatalf("context = %v", e.Context)
	}

	// The same server upgrades the session over HTTP/1.1.
	tr := h.ts.Client().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	ws, wsRes, err := h.dial("EIO=4&transport=websocket&sid="+sid, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("dial over HTTP/1.1: %v", err)
	}
	if wsRes.ProtoMajor != 1 {
		t.Fatalf("upgrade over HTTP/%d", wsRes.ProtoMajor)
	}
	writeWS(t, ws, websocket.MessageText, "2probe")
	expectText(t, ws, "3probe")
	writeWS(t, ws, websocket.MessageText, "5")
	writeWS(t, ws, websocket.MessageText, "4over wss")
	s.expectMessage(t, "over wss", false)
	if s.conn.Transport() != "websocket" {
		t.Fatal("not upgraded")
	}
}
