package host_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

// waitTimeout bounds every wait of the tests; reaching it is a failure.
const waitTimeout = 5 * time.Second

// harness is a host.Server behind a real HTTP server, recording sessions.
type harness struct {
	t     *testing.T
	srv   *host.Server
	ts    *httptest.Server
	base  string // http://host:port/engine.io/
	conns chan *session
	// waiting receives the session of every polling GET that starts waiting.
	waiting chan *host.Conn
}

// session records what a host.Conn delivers to its handler.
type session struct {
	conn   *host.Conn
	msgs   chan host.Message
	closed chan closeEvent
}

type closeEvent struct {
	reason string
	err    error
}

func (s *session) OnMessage(data []byte, binary bool) {
	s.msgs <- host.Message{Data: data, Binary: binary}
}

func (s *session) OnClose(reason string, err error) { s.closed <- closeEvent{reason, err} }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newHarness starts a server with opts. Unless opts.OnConnection is set,
// every session is recorded and can be taken with h.session().
func newHarness(t *testing.T, opts host.Options) *harness {
	t.Helper()
	return newHarnessWith(t, opts, (*httptest.Server).Start)
}

// newHarnessWith is newHarness with a custom way to start the HTTP server
// (for example StartTLS).
func newHarnessWith(t *testing.T, opts host.Options, start func(*httptest.Server)) *harness {
	t.Helper()
	h := &harness{t: t, conns: make(chan *session, 64), waiting: make(chan *host.Conn, 1024)}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.OnConnection == nil {
		opts.OnConnection = func(c *host.Conn) {
			s := &session{conn: c, msgs: make(chan host.Message, 1024), closed: make(chan closeEvent, 1)}
			c.SetHandler(s)
			h.conns <- s
		}
	}
	h.srv = host.NewServer(opts)
	host.SetPollWaitHook(h.srv, func(c *host.Conn) {
		select {
		case h.waiting <- c:
		default:
		}
	})
	h.ts = httptest.NewUnstartedServer(h.srv)
	start(h.ts)
	h.base = h.ts.URL + "/engine.io/"
	t.Cleanup(func() {
		h.srv.Close()
		h.ts.Close()
	})
	return h
}

// session returns the next session opened on the server.
func (h *harness) session() *session {
	h.t.Helper()
	return recv(h.t, h.conns, "a new session")
}

// recv receives from ch or fails the test after waitTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// expectClose waits for the session's OnClose and checks its reason.
func (s *session) expectClose(t *testing.T, reason string) closeEvent {
	t.Helper()
	ev := recv(t, s.closed, "OnClose")
	if ev.reason != reason {
		t.Fatalf("OnClose reason = %q (%v), want %q", ev.reason, ev.err, reason)
	}
	return ev
}

// expectMessage waits for the next delivered message and checks it.
func (s *session) expectMessage(t *testing.T, data string, binary bool) {
	t.Helper()
	m := recv(t, s.msgs, "a message")
	if string(m.Data) != data || m.Binary != binary {
		t.Fatalf("message = %q (binary %v), want %q (binary %v)", m.Data, m.Binary, data, binary)
	}
}

// do sends a request to the engine path with the given query.
func (h *harness) do(method, query string, body io.Reader, header http.Header) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+"?"+query, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, query, err)
	}
	return res
}

// fetch performs a request and returns its status and body.
func (h *harness) fetch(method, query, body string) (int, string) {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	res := h.do(method, query, r, nil)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// openInfo is the payload of an open packet.
type openInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, s string) openInfo {
	t.Helper()
	if !strings.HasPrefix(s, "0") {
		t.Fatalf("not an open packet: %q", s)
	}
	var o openInfo
	if err := json.Unmarshal([]byte(s[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", s, err)
	}
	return o
}

// handshake opens a polling session and returns its sid.
func (h *harness) handshake() string {
	h.t.Helper()
	status, body := h.fetch("GET", "EIO=4&transport=polling", "")
	if status != http.StatusOK {
		h.t.Fatalf("handshake status %d: %s", status, body)
	}
	return parseOpen(h.t, body).SID
}

func pollQuery(sid string) string { return "EIO=4&transport=polling&sid=" + sid }

// poll performs a polling GET.
func (h *harness) poll(sid string) (int, string) {
	h.t.Helper()
	return h.fetch("GET", pollQuery(sid), "")
}

// post performs a polling POST.
func (h *harness) post(sid, body string) (int, string) {
	h.t.Helper()
	return h.fetch("POST", pollQuery(sid), body)
}

// pollAsync starts a polling GET and returns a channel with its result.
func (h *harness) pollAsync(sid string) <-chan pollResult {
	ch := make(chan pollResult, 1)
	go func() {
		res, err := h.ts.Client().Get(h.base + "?" + pollQuery(sid))
		if err != nil {
			ch <- pollResult{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		ch <- pollResult{status: res.StatusCode, body: string(b), err: err}
	}()
	return ch
}

type pollResult struct {
	status int
	body   string
	err    error
}

// pendingPoll starts a polling GET and returns once the server holds it
// waiting (observed through the test hook), with a channel for its result.
func (h *harness) pendingPoll(sid string) <-chan pollResult {
	h.t.Helper()
	for len(h.waiting) > 0 {
		<-h.waiting
	}
	ch := h.pollAsync(sid)
	for {
		c := recv(h.t, h.waiting, "a pending polling GET")
		if c.ID() == sid {
			return ch
		}
	}
}

// dial opens a WebSocket to the engine path with the given query.
func (h *harness) dial(query string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	url := "ws" + strings.TrimPrefix(h.base, "http") + "?" + query
	c, res, err := websocket.Dial(ctx, url, opts)
	if c != nil {
		c.SetReadLimit(-1)
		h.t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, res, err
}

// mustDial opens a WebSocket or fails.
func (h *harness) mustDial(query string) *websocket.Conn {
	h.t.Helper()
	c, _, err := h.dial(query, nil)
	if err != nil {
		h.t.Fatalf("dial %s: %v", query, err)
	}
	return c
}

// readWS reads one WebSocket message.
func readWS(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read websocket: %v", err)
	}
	return typ, string(b)
}

// expectText reads one message and checks that it is the given text frame.
func expectText(t *testing.T, c *websocket.Conn, want string) {
	t.Helper()
	typ, got := readWS(t, c)
	if typ != websocket.MessageText || got != want {
		t.Fatalf("websocket read %v %q, want text %q", typ, got, want)
	}
}

// writeWS writes one WebSocket message.
func writeWS(t *testing.T, c *websocket.Conn, typ websocket.MessageType, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Write(ctx, typ, []byte(data)); err != nil {
		t.Fatalf("write websocket: %v", err)
	}
}

// expectWSClosed reads until the connection ends and returns the error.
func expectWSClosed(t *testing.T, c *websocket.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("websocket was not closed")
			}
			return err
		}
	}
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return string(b)
}
