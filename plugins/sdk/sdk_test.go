package sdk

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edged-io/edged/plugins/abi"
)

const sock = `{"id":"abc","namespace":"/chat","rooms":["abc","lobby"],"data":{"nick":"ann"},"recovered":false,"transport":"websocket"}`

func eventInput(name, args string, ack bool) string {
	a := "false"
	if ack {
		a = "true"
	}
	return `{"socket":` + sock + `,"event":"` + name + `","args":` + args + `,"ack":` + a + `}`
}

// sameJSON fails unless a and b are equal JSON documents.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestInitDeclares(t *testing.T) {
	p := &Plugin{Namespaces: []string{"/chat"}, NamespacePatterns: []string{`^/r-\d+$`}}
	p.Use(func(*Socket) error { return nil })
	p.OnConnection(func(*Socket) {})
	p.On("b", func(*Socket, *Event) (any, error) { return nil, nil })
	p.On("a", func(*Socket, *Event) (any, error) { return nil, nil })
	p.OnDisconnecting(func(*Socket, string) {})
	p.OnServerSide("sync", func(*Event) (any, error) { return nil, nil })
	var cfg struct{ Limit int }
	p.OnInit(func() error { return Config(&cfg) })
	h := install(t, p)
	in := `{"name":"chat","version":"1a2b","config":{"limit":7}}`
	h.input = []byte(in)
	if st := doInit(int32(len(in))); st != abi.StatusOK {
		t.Fatalf("init status %d, calls %+v", st, h.calls)
	}
	sameJSON(t, h.only(t, abi.OpDeclare).req, `{"namespaces":["/chat"],"namespace_patterns":["^/r-\\d+$"],
		"events":["b","a"],"connect":true,"connection":true,"disconnecting":true,"server_side":["sync"]}`)
	if cfg.Limit != 7 || Name() != "chat" || Version() != "1a2b" {
		t.Fatalf("config %+v name %q version %q", cfg, Name(), Version())
	}
}

func TestInitWithoutPlugin(t *testing.T) {
	h := install(t, nil)
	h.input = []byte(`{}`)
	if st := doInit(2); st != abi.StatusError {
		t.Fatalf("status %d", st)
	}
	if !strings.Contains(h.only(t, abi.OpReject).req, "no plugin registered") {
		t.Fatal(h.calls)
	}
}

func TestEventBindAndAckValue(t *testing.T) {
	p := &Plugin{Namespaces: []string{"/chat"}}
	var gotRoom string
	var gotN int
	var gotSocket *Socket
	p.On("join", func(s *Socket, e *Event) (any, error) {
		gotSocket = s
		if err := e.Bind(&gotRoom, &gotN); err != nil {
			return nil, err
		}
		return map[string]any{"ok": true, "room": gotRoom}, nil
	})
	h := install(t, p)
	if st := h.on(abi.KindEvent, eventInput("join", `["lobby",3]`, true)); st != abi.StatusOK {
		t.Fatalf("status %d", st)
	}
	if gotRoom != "lobby" || gotN != 3 {
		t.Fatalf("bound %q %d", gotRoom, gotN)
	}
	if gotSocket.ID() != "abc" || gotSocket.Namespace() != "/chat" || !gotSocket.InRoom("lobby") {
		t.Fatalf("socket %+v", gotSocket)
	}
	var data struct{ Nick string }
	if err := gotSocket.Data(&data); err != nil || data.Nick != "ann" {
		t.Fatalf("data %+v %v", data, err)
	}
	sameJSON(t, h.only(t, abi.OpAck).req, `{"args":[{"ok":true,"room":"lobby"}]}`)

	// Without ack: no ack op.
	h.on(abi.KindEvent, eventInput("join", `["lobby"]`, false))
	if len(h.calls) != 0 {
		t.Fatalf("calls %+v", h.calls)
	}
}

func TestEventBindWrongType(t *testing.T) {
	p := &Plugin{}
	var bindErr error
	p.On("x", func(s *Socket, e *Event) (any, error) {
		var room string
		bindErr = e.Bind(&room)
		return nil, bindErr
	})
	h := install(t, p)
	if st := h.on(abi.KindEvent, eventInput("x", `[42]`, true)); st != abi.StatusError {
		t.Fatalf("status %d", st)
	}
	var ae *ArgError
	if !errors.As(bindErr, &ae) || ae.Index != 0 {
		t.Fatalf("err %v", bindErr)
	}
	if !strings.Contains(h.only(t, abi.OpReject).req, "argument 0") {
		t.Fatal(h.calls)
	}
}

func TestAckForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		ret  any
		want string
	}{
		{"one value", "x", `{"args":["x"]}`},
		{"several", Args{1, "two", nil}, `{"args":[1,"two",null]}`},
		{"none", Args{}, `{"args":[]}`},
		{"raw", RawArgs{JSON: json.RawMessage(`[{"a":1},2]`)}, `{"args":[{"a":1},2]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plugin{}
			p.On("e", func(*Socket, *Event) (any, error) { return tc.ret, nil })
			h := install(t, p)
			h.on(abi.KindEvent, eventInput("e", `[]`, true))
			sameJSON(t, h.only(t, abi.OpAck).req, tc.want)
		})
	}
}

func TestExplicitAckOnce(t *testing.T) {
	p := &Plugin{}
	p.On("e", func(s *Socket, e *Event) (any, error) {
		if err := e.Ack("first"); err != nil {
			return nil, err
		}
		if e.HasAck() {
			t.Error("HasAck after Ack")
		}
		return "second", nil
	})
	h := install(t, p)
	h.on(abi.KindEvent, eventInput("e", `[]`, true))
	sameJSON(t, h.only(t, abi.OpAck).req, `{"args":["first"]}`)
}

func TestBinaryEchoPassThrough(t *testing.T) {
	p := &Plugin{}
	p.On("echo", func(s *Socket, e *Event) (any, error) {
		var b []byte
		var label string
		if err := e.Bind(&label, &b); err != nil {
			return nil, err
		}
		if label != "pic" || string(b) != "\x01\x02" {
			t.Errorf("bound %q %q", label, b)
		}
		return e.Raw()
	})
	h := install(t, p)
	h.on(abi.KindEvent, eventInput("echo", `["pic",{"_placeholder":true,"num":0}]`, true), []byte{1, 2})
	c := h.only(t, abi.OpAck)
	sameJSON(t, c.req, `{"args":["pic",{"_placeholder":true,"num":0}]}`)
	if len(c.atts) != 1 || string(c.atts[0]) != "\x01\x02" {
		t.Fatalf("attachments %q", c.atts)
	}
}

func TestEmitBinaryArgs(t *testing.T) {
	p := &Plugin{}
	p.OnConnection(func(s *Socket) {
		if err := s.Emit("files", []byte("a"), map[string]any{"b": []byte("bb"), "n": 1.5}, []any{[]byte("c")}); err != nil {
			t.Error(err)
		}
	})
	h := install(t, p)
	h.on(abi.KindConnection, `{"socket":`+sock+`}`)
	c := h.only(t, abi.OpEmit)
	sameJSON(t, c.req, `{"event":"files","args":[{"_placeholder":true,"num":0},
		{"b":{"_placeholder":true,"num":1},"n":1.5},[{"_placeholder":true,"num":2}]]}`)
	if len(c.atts) != 3 || string(c.atts[0]) != "a" || string(c.atts[1]) != "bb" || string(c.atts[2]) != "c" {
		t.Fatalf("attachments %q", c.atts)
	}
}

func TestTooManyAttachments(t *testing.T) {
	install(t, &Plugin{})
	args := make([]any, abi.MaxAttachments+1)
	for i := range args {
		args[i] = []byte{byte(i)}
	}
	if err := Namespace("/").Emit("x", args...); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("err %v", err)
	}
}

func TestOperatorTargets(t *testing.T) {
	h := install(t, &Plugin{})
	s := &Socket{id: "abc", namespace: "/chat"}
	base := Namespace("/chat").To("a")
	for _, tc := range []struct {
		name string
		emit func() error
		want string
	}{
		{"socket", func() error { return s.Emit("e", 1) }, `{"event":"e","args":[1]}`},
		{"socket to", func() error { return s.To("r1", "r2").Emit("e") },
			`{"rooms":["r1","r2"],"broadcast":true,"event":"e","args":[]}`},
		{"socket except", func() error { return s.Except("r").Emit("e") },
			`{"except":["r"],"broadcast":true,"event":"e","args":[]}`},
		{"volatile to", func() error { return s.To("r").Volatile().Emit("e") },
			`{"rooms":["r"],"broadcast":true,"volatile":true,"event":"e","args":[]}`},
		{"namespace", func() error { return Namespace("/x").Local().Compress(false).Emit("e") },
			`{"namespace":"/x","local":true,"compress":false,"event":"e","args":[]}`},
		{"derived copies", func() error { _ = base.To("b"); return base.To("c").Emit("e") },
			`{"namespace":"/chat","rooms":["a","c"],"event":"e","args":[]}`},
		{"with ack", func() error { return s.Timeout(1500*time.Millisecond).EmitWithAck(AckHandler(2), "q", "?") },
			`{"event":"q","args":["?"],"ack_token":2,"timeout_ms":1500}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.calls = nil
			if err := tc.emit(); err != nil {
				t.Fatal(err)
			}
			// "derived copies" emits twice only if To mutated base; check the last call.
			sameJSON(t, h.calls[len(h.calls)-1].req, tc.want)
		})
	}
}

func TestUtilityOps(t *testing.T) {
	h := install(t, &Plugin{})
	h.results[abi.OpFetchSockets] = `[{"id":"s1","handshake":{"auth":{"nick":"x"},"query":{"a":"b"},"issued":5},"rooms":["s1","r"],"data":{"nick":"bob"}}]`
	list, err := Namespace("/chat").To("r").FetchSockets()
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	sameJSON(t, h.calls[0].req, `{"namespace":"/chat","rooms":["r"]}`)
	var d struct{ Nick string }
	if err := list[0].Data(&d); err != nil || d.Nick != "bob" || list[0].Handshake.Query["a"] != "b" {
		t.Fatalf("%+v %v", list[0], err)
	}
	h.calls = nil
	_ = list[0].Emit("hi", "x")
	_ = list[0].SetData(map[string]any{"nick": "bob", "muted": 9})
	_ = list[0].Disconnect(true)
	_ = Namespace("").To("r").SocketsJoin("r2")
	_ = Namespace("").DisconnectSockets(false)
	_ = Namespace("/n").ServerSideEmit("sync", 1)
	want := []string{
		`{"namespace":"/chat","socket":"s1","event":"hi","args":["x"]}`,
		`{"socket":"s1","data":{"muted":9,"nick":"bob"}}`,
		`{"close":true,"socket":"s1"}`,
		`{"rooms":["r"],"join":["r2"]}`,
		`{"close":false}`,
		`{"namespace":"/n","event":"sync","args":[1]}`,
	}
	ops := []abi.Op{abi.OpEmit, abi.OpDataSet, abi.OpDisconnect, abi.OpSocketsJoin, abi.OpDisconnectSockets, abi.OpServerSideEmit}
	for i, c := range h.calls {
		if c.op != ops[i] {
			t.Errorf("call %d op %d want %d", i, c.op, ops[i])
		}
		sameJSON(t, c.req, want[i])
	}
}

