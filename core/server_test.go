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
	"github.com/edged-io/edged/internal/wiretest"
)

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

// connect joins nsp and returns the CONNECT reply.
func connect(t testing.TB, c *wiretest.Client, nsp string) string {
	t.Helper()
	if nsp == "/" {
		c.Send("40")
	} else {
		c.Send("40" + nsp + ",")
	}
	reply := c.Read()
	prefix := "40{"
	if nsp != "/" {
		prefix = "40" + nsp + ",{"
	}
	if !strings.HasPrefix(reply, prefix) {
		t.Fatalf("connect %s: got %q", nsp, reply)
	}
	return reply
}

func TestEchoAndAck(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = s.Emit("echo-back", mustArgs(t, e)...) })
		s.On("ack", func(e *Event) { _ = e.AckPayload(e.Args) })
	})
	c := wiretest.Dial(t, url)
	connect(t, c, "/")
	c.Send(`42["echo",1,"two",{"3":[true]}]`)
	if got := c.Read(); got != `42["echo-back",1,"two",{"3":[true]}]` {
		t.Fatalf("echo: %q", got)
	}
	c.Send(`4217["ack","x"]`)
	if got := c.Read(); got != `4317["x"]` {
		t.Fatalf("ack: %q", got)
	}
	c.Send(`451-9["ack",{"_placeholder":true,"num":0}]`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Conn.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := c.Read(); got != `461-9[{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary ack header: %q", got)
	}
	if got := c.Read(); got != "bin:\x01\x02\x03" {
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
	c := wiretest.Dial(t, url)
	c.Send(`40/admin,{"token":"bad"}`)
	if got := c.Read(); got != `44/admin,{"data":{"code":401},"message":"not authorized"}` {
		t.Fatalf("connect_error: %q", got)
	}
	c.Send(`40/admin,{"token":"ok"}`)
	if got := c.Read(); !strings.HasPrefix(got, `40/admin,{"sid":"`) {
		t.Fatalf("connect: %q", got)
	}
	c.Send(`40/nope,`)
	if got := c.Read(); got != `44/nope,{"message":"Invalid namespace"}` {
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

	c := wiretest.Dial(t, url)
	connect(t, c, "/room-42")
	if got := c.Read(); got != `42/room-42,["where","/room-42"]` {
		t.Fatalf("child namespace handler: %q", got)
	}
	if got := wiretest.Recv(t, created); got != "/room-42" {
		t.Fatalf("new_namespace: %q", got)
	}
	c.Send(`40/by-func,{"ok":false}`)
	if got := c.Read(); got != `44/by-func,{"message":"Invalid namespace"}` {
		t.Fatalf("refused by func: %q", got)
	}
	c.Send(`40/by-func,{"ok":true}`)
	if got := c.Read(); !strings.HasPrefix(got, `40/by-func,{"sid":`) {
		t.Fatalf("accepted by func: %q", got)
	}
	if len(parent.Children()) != 1 {
		t.Fatalf("children = %d, want 1", len(parent.Children()))
	}
}

func TestDisconnectReasons(t *testing.T) {
	tests := []struct {
		name   string
		act    func(c *wiretest.Client, s *Socket)
		reason string
	}{
		{"client namespace disconnect", func(c *wiretest.Client, _ *Socket) { c.Send("41") }, ReasonClientNamespaceDisconnect},
		{"server namespace disconnect", func(_ *wiretest.Client, s *Socket) { s.Disconnect(false) }, ReasonServerNamespaceDisconnect},
		{"transport close", func(c *wiretest.Client, _ *Socket) { c.Conn.Close(websocket.StatusNormalClosure, "") }, ReasonTransportClose},
		{"parse error", func(c *wiretest.Client, _ *Socket) { c.Send("4abc") }, ReasonParseError},
		{"reserved event from the client", func(c *wiretest.Client, _ *Socket) { c.Send(`42["disconnect"]`) }, ReasonParseError},
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
			c := wiretest.Dial(t, url)
			connect(t, c, "/")
			s := wiretest.Recv(t, sockets)
			tt.act(c, s)
			if got := wiretest.Recv(t, reasons); got != "disconnecting:"+tt.reason {
				t.Fatalf("disconnecting reason %q, want %q", got, tt.reason)
			}
			if got := wiretest.Recv(t, reasons); got != tt.reason {
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
	a, b, c := wiretest.Dial(t, url), wiretest.Dial(t, url), wiretest.Dial(t, url)
	for _, cl := range []*wiretest.Client{a, b, c} {
		connect(t, cl, "/")
	}
	byID := map[string]*Socket{}
	var order []*Socket
	for range 3 {
		s := wiretest.Recv(t, sockets)
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
	for _, cl := range []*wiretest.Client{a, b, c} {
		for {
			f := cl.Read()
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
	answering, silent := wiretest.Dial(t, url), wiretest.Dial(t, url)
	connect(t, answering, "/")
	connect(t, silent, "/")
	wiretest.Recv(t, ready)
	wiretest.Recv(t, ready)
	type result struct {
		acks []*Ack
		err  error
	}
	done := make(chan result, 1)
	go func() {
		acks, err := srv.Sockets().Timeout(300*time.Millisecond).EmitWithAck(context.Background(), "q", 1)
		done <- result{acks, err}
	}()
	frame := answering.Read()
	id := strings.TrimSuffix(strings.TrimPrefix(frame, "42"), `["q",1]`)
	answering.Send("43" + id + `["yes"]`)
	silent.Read()
	r := wiretest.Recv(t, done)
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
	c := wiretest.Dial(t, url)
	connect(t, c, "/")
	c.Send(`42["start"]`)
	frame := c.Read()
	id := strings.TrimSuffix(strings.TrimPrefix(frame, "42"), `["question"]`)
	c.Send("43" + id + `[42]`)
	if got := wiretest.Recv(t, results); got != "[42]" {
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
	c := wiretest.Dial(t, url)
	connect(t, c, "/")
	c.Send(`42["forbidden"]`)
	if got := wiretest.Recv(t, errs); got != "not allowed" {
		t.Fatalf("error event: %q", got)
	}
	c.Send(`42["allowed"]`)
	if got := c.Read(); got != `42["ok"]` {
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
	c := wiretest.Dial(t, url)
	reply := connect(t, c, "/")
	if !strings.Contains(reply, `"pid":"`) {
		t.Fatalf("connect reply without pid: %q", reply)
	}
	pid := wiretest.Between(reply, `"pid":"`, `"`)
	sid := wiretest.Between(reply, `"sid":"`, `"`)
	if err := srv.To("news").Emit("n", 0); err != nil {
		t.Fatal(err)
	}
	first := c.Read()
	offset := wiretest.Between(first, `["n",0,"`, `"`)
	c.Conn.CloseNow()
	wiretest.Recv(t, gone)
	for i := 1; i <= 3; i++ {
		if err := srv.To("news").Emit("n", i); err != nil {
			t.Fatal(err)
		}
	}
	c2 := wiretest.Dial(t, url)
	c2.Send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if got := c2.Read(); !strings.HasPrefix(got, `40{"sid":"`+sid+`"`) {
		t.Fatalf("recovered connect: %q (want sid %s)", got, sid)
	}
	for i := 1; i <= 3; i++ {
		got := c2.Read()
		if !strings.HasPrefix(got, `42["n",`+string(rune('0'+i))+`,"`) {
			t.Fatalf("missed packet %d: %q", i, got)
		}
	}
}

func TestCloseShutsDownSockets(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	reasons := make(chan string, 1)
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	c := wiretest.Dial(t, url)
	connect(t, c, "/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := wiretest.Recv(t, reasons); got != ReasonServerShuttingDown {
		t.Fatalf("reason %q", got)
	}
	c.ExpectClosed()
}

func TestConnectTimeout(t *testing.T) {
	_, url := newTestServer(t, Options{ConnectTimeout: 100 * time.Millisecond, Engine: host.Options{}})
	c := wiretest.Dial(t, url)
	c.ExpectClosed()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func regexpMust(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }
