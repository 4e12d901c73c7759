package core

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

// wireClient speaks raw Engine.IO/Socket.IO frames over a WebSocket, so tests
// can assert the exact bytes a client receives.
type wireClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func newTestServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := NewServer(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.Close()
	})
	return srv, "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

func dial(t *testing.T, url string) *wireClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	c := &wireClient{t: t, conn: conn}
	if open := c.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("first frame %q is not an open packet", open)
	}
	return c
}

func (c *wireClient) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("write %q: %v", frame, err)
	}
}

// read returns the next frame that is not a ping (pings are answered).
func (c *wireClient) read() string {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		typ, data, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if typ == websocket.MessageText && string(data) == "2" {
			c.send("3")
			continue
		}
		if typ == websocket.MessageBinary {
			return "bin:" + string(data)
		}
		return string(data)
	}
}

// expectClosed waits until the server closes the connection.
func (c *wireClient) expectClosed() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.conn.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.t.Fatal("connection was not closed")
			}
			return
		}
	}
}

func (c *wireClient) connect(nsp string) string {
	c.t.Helper()
	if nsp == "/" {
		c.send("40")
	} else {
		c.send("40" + nsp + ",")
	}
	reply := c.read()
	prefix := "40{"
	if nsp != "/" {
		prefix = "40" + nsp + ",{"
	}
	if !strings.HasPrefix(reply, prefix) {
		c.t.Fatalf("connect %s: got %q", nsp, reply)
	}
	return reply
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a server-side event")
		var zero T
		return zero
	}
}

func TestEchoAndAck(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = s.Emit("echo-back", mustArgs(t, e)...) })
		s.On("ack", func(e *Event) { _ = e.AckPayload(e.Args) })
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`42["echo",1,"two",{"3":[true]}]`)
	if got := c.read(); got != `42["echo-back",1,"two",{"3":[true]}]` {
		t.Fatalf("echo: %q", got)
	}
	c.send(`4217["ack","x"]`)
	if got := c.read(); got != `4317["x"]` {
		t.Fatalf("ack: %q", got)
	}
	c.send(`451-9["ack",{"_placeholder":true,"num":0}]`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := c.read(); got != `461-9[{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary ack header: %q", got)
	}
	if got := c.read(); got != "bin:\x01\x02\x03" {
		t.Fatalf("binary ack attachment: %q", got)
	}
}

func mustArgs(t *testing.T, e *Event) []any {
	args, err := e.Args.Args()
	if err != nil {
		t.Errorf("args: %v", err)
	}
	return args
}

func TestMiddlewareRejectsWithData(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	srv.Of("/admin").Use(func(s *Socket) error {
		if s.Handshake().Auth["token"] == "ok" {
			return nil
		}
		return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
	})
	c := dial(t, url)
	c.send(`40/admin,{"token":"bad"}`)
	if got := c.read(); got != `44/admin,{"data":{"code":401},"message":"not authorized"}` {
		t.Fatalf("connect_error: %q", got)
	}
	c.send(`40/admin,{"token":"ok"}`)
	if got := c.read(); !strings.HasPrefix(got, `40/admin,{"sid":"`) {
		t.Fatalf("connect: %q", got)
	}
	c.send(`40/nope,`)
	if got := c.read(); got != `44/nope,{"message":"Invalid namespace"}` {
		t.Fatalf("invalid namespace: %q", got)
	}
}

func TestDynamicNamespaces(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	created := make(chan string, 4)
	srv.OnNewNamespace(func(n *Namespace) { created <- n.Name() })
	parent := srv.OfRegexp(regexpMust(`^/room-\d+$`))
	parent.OnConnection(func(s *Socket) { _ = s.Emit("where", s.Namespace().Name()) })
	srv.OfFunc(func(name string, auth map[string]any) bool { return name == "/by-func" && auth["ok"] == true })

	c := dial(t, url)
	c.connect("/room-42")
	if got := c.read(); got != `42/room-42,["where","/room-42"]` {
		t.Fatalf("child namespace handler: %q", got)
	}
	if got := recv(t, created); got != "/room-42" {
		t.Fatalf("new_namespace: %q", got)
	}
	c.send(`40/by-func,{"ok":false}`)
	if got := c.read(); got != `44/by-func,{"message":"Invalid namespace"}` {
		t.Fatalf("refused by func: %q", got)
	}
	c.send(`40/by-func,{"ok":true}`)
	if got := c.read(); !strings.HasPrefix(got, `40/by-func,{"sid":`) {
		t.Fatalf("accepted by func: %q", got)
	}
	if len(parent.Children()) != 1 {
		t.Fatalf("children = %d, want 1", len(parent.Children()))
	}
}

func TestDisconnectReasons(t *testing.T) {
	tests := []struct {
		name   string
		act    func(c *wireClient, s *Socket)
		reason string
	}{
		{"client namespace disconnect", func(c *wireClient, _ *Socket) { c.send("41") }, ReasonClientNamespaceDisconnect},
		{"server namespace disconnect", func(_ *wireClient, s *Socket) { s.Disconnect(false) }, ReasonServerNamespaceDisconnect},
		{"transport close", func(c *wireClient, _ *Socket) { c.conn.Close(websocket.StatusNormalClosure, "") }, ReasonTransportClose},
		{"parse error", func(c *wireClient, _ *Socket) { c.send("4abc") }, ReasonParseError},
		{"reserved event from the client", func(c *wireClient, _ *Socket) { c.send(`42["disconnect"]`) }, ReasonParseError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := newTestServer(t, Options{})
			sockets := make(chan *Socket, 1)
			reasons := make(chan string, 2)
			srv.OnConnection(func(s *Socket) {
				s.OnDisconnecting(func(r string) {
					if len(s.Rooms()) == 0 {
						t.Errorf("rooms not visible while disconnecting")
					}
					reasons <- "disconnecting:" + r
				})
				s.OnDisconnect(func(r string) { reasons <- r })
				sockets <- s
			})
			c := dial(t, url)
			c.connect("/")
			s := recv(t, sockets)
			tt.act(c, s)
			if got := recv(t, reasons); got != "disconnecting:"+tt.reason {
				t.Fatalf("disconnecting reason %q, want %q", got, tt.reason)
			}
			if got := recv(t, reasons); got != tt.reason {
				t.Fatalf("disconnect reason %q, want %q", got, tt.reason)
			}
			if len(s.Rooms()) != 0 || s.Connected() {
				t.Fatalf("socket still connected or in rooms %v", s.Rooms())
			}
		})
	}
}

func TestBroadcastFiltersAndUtilities(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	sockets := make(chan *Socket, 3)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	a, b, c := dial(t, url), dial(t, url), dial(t, url)
	for _, cl := range []*wireClient{a, b, c} {
		cl.connect("/")
	}
	byID := map[string]*Socket{}
	var order []*Socket
	for range 3 {
		s := recv(t, sockets)
		byID[s.ID()] = s
		order = append(order, s)
	}
	_ = byID
	sa, sb, sc := order[0], order[1], order[2]
	_ = sc
	sa.Join("red")
	sb.Join("red", "blue")
	// order of delivery on each connection is the order of emits, so a marker
	// emitted last proves what did not arrive before it.
	if err := srv.To("red").Except("blue").Emit("m", 1); err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit("marker"); err != nil {
		t.Fatal(err)
	}
	// which wire client got which socket is not known; count deliveries instead.
	got := map[string]int{}
	for _, cl := range []*wireClient{a, b, c} {
		for {
			f := cl.read()
			got[f]++
			if f == `42["marker"]` {
				break
			}
		}
	}
	if got[`42["m",1]`] != 1 || got[`42["marker"]`] != 3 {
		t.Fatalf("deliveries = %v", got)
	}

	srv.Sockets().In("blue").SocketsJoin("green")
	if rooms := sb.Rooms(); !contains(rooms, "green") {
		t.Fatalf("socketsJoin: rooms of b = %v", rooms)
	}
	srv.Sockets().SocketsLeave("red")
	if contains(sa.Rooms(), "red") || contains(sb.Rooms(), "red") {
		t.Fatal("socketsLeave left sockets in red")
	}
	sa.SetData(map[string]any{"nick": "ann"})
	remote, err := srv.Sockets().In(sa.ID()).FetchSockets(context.Background())
	if err != nil || len(remote) != 1 || string(remote[0].Data) != `{"nick":"ann"}` {
		t.Fatalf("fetchSockets = %v, %v", remote, err)
	}
	if all := srv.Sockets().AllSockets(); len(all) != 3 {
		t.Fatalf("allSockets = %v", all)
	}
	if err := srv.Emit("connection"); err == nil {
		t.Fatal("a reserved name was broadcast")
	}
}

