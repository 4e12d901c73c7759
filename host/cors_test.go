package host_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

func TestCORS(t *testing.T) {
	allowAll := &host.CORSOptions{}
	list := &host.CORSOptions{
		Origins:        []string{"https://a.example", "https://b.example"},
		Credentials:    true,
		MaxAge:         10 * time.Minute,
		ExposedHeaders: []string{"X-One", "X-Two"},
	}
	fixed := &host.CORSOptions{
		OriginFunc: func(origin string, r *http.Request) (bool, error) {
			return strings.HasSuffix(origin, ".trusted.example"), nil
		},
		Methods:        []string{"GET", "POST"},
		AllowedHeaders: []string{"X-Auth", "Content-Type"},
	}
	tests := []struct {
		name       string
		cors       *host.CORSOptions
		method     string
		origin     string
		reqHeaders string
		wantStatus int
		want       map[string]string // header -> value ("" = absent)
	}{
		{
			name: "preflight any origin", cors: allowAll, method: "OPTIONS", origin: "https://x.example", reqHeaders: "content-type",
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
				"Access-Control-Allow-Headers": "content-type", "Vary": "Access-Control-Request-Headers",
				"Access-Control-Allow-Credentials": "", "Access-Control-Max-Age": "",
			},
		},
		{
			name: "preflight listed origin", cors: list, method: "OPTIONS", origin: "https://b.example",
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://b.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age": "600", "Vary": "Origin, Access-Control-Request-Headers",
				"Access-Control-Expose-Headers": "X-One,X-Two", "Access-Control-Allow-Headers": "",
			},
		},
		{
			name: "preflight unlisted origin", cors: list, method: "OPTIONS", origin: "https://evil.example",
			wantStatus: 204,
			want:       map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin, Access-Control-Request-Headers"},
		},
		{
			name: "preflight origin func", cors: fixed, method: "OPTIONS", origin: "https://app.trusted.example",
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.trusted.example", "Access-Control-Allow-Methods": "GET,POST",
				"Access-Control-Allow-Headers": "X-Auth,Content-Type", "Vary": "Origin",
			},
		},
		{
			// A refused origin gets no CORS headers; the request goes on to
			// the engine, which refuses an OPTIONS handshake.
			name: "preflight origin func refused", cors: fixed, method: "OPTIONS", origin: "https://evil.example",
			wantStatus: 400,
			want:       map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Vary": ""},
		},
		{
			name: "handshake listed origin", cors: list, method: "GET", origin: "https://a.example",
			wantStatus: 200,
			want: map[string]string{
				"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-One,X-Two", "Vary": "Origin", "Access-Control-Allow-Methods": "",
			},
		},
		{
			name: "handshake any origin", cors: allowAll, method: "GET", origin: "https://x.example",
			wantStatus: 200,
			want:       map[string]string{"Access-Control-Allow-Origin": "*", "Vary": ""},
		},
		{
			name: "no cors", method: "GET", origin: "https://x.example",
			wantStatus: 200,
			want:       map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "no cors preflight", method: "OPTIONS", origin: "https://x.example",
			wantStatus: 400,
			want:       map[string]string{"Access-Control-Allow-Origin": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, host.Options{CORS: tt.cors})
			hdr := http.Header{"Origin": {tt.origin}}
			if tt.method == "OPTIONS" {
				hdr.Set("Access-Control-Request-Method", "GET")
			}
			if tt.reqHeaders != "" {
				hdr.Set("Access-Control-Request-Headers", tt.reqHeaders)
			}
			res := h.do(tt.method, "EIO=4&transport=polling", nil, hdr)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.want {
				if got := strings.Join(res.Header.Values(k), ", "); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCORSOnErrorAndUpgrade(t *testing.T) {
	h := newHarness(t, host.Options{CORS: &host.CORSOptions{Origins: []string{"https://a.example"}, Credentials: true}})
	// Error answers carry the CORS headers, so that browsers can read them.
	res := h.do("GET", "EIO=4&transport=polling&sid=nope", nil, http.Header{"Origin": {"https://a.example"}})
	res.Body.Close()
	if res.StatusCode != 400 || res.Header.Get("Access-Control-Allow-Origin") != "https://a.example" {
		t.Fatalf("error answer %d %v", res.StatusCode, res.Header)
	}
	_, wsRes, err := h.dial("EIO=4&transport=websocket", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://a.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	if wsRes.Header.Get("Access-Control-Allow-Origin") != "https://a.example" || wsRes.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("upgrade response headers %v", wsRes.Header)
	}
}

// TestWebSocketCrossOrigin checks that the WebSocket library's own origin
// check does not refuse browsers from other origins.
func TestWebSocketCrossOrigin(t *testing.T) {
	h := newHarness(t, host.Options{})
	ws, _, err := h.dial("EIO=4&transport=websocket", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://elsewhere.example"}}})
	if err != nil {
		t.Fatalf("cross-origin dial: %v", err)
	}
	expectTextPrefix(t, ws, "0")
}

func TestCookie(t *testing.T) {
	tests := []struct {
		name   string
		cookie *host.CookieOptions
		want   string // with SID for the session id
	}{
		{name: "off"},
		{name: "defaults", cookie: &host.CookieOptions{}, want: "io=SID; Path=/; HttpOnly; SameSite=Lax"},
		{
			name:   "custom",
			cookie: &host.CookieOptions{Name: "sticky", Path: "/app", Domain: "example.com", MaxAge: time.Hour, DisableHTTPOnly: true, Secure: true, SameSite: http.SameSiteStrictMode},
			want:   "sticky=SID; Path=/app; Domain=example.com; Max-Age=3600; Secure; SameSite=Strict",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, host.Options{Cookie: tt.cookie})
			res := h.do("GET", "EIO=4&transport=polling", nil, nil)
			res.Body.Close()
			sid := h.session().conn.ID()
			want := strings.ReplaceAll(tt.want, "SID", sid)
			if got := strings.Join(res.Header.Values("Set-Cookie"), "\n"); got != want {
				t.Fatalf("Set-Cookie = %q, want %q", got, want)
			}
			// Only the handshake sets the cookie.
			if status, _ := h.post(sid, "4x"); status != 200 {
				t.Fatalf("POST = %d", status)
			}
			res = h.do("POST", pollQuery(sid), strings.NewReader("4y"), nil)
			res.Body.Close()
			if got := res.Header.Values("Set-Cookie"); len(got) != 0 {
				t.Fatalf("POST Set-Cookie = %q", got)
			}
		})
	}
}

func TestCookieWebSocket(t *testing.T) {
	h := newHarness(t, host.Options{Cookie: &host.CookieOptions{}})
	ws, res, err := h.dial("EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := parseOpen(t, expectTextPrefix(t, ws, "0"))
	if got := res.Header.Get("Set-Cookie"); got != "io="+o.SID+"; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("Set-Cookie = %q", got)
	}
}

func TestHeaderHooks(t *testing.T) {
	var mu sync.Mutex
	var initial, every []string
	h := newHarness(t, host.Options{
		PingInterval: time.Minute,
		InitialHeaders: func(hd http.Header, r *http.Request) {
			mu.Lock()
			initial = append(initial, r.Method+" "+r.URL.Query().Get("transport"))
			mu.Unlock()
			hd.Set("X-Initial", "1")
		},
		Headers: func(hd http.Header, r *http.Request) {
			mu.Lock()
			every = append(every, r.Method+" "+r.URL.Query().Get("transport"))
			mu.Unlock()
			hd.Set("X-Every", "1")
		},
	})
	res := h.do("GET", "EIO=4&transport=polling", nil, nil)
	res.Body.Close()
	if res.Header.Get("X-Initial") != "1" || res.Header.Get("X-Every") != "1" {
		t.Fatalf("handshake headers %v", res.Header)
	}
	s := h.session()
	sid := s.conn.ID()
	res = h.do("POST", pollQuery(sid), strings.NewReader("4x"), nil)
	res.Body.Close()
	if res.Header.Get("X-Initial") != "" || res.Header.Get("X-Every") != "1" {
		t.Fatalf("POST headers %v", res.Header)
	}
	if err := s.conn.Send(host.Message{Data: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	res = h.do("GET", pollQuery(sid), nil, nil)
	res.Body.Close()
	if res.Header.Get("X-Initial") != "" || res.Header.Get("X-Every") != "1" {
		t.Fatalf("GET headers %v", res.Header)
	}
	_, wsRes, err := h.dial("EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if wsRes.Header.Get("X-Initial") != "" || wsRes.Header.Get("X-Every") != "1" {
		t.Fatalf("upgrade headers %v", wsRes.Header)
	}
	_, wsRes, err = h.dial("EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if wsRes.Header.Get("X-Initial") != "1" || wsRes.Header.Get("X-Every") != "1" {
		t.Fatalf("websocket handshake headers %v", wsRes.Header)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(initial, ","); got != "GET polling,GET websocket" {
		t.Errorf("InitialHeaders calls = %s", got)
	}
	if got := strings.Join(every, ","); got != "GET polling,POST polling,GET polling,GET websocket,GET websocket" {
		t.Errorf("Headers calls = %s", got)
	}
}
