package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edged-io/edged/core"
)

// Namespaces served besides "/":
//
//	/chat                    static, same scenario events as "/"
//	/private                 static, connect middleware: auth.token must be "secret";
//	                         token "plain" is refused with a plain error (no data)
//	/dyn-[a-z0-9]+           dynamic by regular expression; parent middleware refuses
//	                         auth.reject === true with data {nsp}
//	/fn-*                    dynamic by function: only when auth.allow === true
//	/observer                receives "new-namespace" (name) for every namespace created,
//	                         and "disconnected" ({id, nsp, reason, roomsAtDisconnecting,
//	                         roomsAfter}) for every socket of another namespace that
//	                         disconnects
const observerNamespace = "/observer"

var dynamicNamespace = regexp.MustCompile(`^/dyn-[a-z0-9]+$`)

// scenarios wires the test server's namespaces and events.
type scenarios struct {
	srv          *core.Server
	observer     *core.Namespace
	out          io.Writer
	outMu        sync.Mutex
	handlerDelay time.Duration // disconnect handlers work this long before reporting
}

func newScenarios(srv *core.Server, out io.Writer) *scenarios {
	return &scenarios{srv: srv, out: out}
}

func (sc *scenarios) install() {
	sc.observer = sc.srv.Of(observerNamespace)
	sc.observer.OnConnection(func(s *core.Socket) { sc.reportDisconnect(s, false) })
	sc.srv.OnNewNamespace(func(n *core.Namespace) { _ = sc.observer.Emit("new-namespace", n.Name()) })

	sc.srv.OnConnection(sc.onConnection)
	sc.srv.Of("/chat").OnConnection(sc.onConnection)

	private := sc.srv.Of("/private")
	private.Use(func(s *core.Socket) error {
		switch s.Handshake().Auth["token"] {
		case "secret":
			return nil
		case "plain":
			return errors.New("plain refusal")
		default:
			return &core.ConnectError{Message: "not authorized", Data: map[string]any{"code": 401, "reason": "bad token"}}
		}
	})
	private.OnConnection(sc.onConnection)

	dyn := sc.srv.OfRegexp(dynamicNamespace)
	dyn.Use(func(s *core.Socket) error {
		if s.Handshake().Auth["reject"] == true {
			return &core.ConnectError{Message: "dynamic refusal", Data: map[string]any{"nsp": s.Namespace().Name()}}
		}
		return nil
	})
	dyn.OnConnection(sc.onConnection)

	byFunc := sc.srv.OfFunc(func(name string, auth map[string]any) bool {
		return strings.HasPrefix(name, "/fn-") && auth["allow"] == true
	})
	byFunc.OnConnection(sc.onConnection)
}

// print writes one line to stdout (the harness reads them).
func (sc *scenarios) print(kind string, v any) {
	b, _ := json.Marshal(v)
	sc.outMu.Lock()
	defer sc.outMu.Unlock()
	fmt.Fprintf(sc.out, "%s %s\n", kind, b)
}

// reportDisconnect prints every disconnection of s and, with toObservers,
// reports it to the observers with the rooms seen while disconnecting and after.
func (sc *scenarios) reportDisconnect(s *core.Socket, toObservers bool) {
	var atDisconnecting []string
	s.OnDisconnecting(func(string) { atDisconnecting = s.Rooms() })
	s.OnDisconnect(func(reason string) {
		if sc.handlerDelay > 0 {
			time.Sleep(sc.handlerDelay) // a handler with real work to do, e.g. saving state
		}
		report := map[string]any{
			"id": s.ID(), "nsp": s.Namespace().Name(), "reason": reason,
			"roomsAtDisconnecting": nonNil(atDisconnecting), "roomsAfter": nonNil(s.Rooms()),
		}
		sc.print("DISCONNECT", report)
		if toObservers {
			_ = sc.observer.Emit("disconnected", report)
		}
	})
}