func TestSocketJoinLeaveSetData(t *testing.T) {
	h := install(t, &Plugin{})
	s := &Socket{id: "abc", rooms: []string{"abc"}}
	if err := s.Join("a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave("a"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Rooms(), []string{"abc", "b"}) {
		t.Fatalf("rooms %v", s.Rooms())
	}
	if err := s.SetData(map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	var d map[string]int
	if err := s.Data(&d); err != nil || d["n"] != 1 {
		t.Fatalf("%v %v", d, err)
	}
	sameJSON(t, h.calls[0].req, `{"rooms":["a","b"]}`)
	sameJSON(t, h.calls[1].req, `{"rooms":["a"]}`)
	sameJSON(t, h.calls[2].req, `{"data":{"n":1}}`)
}

func TestCallErrors(t *testing.T) {
	h := install(t, &Plugin{})
	h.errs[abi.OpEmit] = abi.ErrNotAllowed
	err := Namespace("/").Emit("connect")
	var ce *CallError
	if !errors.Is(err, ErrNotAllowed) || !errors.As(err, &ce) || ce.Message != "refused by fake" {
		t.Fatalf("err %v", err)
	}
}

func TestConnectReject(t *testing.T) {
	p := &Plugin{}
	p.Use(func(s *Socket) error { return nil })
	p.Use(func(s *Socket) error {
		return &ConnectError{Message: "no", Data: map[string]any{"code": 4}}
	})
	h := install(t, p)
	if st := h.on(abi.KindConnect, `{"socket":`+sock+`}`); st != abi.StatusReject {
		t.Fatalf("status %d", st)
	}
	sameJSON(t, h.only(t, abi.OpReject).req, `{"message":"no","data":{"code":4}}`)
}

func TestPanicIsRecovered(t *testing.T) {
	p := &Plugin{}
	p.On("boom", func(*Socket, *Event) (any, error) { panic("kaput") })
	p.Use(func(*Socket) error { panic("kaput") })
	h := install(t, p)
	if st := h.on(abi.KindEvent, eventInput("boom", `[]`, true)); st != abi.StatusError {
		t.Fatalf("status %d", st)
	}
	sameJSON(t, h.only(t, abi.OpReject).req, `{"message":"plugin error"}`)
	if len(h.logs) == 0 || !strings.Contains(h.logs[0], "kaput") {
		t.Fatalf("logs %q", h.logs)
	}
	if st := h.on(abi.KindConnect, `{"socket":`+sock+`}`); st != abi.StatusReject {
		t.Fatalf("connect status %d", st)
	}
}

func TestAckResult(t *testing.T) {
	p := &Plugin{}
	var got []string
	p.OnAckResult("first", func(*Socket, *AckResult) { got = append(got, "first") })
	h2 := p.OnAckResult("second", func(s *Socket, r *AckResult) {
		var x string
		_ = r.Bind(&x)
		got = append(got, "second:"+x+":"+s.ID())
		if r.Err != nil {
			got = append(got, r.Err.Error())
		}
	})
	if h2 != 2 {
		t.Fatalf("token %d", h2)
	}
	h := install(t, p)
	h.on(abi.KindAckResult, `{"socket":`+sock+`,"token":2,"args":["yes"]}`)
	h.on(abi.KindAckResult, `{"socket":`+sock+`,"token":2,"error":"operation has timed out"}`)
	h.on(abi.KindAckResult, `{"socket":`+sock+`,"token":9,"args":[]}`)
	want := []string{"second:yes:abc", "second::abc", "operation has timed out"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestUnknownKind(t *testing.T) {
	h := install(t, &Plugin{})
	if st := h.on(abi.Kind(99), `{}`); st != abi.StatusUnknownKind {
		t.Fatalf("status %d", st)
	}
}

func TestPacketAndAny(t *testing.T) {
	p := &Plugin{}
	var seen []string
	p.OnAny(func(s *Socket, e *Event) { seen = append(seen, "any:"+e.Name) })
	p.UsePacket(func(s *Socket, e *Event) error {
		if e.Name == "bad" {
			return errors.New("refused")
		}
		return nil
	})
	h := install(t, p)
	h.on(abi.KindAny, eventInput("x", `[]`, false))
	if st := h.on(abi.KindPacket, eventInput("bad", `[]`, false)); st != abi.StatusReject {
		t.Fatalf("status %d", st)
	}
	sameJSON(t, h.only(t, abi.OpReject).req, `{"message":"refused"}`)
	if st := h.on(abi.KindPacket, eventInput("good", `[]`, false)); st != abi.StatusOK {
		t.Fatalf("status %d", st)
	}
	if !reflect.DeepEqual(seen, []string{"any:x"}) {
		t.Fatal(seen)
	}
}

func TestRawArg(t *testing.T) {
	p := &Plugin{}
	p.On("b", func(s *Socket, e *Event) (any, error) {
		r, err := e.RawArg(1)
		if err != nil {
			return nil, err
		}
		return nil, Namespace("/").To("room").EmitRaw("msg", r)
	})
	h := install(t, p)
	h.on(abi.KindEvent, eventInput("b", `["room",{"x":{"_placeholder":true,"num":0}}]`, false), []byte("z"))
	c := h.only(t, abi.OpEmit)
	sameJSON(t, c.req, `{"namespace":"/","rooms":["room"],"event":"msg","args":[{"x":{"_placeholder":true,"num":0}}]}`)
	if len(c.atts) != 1 || string(c.atts[0]) != "z" {
		t.Fatalf("atts %q", c.atts)
	}
}

func TestHandshakeNowRandom(t *testing.T) {
	h := install(t, &Plugin{})
	h.results[abi.OpHandshake] = `{"headers":{"host":"x"},"query":{"EIO":"4"},"auth":{"token":"t"},"address":"1.2.3.4","time":"Thu","issued":7,"url":"/socket.io/","secure":true,"xdomain":false}`
	h.results[abi.OpNow] = `{"ms":1700000000123}`
	h.results[abi.OpRandom] = `{"hex":"00ff"}`
	s := &Socket{id: "abc"}
	hs, err := s.Handshake()
	if err != nil || hs.Auth["token"] != "t" || hs.Issued != 7 || !hs.Secure || hs.Address != "1.2.3.4" {
		t.Fatalf("%+v %v", hs, err)
	}
	if hs2, _ := s.Handshake(); hs2 != hs || len(h.calls) != 1 {
		t.Fatal("handshake not cached")
	}
	if now, err := Now(); err != nil || now.UnixMilli() != 1700000000123 {
		t.Fatalf("%v %v", now, err)
	}
	if x, err := RandomHex(2); err != nil || x != "00ff" {
		t.Fatalf("%q %v", x, err)
	}
	sameJSON(t, h.calls[2].req, `{"n":2}`)
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "nl\n\t\r\x01", "é€😀", "bad\xffutf", "sep\u2028"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, got, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Fatalf("%q -> %s -> %q", s, got, back)
		}
	}
}

func TestLog(t *testing.T) {
	h := install(t, &Plugin{})
	Log.Info("hello", "n", 3, "s", "x y", "odd")
	if h.logs[0] != `hello n=3 s="x y" odd=(missing)` {
		t.Fatalf("%q", h.logs[0])
	}
}

func TestNoHost(t *testing.T) {
	if err := Namespace("/").Emit("x"); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), ErrNoHost.Error()) {
		t.Fatalf("err %v", err)
	}
}

