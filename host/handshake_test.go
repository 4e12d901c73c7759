package host_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

func TestHandshakePolling(t *testing.T) {
	tests := []struct {
		name         string
		opts         host.Options
		wantUpgrades []string
		wantInterval int
		wantTimeout  int
		wantMax      int
	}{
		{name: "defaults", wantUpgrades: []string{"websocket"}, wantInterval: 25000, wantTimeout: 20000, wantMax: 1000000},
		{
			name:         "custom",
			opts:         host.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxHTTPBufferSize: 1234},
			wantUpgrades: []string{"websocket"}, wantInterval: 300, wantTimeout: 200, wantMax: 1234,
		},
		{name: "upgrades disabled", opts: host.Options{DisableUpgrades: true}, wantUpgrades: []string{}, wantInterval: 25000, wantTimeout: 20000, wantMax: 1000000},
		{name: "polling only", opts: host.Options{Transports: []string{"polling"}}, wantUpgrades: []string{}, wantInterval: 25000, wantTimeout: 20000, wantMax: 1000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			res := h.do("GET", "EIO=4&transport=polling", nil, nil)
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			var body bytes.Buffer
			if _, err := body.ReadFrom(res.Body); err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(body.String()[1:]), &raw); err != nil {
				t.Fatalf("open payload %q: %v", body.String(), err)
			}
			keys := make([]string, 0, len(raw))
			for k := range raw {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"}; !slices.Equal(keys, want) {
				t.Errorf("open keys = %v, want %v", keys, want)
			}
			o := parseOpen(t, body.String())
			if !regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`).MatchString(o.SID) {
				t.Errorf("sid %q is not 20 url-safe characters", o.SID)
			}
			if !slices.Equal(o.Upgrades, tt.wantUpgrades) || o.PingInterval != tt.wantInterval || o.PingTimeout != tt.wantTimeout || o.MaxPayload != tt.wantMax {
				t.Errorf("open = %+v", o)
			}
			s := h.session()
			if s.conn.ID() != o.SID || s.conn.Transport() != "polling" || s.conn.Upgraded() {
				t.Errorf("conn id %q transport %q upgraded %v", s.conn.ID(), s.conn.Transport(), s.conn.Upgraded())
			}
		})
	}
}

func TestHandshakeDetails(t *testing.T) {
	h := newHarness(t, host.Options{})
	res := h.do("GET", "EIO=4&transport=polling&foo=bar&foo=baz", nil, http.Header{"Origin": {"https://example.com"}, "X-Custom": {"1"}})
	res.Body.Close()
	hs := h.session().conn.Handshake()
	if hs.RemoteAddr != "127.0.0.1" {
		t.Errorf("RemoteAddr = %q", hs.RemoteAddr)
	}
	if hs.Query.Get("EIO") != "4" || !slices.Equal(hs.Query["foo"], []string{"bar", "baz"}) {
		t.Errorf("Query = %v", hs.Query)
	}
	if !strings.HasPrefix(hs.URL, "/engine.io/?EIO=4&transport=polling") {
		t.Errorf("URL = %q", hs.URL)
	}
	if hs.Header.Get("X-Custom") != "1" || hs.Header.Get("Host") == "" {
		t.Errorf("Header = %v", hs.Header)
	}
	if !hs.XDomain || hs.Secure {
		t.Errorf("XDomain %v Secure %v", hs.XDomain, hs.Secure)
	}
	if time.Since(hs.Time) > time.Minute || hs.Time.IsZero() {
		t.Errorf("Time = %v", hs.Time)
	}
}

func TestEngineErrors(t *testing.T) {
	errForbidden := errors.New("not you")
	tests := []struct {
		name       string
		opts       host.Options
		method     string
		query      func(sid string) string
		wantStatus int
		wantCode   int
		wantMsg    string
		wantCtx    map[string]any
	}{
		{name: "missing transport", method: "GET", query: q("EIO=4"), wantStatus: 400, wantCode: 0, wantMsg: "Transport unknown", wantCtx: map[string]any{"transport": ""}},
		{name: "unknown transport", method: "GET", query: q("EIO=4&transport=abc"), wantStatus: 400, wantCode: 0, wantMsg: "Transport unknown", wantCtx: map[string]any{"transport": "abc"}},
		{name: "disabled transport", opts: host.Options{Transports: []string{"websocket"}}, method: "GET", query: q("EIO=4&transport=polling"), wantStatus: 400, wantCode: 0, wantMsg: "Transport unknown"},
		{name: "unknown sid", method: "GET", query: q("EIO=4&transport=polling&sid=nope"), wantStatus: 400, wantCode: 1, wantMsg: "Session ID unknown", wantCtx: map[string]any{"sid": "nope"}},
		{name: "unknown sid post", method: "POST", query: q("EIO=4&transport=polling&sid=nope"), wantStatus: 400, wantCode: 1, wantMsg: "Session ID unknown"},
		{name: "post handshake", method: "POST", query: q("EIO=4&transport=polling"), wantStatus: 400, wantCode: 2, wantMsg: "Bad handshake method", wantCtx: map[string]any{"method": "POST"}},
		{name: "put handshake", method: "PUT", query: q("EIO=4&transport=polling"), wantStatus: 400, wantCode: 2, wantMsg: "Bad handshake method"},
		{name: "websocket without upgrade", method: "GET", query: q("EIO=4&transport=websocket"), wantStatus: 400, wantCode: 3, wantMsg: "Bad request", wantCtx: map[string]any{"name": "TRANSPORT_HANDSHAKE_ERROR"}},
		{name: "transport mismatch", method: "GET", query: func(sid string) string { return "EIO=4&transport=websocket&sid=" + sid }, wantStatus: 400, wantCode: 3, wantMsg: "Bad request", wantCtx: map[string]any{"name": "TRANSPORT_MISMATCH", "transport": "websocket", "previousTransport": "polling"}},
		{name: "forbidden", opts: host.Options{AllowRequest: func(*http.Request) error { return errForbidden }}, method: "GET", query: q("EIO=4&transport=polling"), wantStatus: 403, wantCode: 4, wantMsg: "not you", wantCtx: map[string]any{"message": "not you"}},
		{name: "forbidden empty message", opts: host.Options{AllowRequest: func(*http.Request) error { return errors.New("") }}, method: "GET", query: q("EIO=4&transport=polling"), wantStatus: 403, wantCode: 4, wantMsg: "Forbidden"},
		{name: "missing EIO", method: "GET", query: q("transport=polling"), wantStatus: 400, wantCode: 5, wantMsg: "Unsupported protocol version", wantCtx: map[string]any{"protocol": 3}},
		{name: "bad EIO", method: "GET", query: q("EIO=abc&transport=polling"), wantStatus: 400, wantCode: 5, wantMsg: "Unsupported protocol version"},
		{name: "EIO 3", method: "GET", query: q("EIO=3&transport=polling"), wantStatus: 400, wantCode: 5, wantMsg: "Unsupported protocol version"},
		{name: "id generation", opts: host.Options{GenerateID: func(*http.Request) (string, error) { return "", errors.New("boom") }}, method: "GET", query: q("EIO=4&transport=polling"), wantStatus: 400, wantCode: 3, wantMsg: "Bad request", wantCtx: map[string]any{"name": "ID_GENERATION_ERROR"}},
		{name: "cors origin func error", opts: host.Options{CORS: &host.CORSOptions{OriginFunc: func(string, *http.Request) (bool, error) { return false, errors.New("bad origin") }}}, method: "GET", query: q("EIO=4&transport=polling"), wantStatus: 400, wantCode: 3, wantMsg: "Bad request", wantCtx: map[string]any{"name": "MIDDLEWARE_FAILURE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []host.ConnectionError
			tt.opts.OnConnectionError = func(e host.ConnectionError) {
				mu.Lock()
				got = append(got, e)
				mu.Unlock()
			}
			h := newHarness(t, tt.opts)
			sid := ""
			if strings.Contains(tt.name, "mismatch") {
				sid = h.handshake()
			}
			res := h.do(tt.method, tt.query(sid), strings.NewReader("4x"), nil)
			defer res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var body struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if body.Code != tt.wantCode || body.Message != tt.wantMsg {
				t.Errorf("body = %+v, want code %d message %q", body, tt.wantCode, tt.wantMsg)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("connection_error called %d times", len(got))
			}
			e := got[0]
			if e.Code != tt.wantCode || e.Message != host.ErrorMessage(tt.wantCode) || e.Request == nil {
				t.Errorf("connection error = %+v", e)
			}
			for k, v := range tt.wantCtx {
				if fmt.Sprint(e.Context[k]) != fmt.Sprint(v) {
					t.Errorf("context[%q] = %v, want %v (context %v)", k, e.Context[k], v, e.Context)
				}
			}
		})
	}
}

func q(query string) func(string) string { return func(string) string { return query } }

func TestWebSocketHandshakeErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       host.Options
		query      string
		wantStatus int
		wantCode   int
	}{
		{name: "missing EIO", query: "transport=websocket", wantStatus: 400, wantCode: 5},
		{name: "bad EIO", query: "EIO=abc&transport=websocket", wantStatus: 400, wantCode: 5},
		{name: "missing transport", query: "EIO=4", wantStatus: 400, wantCode: 0},
		{name: "unknown transport", query: "EIO=4&transport=abc", wantStatus: 400, wantCode: 0},
		{name: "websocket disabled", opts: host.Options{Transports: []string{"polling"}}, query: "EIO=4&transport=websocket", wantStatus: 400, wantCode: 0},
		{name: "polling over upgrade", query: "EIO=4&transport=polling", wantStatus: 400, wantCode: 3},
		{name: "unknown sid", query: "EIO=4&transport=websocket&sid=nope", wantStatus: 400, wantCode: 1},
		{name: "forbidden", opts: host.Options{AllowRequest: func(*http.Request) error { return errors.New("no") }}, query: "EIO=4&transport=websocket", wantStatus: 403, wantCode: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes := make(chan int, 1)
			tt.opts.OnConnectionError = func(e host.ConnectionError) { codes <- e.Code }
			h := newHarness(t, tt.opts)
			c, res, err := h.dial(tt.query, nil)
			if err == nil {
				c.CloseNow()
				t.Fatal("dial succeeded")
			}
			if res == nil || res.StatusCode != tt.wantStatus {
				t.Fatalf("response %v, want status %d", res, tt.wantStatus)
			}
			if code := recv(t, codes, "connection_error"); code != tt.wantCode {
				t.Errorf("code = %d, want %d", code, tt.wantCode)
			}
		})
	}
}

func TestCustomID(t *testing.T) {
	var n int
	var mu sync.Mutex
	h := newHarness(t, host.Options{GenerateID: func(r *http.Request) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n > 1 {
			return "fixed", nil // a duplicate: refused while "fixed" lives
		}
		return "fixed", nil
	}})
	if sid := h.handshake(); sid != "fixed" {
		t.Fatalf("sid = %q", sid)
	}
	if s := h.session(); s.conn.ID() != "fixed" {
		t.Fatalf("conn id = %q", s.conn.ID())
	}
	status, body := h.fetch("GET", "EIO=4&transport=polling", "")
	if status != 400 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("duplicate id: %d %s", status, body)
	}
	ws := h.mustDial("EIO=4&transport=websocket&sid=fixed")
	writeWS(t, ws, websocket.MessageText, "2probe")
	expectText(t, ws, "3probe")
}

func TestClientsCount(t *testing.T) {
	h := newHarness(t, host.Options{})
	if n := h.srv.ClientsCount(); n != 0 {
		t.Fatalf("ClientsCount = %d", n)
	}
	for range 3 {
		h.handshake()
	}
	ws := h.mustDial("EIO=4&transport=websocket")
	expectTextPrefix(t, ws, "0")
	sessions := make([]*session, 4)
	for i := range sessions {
		sessions[i] = h.session()
	}
	if n := h.srv.ClientsCount(); n != 4 {
		t.Fatalf("ClientsCount = %d, want 4", n)
	}
	sessions[0].conn.CloseNow("forced close")
	sessions[0].expectClose(t, "forced close")
	ws.Close(websocket.StatusNormalClosure, "")
	for _, s := range sessions[1:] {
		if s.conn.Transport() == "websocket" {
			s.expectClose(t, "transport close")
		}
	}
	if n := h.srv.ClientsCount(); n != 2 {
		t.Fatalf("ClientsCount = %d, want 2", n)
	}
}

// expectTextPrefix reads one text frame and checks its prefix.
func expectTextPrefix(t *testing.T, c *websocket.Conn, prefix string) string {
	t.Helper()
	typ, got := readWS(t, c)
	if typ != websocket.MessageText || !strings.HasPrefix(got, prefix) {
		t.Fatalf("websocket read %v %q, want text starting %q", typ, got, prefix)
	}
	return got
}