// socketLog records what the catch-all listeners of one socket saw.
type socketLog struct {
	mu       sync.Mutex
	incoming []any // [name, args]
	outgoing []any // [name, args]
}

func (l *socketLog) add(list *[]any, e *core.Event) {
	args, _ := e.Args.Args()
	l.mu.Lock()
	*list = append(*list, []any{e.Name, nonNilAny(args)})
	l.mu.Unlock()
}

func (l *socketLog) snapshot() map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return map[string]any{"incoming": slices.Clone(l.incoming), "outgoing": slices.Clone(l.outgoing)}
}

// onConnection installs the scenario events on a socket of any namespace
// but the observer's.
func (sc *scenarios) onConnection(s *core.Socket) {
	nsp := s.Namespace()
	sc.reportDisconnect(s, true)

	log := &socketLog{}
	s.OnAny(func(e *core.Event) { log.add(&log.incoming, e) })
	s.OnAnyOutgoing(func(e *core.Event) { log.add(&log.outgoing, e) })
	s.On("catch-all-log", func(e *core.Event) { _ = e.Ack(log.snapshot()) })

	// Per-packet middleware: "forbidden" never reaches a handler; the error
	// goes to OnError, which reports it to the client.
	s.Use(func(e *core.Event) error {
		if e.Name == "forbidden" {
			return errors.New("forbidden event refused by middleware")
		}
		return nil
	})
	s.OnError(func(err error) { _ = s.Emit("server-error", err.Error()) })
	s.On("forbidden", func(e *core.Event) { _ = e.Ack("handler ran") })

	s.On("whoami", func(e *core.Event) {
		_ = e.Ack(map[string]any{
			"id": s.ID(), "nsp": nsp.Name(), "rooms": nonNil(s.Rooms()), "data": s.Data(),
			"recovered": s.Recovered(), "transport": s.Conn().Transport(),
		})
	})
	s.On("handshake", func(e *core.Event) { _ = e.Ack(s.Handshake()) })

	// Acks from the server: echo passes the arguments through untouched;
	// binary-reverse decodes a binary argument in Go and answers new bytes.
	s.On("echo", func(e *core.Event) { _ = e.AckPayload(e.Args) })
	s.On("binary-reverse", func(e *core.Event) {
		var b []byte
		if err := e.Args.Bind(&b); err != nil {
			_ = e.Ack(map[string]any{"error": err.Error()})
			return
		}
		rev := slices.Clone(b)
		slices.Reverse(rev)
		_ = e.Ack(rev, map[string]any{"length": len(b)})
	})
	s.On("message", func(e *core.Event) {
		args, _ := e.Args.Args()
		_ = s.Send(append([]any{"server got"}, args...)...)
	})
	s.Once("once", func(e *core.Event) { _ = e.Ack("first") })

	// emit-back(event, ...args): the server emits event with args to this socket.
	s.On("emit-back", func(e *core.Event) {
		args, _ := e.Args.Args()
		if len(args) == 0 {
			return
		}
		name, _ := args[0].(string)
		err := s.Emit(name, args[1:]...)
		if e.HasAck() {
			_ = e.Ack(errText(err))
		}
	})

	// ask({event, args, timeoutMs}): the server emits event to this socket
	// asking for an ack, and answers {answer: [...]} or {error: text}.
	s.On("ask", func(e *core.Event) {
		o := firstObject(e)
		args := list(o["args"])
		em := s.Timeout(millis(o["timeoutMs"], 5000))
		go func() {
			a, err := em.EmitWithAck(context.Background(), str(o["event"]), args...)
			if err != nil {
				_ = e.Ack(map[string]any{"error": err.Error()})
				return
			}
			answer, derr := a.Args()
			if derr != nil {
				_ = e.Ack(map[string]any{"error": derr.Error()})
				return
			}
			_ = e.Ack(map[string]any{"answer": nonNilAny(answer), "socketId": a.SocketID})
		}()
	})

	// ask-room({to, event, args, timeoutMs}): broadcast with acks; answers
	// {answers: [{socketId, args}] sorted by socket id, error: text|null}.
	s.On("ask-room", func(e *core.Event) {
		o := firstObject(e)
		op := nsp.To(strList(o["to"])...).Timeout(millis(o["timeoutMs"], 5000))
		args := list(o["args"])
		go func() {
			acks, err := op.EmitWithAck(context.Background(), str(o["event"]), args...)
			answers := make([]map[string]any, 0, len(acks))
			for _, a := range acks {
				v, _ := a.Args()
				answers = append(answers, map[string]any{"socketId": a.SocketID, "args": nonNilAny(v)})
			}
			slices.SortFunc(answers, func(x, y map[string]any) int {
				return strings.Compare(x["socketId"].(string), y["socketId"].(string))
			})
			_ = e.Ack(map[string]any{"answers": answers, "error": errText(err)})
		}()
	})

	// Rooms.
	s.On("join", func(e *core.Event) {
		s.Join(strList(firstArg(e))...)
		_ = e.Ack(nonNil(s.Rooms()))
	})
	s.On("leave", func(e *core.Event) {
		for _, r := range strList(firstArg(e)) {
			s.Leave(r)
		}
		_ = e.Ack(nonNil(s.Rooms()))
	})
	s.On("set-data", func(e *core.Event) {
		s.SetData(firstArg(e))
		_ = e.Ack(true)
	})

	// broadcast({from, to, except, volatile, event, args, marker}): from
	// "server" uses the namespace, "socket" this socket's broadcast (sender
	// excluded). With marker set, every socket of the namespace then gets
	// "marker" (marker) after the broadcast, so a client can tell that an
	// excluded event never came.
	s.On("broadcast", func(e *core.Event) {
		o := firstObject(e)
		var op *core.BroadcastOperator
		if str(o["from"]) == "socket" {
			op = s.Broadcast()
		} else {
			op = nsp.Except()
		}
		if to := strList(o["to"]); len(to) > 0 {
			op = op.To(to...)
		}
		if except := strList(o["except"]); len(except) > 0 {
			op = op.Except(except...)
		}
		if o["volatile"] == true {
			op = op.Volatile()
		}
		if o["local"] == true {
			op = op.Local()
		}
		err := op.Emit(str(o["event"]), list(o["args"])...)
		if m, ok := o["marker"]; ok && m != nil {
			_ = nsp.Emit("marker", m)
		}
		_ = e.Ack(errText(err))
	})

	// volatile-idle: one volatile event to this socket once its transport is
	// idle (a polling client may be between two GETs when the request
	// arrives: wait, bounded, for its next one); it must arrive before the ack.
	s.On("volatile-idle", func(e *core.Event) {
		deadline := time.Now().Add(2 * time.Second)
		for !s.Conn().Writable() {
			if time.Now().After(deadline) {
				_ = e.Ack("the transport never became writable")
				return
			}
			time.Sleep(time.Millisecond)
		}
		err := s.Volatile().Emit("volatile", "idle")
		_ = e.Ack(errText(err))
	})
	// volatile-busy: a normal event, then a volatile one while the first is
	// still being written, then a normal marker: the volatile one is dropped.
	s.On("volatile-busy", func(e *core.Event) {
		big := strings.Repeat("x", intOr(firstArg(e), 0))
		_ = s.Emit("burst", "first", big)
		_ = s.Volatile().Emit("burst", "volatile", "")
		_ = s.Emit("burst", "last", "")
		_ = e.Ack(true)
	})

	// Utility methods with broadcast filters.
	s.On("fetch-sockets", func(e *core.Event) {
		o := firstObject(e)
		op := nsp.Except(strList(o["except"])...).In(strList(o["in"])...)
		found, err := op.FetchSockets(context.Background())
		if err != nil {
			_ = e.Ack(map[string]any{"error": err.Error()})
			return
		}
		out := make([]map[string]any, 0, len(found))
		for _, r := range found {
			var data any
			if len(r.Data) > 0 {
				_ = json.Unmarshal(r.Data, &data)
			}
			rooms := slices.Clone(r.Rooms)
			slices.Sort(rooms)
			out = append(out, map[string]any{"id": r.ID, "rooms": nonNil(rooms), "data": data, "handshake": r.Handshake})
		}
		slices.SortFunc(out, func(x, y map[string]any) int { return strings.Compare(x["id"].(string), y["id"].(string)) })
		_ = e.Ack(map[string]any{"sockets": out})
	})
	s.On("remote-emit", func(e *core.Event) {
		o := firstObject(e)
		found, err := nsp.In(strList(o["in"])...).FetchSockets(context.Background())
		if err != nil {
			_ = e.Ack(map[string]any{"error": err.Error()})
			return
		}
		for _, r := range found {
			_ = r.Emit(str(o["event"]), list(o["args"])...)
		}
		_ = e.Ack(len(found))
	})
	s.On("all-sockets", func(e *core.Event) {
		o := firstObject(e)
		ids := nsp.Except(strList(o["except"])...).In(strList(o["in"])...).AllSockets()
		slices.Sort(ids)
		_ = e.Ack(nonNil(ids))
	})
	s.On("sockets-join", func(e *core.Event) {
		o := firstObject(e)
		nsp.Except(strList(o["except"])...).In(strList(o["in"])...).SocketsJoin(strList(o["rooms"])...)
		_ = e.Ack(true)
	})
	s.On("sockets-leave", func(e *core.Event) {
		o := firstObject(e)
		nsp.Except(strList(o["except"])...).In(strList(o["in"])...).SocketsLeave(strList(o["rooms"])...)
		_ = e.Ack(true)
	})
	s.On("disconnect-sockets", func(e *core.Event) {
		o := firstObject(e)
		_ = e.Ack(true)
		nsp.Except(strList(o["except"])...).In(strList(o["in"])...).DisconnectSockets(o["close"] == true)
	})
	s.On("namespaces", func(e *core.Event) {
		var names []string
		for _, n := range sc.srv.Namespaces() {
			names = append(names, n.Name())
		}
		slices.Sort(names)
		_ = e.Ack(names)
	})

	// Disconnections decided by the server.
	s.On("server-disconnect-me", func(e *core.Event) {
		o := firstObject(e)
		s.Disconnect(o["close"] == true)
	})
	// cut-transport closes the Engine.IO connection under the socket, as a
	// network failure would (the server's reason is "forced close").
	s.On("cut-transport", func(e *core.Event) { s.Conn().Close() })

	// reserved(name): what the server API answers when asked to emit a
	// reserved event name.
	s.On("reserved", func(e *core.Event) {
		name := str(firstArg(e))
		_ = e.Ack(map[string]any{
			"socketEmit":     errText(s.Emit(name)),
			"namespaceEmit":  errText(nsp.Emit(name)),
			"serverSideEmit": errText(nsp.ServerSideEmit(name)),
		})
	})
}

// Argument helpers: the scenario events take one object argument.

func firstArg(e *core.Event) any {
	args, err := e.Args.Args()
	if err != nil || len(args) == 0 {
		return nil
	}
	return args[0]
}

func firstObject(e *core.Event) map[string]any {
	if o, ok := firstArg(e).(map[string]any); ok {
		return o
	}
	return map[string]any{}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func intOr(v any, def int) int {
	if f, ok := v.(float64); ok {
		return int(f)
	}
	return def
}

func millis(v any, def int) time.Duration {
	return time.Duration(intOr(v, def)) * time.Millisecond
}

func errText(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	slices.Sort(s)
	return s
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}
