package core

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEventData(t *testing.T) {
	tests := []struct {
		name, event, args, want string
	}{
		{"no args", "ping", "", `["ping"]`},
		{"empty array", "ping", `[]`, `["ping"]`},
		{"args", "chat", `[1,"a",{"b":[true]}]`, `["chat",1,"a",{"b":[true]}]`},
		{"spaced", "x", ` [ 1 , 2 ] `, `["x",1 , 2]`},
		{"quoted name", `a"b`, `[1]`, `["a\"b",1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eventData(tt.event, json.RawMessage(tt.args))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("eventData = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAppendToArray(t *testing.T) {
	tests := []struct{ in, v, want string }{
		{`[]`, `"o1"`, `["o1"]`},
		{`["msg",1]`, `"o2"`, `["msg",1,"o2"]`},
		{``, `1`, `[1]`},
	}
	for _, tt := range tests {
		if got := string(appendToArray(json.RawMessage(tt.in), []byte(tt.v))); got != tt.want {
			t.Errorf("appendToArray(%s, %s) = %s, want %s", tt.in, tt.v, got, tt.want)
		}
	}
}

func TestReservedNames(t *testing.T) {
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if _, err := newEventPacket("/", name, Payload{}); err == nil {
			t.Errorf("newEventPacket(%q) accepted a reserved name", name)
		}
	}
	if _, err := newEventPacket("/", "chat", Payload{}); err != nil {
		t.Errorf("newEventPacket(chat): %v", err)
	}
	for _, name := range []string{"connect", "connection", "new_namespace"} {
		if !isReservedServerEvent(name) {
			t.Errorf("%q should be reserved for server-side emits", name)
		}
	}
}

func TestPayloadArgsAndBind(t *testing.T) {
	p, err := NewPayload("hi", 2, []byte{1, 2}, map[string]any{"k": []byte{3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 2 {
		t.Fatalf("attachments = %d, want 2", len(p.Attachments))
	}
	args, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	if args[0] != "hi" || args[1] != float64(2) {
		t.Fatalf("args = %#v", args)
	}
	if b, ok := args[2].([]byte); !ok || len(b) != 2 || b[1] != 2 {
		t.Fatalf("binary arg = %#v", args[2])
	}
	var s string
	var n int
	var bin []byte
	if err := p.Bind(&s, &n, &bin); err != nil {
		t.Fatal(err)
	}
	if s != "hi" || n != 2 || len(bin) != 2 {
		t.Fatalf("Bind got %q %d %v", s, n, bin)
	}
	if p.Len() != 4 {
		t.Fatalf("Len = %d, want 4", p.Len())
	}
}

func TestJSDateString(t *testing.T) {
	ts := time.Date(2026, 11, 26, 7, 11, 6, 0, time.UTC)
	want := "Thu Nov 26 2026 07:11:06 GMT+0000 (Coordinated Universal Time)"
	if got := jsDateString(ts); got != want {
		t.Fatalf("jsDateString = %q, want %q", got, want)
	}
}

func TestRecoveryBuffer(t *testing.T) {
	b := newRecoveryBuffer(time.Minute, 100)
	first := b.add(json.RawMessage(`["a"]`), nil, BroadcastOptions{Rooms: []string{"r1"}})
	var offsets []string
	if err := json.Unmarshal(first, &offsets); err != nil || len(offsets) != 2 {
		t.Fatalf("first packet %s", first)
	}
	b.add(json.RawMessage(`["b"]`), nil, BroadcastOptions{Rooms: []string{"r1"}})
	b.add(json.RawMessage(`["c"]`), nil, BroadcastOptions{Rooms: []string{"r2"}})
	b.add(json.RawMessage(`["d"]`), nil, BroadcastOptions{})
	b.add(json.RawMessage(`["e"]`), nil, BroadcastOptions{Except: []string{"r1"}})
	b.persist(&Session{SID: "s1", PID: "p1", Rooms: []string{"s1", "r1"}})

	if got := b.restore("unknown", offsets[1]); got != nil {
		t.Fatal("restored an unknown session")
	}
	s := b.restore("p1", offsets[1])
	if s == nil {
		t.Fatal("session not restored")
	}
	var names []string
	for _, p := range s.MissedPackets {
		var arr []string
		if err := json.Unmarshal(p.Data, &arr); err != nil {
			t.Fatal(err)
		}
		names = append(names, arr[0])
	}
	if len(names) != 2 || names[0] != "b" || names[1] != "d" {
		t.Fatalf("missed = %v, want [b d]", names)
	}
	if b.restore("p1", offsets[1]) != nil {
		t.Fatal("a session was restored twice")
	}
}

func TestRecoveryBufferBounds(t *testing.T) {
	b := newRecoveryBuffer(time.Minute, 3)
	first := b.add(json.RawMessage(`["a"]`), nil, BroadcastOptions{})
	for range 5 {
		b.add(json.RawMessage(`["x"]`), nil, BroadcastOptions{})
	}
	if len(b.packets) != 3 {
		t.Fatalf("buffer holds %d packets, want 3", len(b.packets))
	}
	var arr []string
	_ = json.Unmarshal(first, &arr)
	b.persist(&Session{SID: "s", PID: "p", Rooms: []string{"s"}})
	if b.restore("p", arr[1]) != nil {
		t.Fatal("restored from an offset that fell out of the buffer")
	}

	clock := time.Now()
	expired := newRecoveryBuffer(time.Minute, 10)
	expired.now = func() time.Time { return clock }
	first = expired.add(json.RawMessage(`["a"]`), nil, BroadcastOptions{})
	_ = json.Unmarshal(first, &arr)
	expired.add(json.RawMessage(`["b"]`), nil, BroadcastOptions{})
	expired.persist(&Session{SID: "s", PID: "p", Rooms: []string{"s"}})
	clock = clock.Add(time.Minute + time.Second)
	if expired.restore("p", arr[1]) != nil {
		t.Fatal("restored an expired session")
	}
}

func TestIncludes(t *testing.T) {
	tests := []struct {
		name                  string
		session, rooms, excep []string
		want                  bool
	}{
		{"all", []string{"a"}, nil, nil, true},
		{"in room", []string{"a", "b"}, []string{"b"}, nil, true},
		{"not in room", []string{"a"}, []string{"b"}, nil, false},
		{"excluded", []string{"a", "b"}, nil, []string{"b"}, false},
	}
	for _, tt := range tests {
		if got := WasRecipient(tt.session, tt.rooms, tt.excep); got != tt.want {
			t.Errorf("%s: includes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestListeners(t *testing.T) {
	var l listeners
	calls := 0
	id := l.on("a", func(*Event) { calls++ }, false)
	l.on("a", func(*Event) { calls += 10 }, true)
	l.on("b", func(*Event) {}, false)
	if got := l.names(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("names = %v", got)
	}
	for _, h := range l.take("a") {
		h(nil)
	}
	for _, h := range l.take("a") {
		h(nil)
	}
	if calls != 12 {
		t.Fatalf("calls = %d, want 12 (once handler ran once)", calls)
	}
	l.off("a", id)
	if got := l.names(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("names after off = %v", got)
	}
	l.offAll(nil)
	if len(l.names()) != 0 {
		t.Fatal("offAll left listeners")
	}
}