func FuzzValue(f *testing.F) {
	f.Add(`{"a":[1,"x",null,true]}`)
	f.Fuzz(func(t *testing.T, js string) {
		var v any
		if json.Unmarshal([]byte(js), &v) != nil {
			return
		}
		var e encoder
		if err := e.value(v); err != nil {
			t.Fatal(err)
		}
		var back any
		if err := json.Unmarshal(e.buf, &back); err != nil {
			t.Fatalf("%s -> %s: %v", js, e.buf, err)
		}
		if !reflect.DeepEqual(normalize(v), normalize(back)) {
			t.Fatalf("%s -> %s", js, e.buf)
		}
	})
}

// normalize maps strings through ToValidUTF8 (the encoder replaces invalid bytes).
func normalize(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ToValidUTF8(v, "\ufffd")
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case map[string]any:
		m := map[string]any{}
		for k, x := range v {
			m[strings.ToValidUTF8(k, "\ufffd")] = normalize(x)
		}
		return m
	}
	return v
}

// TestRetainedValues checks that a Socket and an Event kept past their call
// still hold their values after later calls (small and large inputs).
func TestRetainedValues(t *testing.T) {
	var (
		sockets []*Socket
		events  []*Event
		args    []json.RawMessage
	)
	p := &Plugin{}
	p.On("e", func(s *Socket, e *Event) (any, error) {
		sockets, events, args = append(sockets, s), append(events, e), append(args, e.Args)
		return nil, nil
	})
	h := install(t, p)
	inputs := []string{`["small"]`, `["` + strings.Repeat("large", 100) + `"]`, `[1]`, `[2]`}
	for _, a := range inputs {
		if st := h.on(abi.KindEvent, eventInput("e", a, false)); st != abi.StatusOK {
			t.Fatalf("status %d", st)
		}
	}
	for i, a := range inputs {
		if string(events[i].Args) != a || string(args[i]) != a || events[i].Name != "e" || sockets[i].ID() != "abc" {
			t.Fatalf("call %d: args %s, name %q, socket %q", i, events[i].Args, events[i].Name, sockets[i].ID())
		}
	}
	// appending to the args must not overwrite the rest of the input (the
	// socket object, decoded on first use)
	h.on(abi.KindEvent, `{"event":"e","args":[3],"socket":`+sock+`}`)
	_ = append(events[4].Args, `,"x"]}"overwritten"`...)
	if id := sockets[4].ID(); id != "abc" {
		t.Fatalf("socket id %q after an append to the args", id)
	}
}

// TestEscapedEventName checks an event name with escapes finds its handler.
func TestEscapedEventName(t *testing.T) {
	p := &Plugin{}
	var got string
	p.On("é\"x", func(s *Socket, e *Event) (any, error) { got = e.Name; return "ok", nil })
	h := install(t, p)
	h.on(abi.KindEvent, `{"socket":`+sock+`,"event":"\u00e9\"x","args":[],"ack":true}`)
	if got != "é\"x" {
		t.Fatalf("name %q", got)
	}
	sameJSON(t, h.only(t, abi.OpAck).req, `{"args":["ok"]}`)
}