func TestBroadcastAckTimeout(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	ready := make(chan struct{}, 2)
	srv.OnConnection(func(*Socket) { ready <- struct{}{} })
	answering, silent := dial(t, url), dial(t, url)
	answering.connect("/")
	silent.connect("/")
	recv(t, ready)
	recv(t, ready)
	type result struct {
		acks []*Ack
		err  error
	}
	done := make(chan result, 1)
	go func() {
		acks, err := srv.Sockets().Timeout(300*time.Millisecond).EmitWithAck(context.Background(), "q", 1)
		done <- result{acks, err}
	}()
	frame := answering.read()
	id := strings.TrimSuffix(strings.TrimPrefix(frame, "42"), `["q",1]`)
	answering.send("43" + id + `["yes"]`)
	silent.read()
	r := recv(t, done)
	if !errors.Is(r.err, ErrTimeout) || len(r.acks) != 1 || string(r.acks[0].Data) != `["yes"]` {
		t.Fatalf("EmitWithAck = %v, %v", r.acks, r.err)
	}
}

func TestSocketEmitWithAckFromHandler(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	results := make(chan string, 1)
	srv.OnConnection(func(s *Socket) {
		s.On("start", func(e *Event) {
			// waiting inside a handler for the same client's ack must not deadlock
			ack, err := s.Timeout(2*time.Second).EmitWithAck(context.Background(), "question")
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- string(ack.Data)
		})
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`42["start"]`)
	frame := c.read()
	id := strings.TrimSuffix(strings.TrimPrefix(frame, "42"), `["question"]`)
	c.send("43" + id + `[42]`)
	if got := recv(t, results); got != "[42]" {
		t.Fatalf("ack = %s", got)
	}
}

func TestPacketMiddlewareError(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	errs := make(chan string, 1)
	srv.OnConnection(func(s *Socket) {
		s.Use(func(e *Event) error {
			if e.Name == "forbidden" {
				return errors.New("not allowed")
			}
			return nil
		})
		s.OnError(func(err error) { errs <- err.Error() })
		s.On("allowed", func(e *Event) { _ = s.Emit("ok") })
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`42["forbidden"]`)
	if got := recv(t, errs); got != "not allowed" {
		t.Fatalf("error event: %q", got)
	}
	c.send(`42["allowed"]`)
	if got := c.read(); got != `42["ok"]` {
		t.Fatalf("allowed: %q", got)
	}
}

func TestRecoveryReplaysMissedPackets(t *testing.T) {
	srv, url := newTestServer(t, Options{ConnectionStateRecovery: DefaultRecoveryOptions()})
	gone := make(chan string, 1)
	srv.OnConnection(func(s *Socket) {
		s.Join("news")
		s.OnDisconnect(func(r string) { gone <- r })
	})
	c := dial(t, url)
	reply := c.connect("/")
	if !strings.Contains(reply, `"pid":"`) {
		t.Fatalf("connect reply without pid: %q", reply)
	}
	pid := between(reply, `"pid":"`, `"`)
	sid := between(reply, `"sid":"`, `"`)
	if err := srv.To("news").Emit("n", 0); err != nil {
		t.Fatal(err)
	}
	first := c.read()
	offset := between(first, `["n",0,"`, `"`)
	c.conn.CloseNow()
	recv(t, gone)
	for i := 1; i <= 3; i++ {
		if err := srv.To("news").Emit("n", i); err != nil {
			t.Fatal(err)
		}
	}
	c2 := dial(t, url)
	c2.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if got := c2.read(); !strings.HasPrefix(got, `40{"sid":"`+sid+`"`) {
		t.Fatalf("recovered connect: %q (want sid %s)", got, sid)
	}
	for i := 1; i <= 3; i++ {
		got := c2.read()
		if !strings.HasPrefix(got, `42["n",`+string(rune('0'+i))+`,"`) {
			t.Fatalf("missed packet %d: %q", i, got)
		}
	}
}

func TestCloseShutsDownSockets(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	reasons := make(chan string, 1)
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	c := dial(t, url)
	c.connect("/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, reasons); got != ReasonServerShuttingDown {
		t.Fatalf("reason %q", got)
	}
	c.expectClosed()
}

func TestConnectTimeout(t *testing.T) {
	_, url := newTestServer(t, Options{ConnectTimeout: 100 * time.Millisecond, Engine: host.Options{}})
	c := dial(t, url)
	c.expectClosed()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

func regexpMust(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }
