package plugins

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/core/parser"
	"github.com/edged-io/edged/plugins/abi"
)

var callStates = sync.Pool{New: func() any { return &callState{input: make([]byte, 0, 512)} }}

func newCallState(g *generation, kind abi.Kind, nsp *core.Namespace, s *core.Socket) *callState {
	cs := callStates.Get().(*callState)
	cs.g, cs.kind, cs.nsp, cs.socket = g, kind, nsp, s
	return cs
}

func (cs *callState) free() {
	input := cs.input[:0]
	if cap(input) > 64<<10 {
		input = make([]byte, 0, 512)
	}
	*cs = callState{input: input}
	callStates.Put(cs)
}

// resetOutcome clears what one dispatcher call left, keeping the input.
func (cs *callState) resetOutcome() {
	cs.staged, cs.stagedBytes = nil, 0
	cs.result, cs.resultAtt = nil, nil
	cs.rejected, cs.rejectMsg, cs.rejectData = false, "", nil
}

// errorText is the client-facing text of a failed call.
func (cs *callState) errorText(err error) string {
	if err == nil && cs.rejectMsg != "" {
		return cs.rejectMsg
	}
	return errPluginFault
}

// acquire returns the generation serving a namespace with a reference the
// caller releases, or nil when no plugin serves it.
func (m *Manager) acquire(nsp string) *generation {
	for {
		g := m.routes.Load().lookup(nsp)
		if g == nil {
			return nil
		}
		if g.acquire() {
			return g
		}
		// retired meanwhile: the table was already replaced, look again
	}
}

// connectMiddleware runs KIND_CONNECT; it fails closed.
func (m *Manager) connectMiddleware(s *core.Socket) error {
	name := s.Namespace().Name()
	g := m.acquire(name)
	if g == nil {
		if name == "/" {
			return nil
		}
		// the text the core sends for a namespace that does not exist
		return &core.ConnectError{Message: "Invalid namespace"}
	}
	defer g.release()
	if !g.decl.Connect {
		return nil
	}
	cs := newCallState(g, abi.KindConnect, s.Namespace(), s)
	defer cs.free()
	cs.input = socketInput(cs.input, s)
	status, err := g.call(cs)
	if err != nil {
		return &core.ConnectError{Message: errPluginFault}
	}
	switch status {
	case abi.StatusOK, abi.StatusUnknownKind:
		return nil
	}
	msg := cs.rejectMsg
	if msg == "" {
		msg = "rejected by plugin"
	}
	ce := &core.ConnectError{Message: msg}
	if len(cs.rejectData) > 0 && string(cs.rejectData) != "null" {
		ce.Data = json.RawMessage(cs.rejectData)
	}
	return ce
}

// onConnection attaches the per-socket dispatchers and runs KIND_CONNECTION.
// The dispatchers look up the serving generation at every call, so a reload
// changes the behaviour of connected sockets without re-registering.
func (m *Manager) onConnection(s *core.Socket) {
	s.OnAny(m.onEvent)
	s.OnDisconnecting(func(reason string) { m.onReason(s, abi.KindDisconnecting, reason) })
	s.OnDisconnect(func(reason string) { m.onReason(s, abi.KindDisconnect, reason) })
	g := m.acquire(s.Namespace().Name())
	if g == nil {
		return
	}
	defer g.release()
	if !g.decl.Connection {
		return
	}
	cs := newCallState(g, abi.KindConnection, s.Namespace(), s)
	defer cs.free()
	cs.input = socketInput(cs.input, s)
	g.logStatus(cs, g.callOK(cs))
}

func (m *Manager) onReason(s *core.Socket, kind abi.Kind, reason string) {
	g := m.acquire(s.Namespace().Name())
	if g == nil {
		return
	}
	defer g.release()
	if (kind == abi.KindDisconnecting && !g.decl.Disconnecting) || (kind == abi.KindDisconnect && !g.decl.Disconnect) {
		return
	}
	cs := newCallState(g, kind, s.Namespace(), s)
	defer cs.free()
	cs.input = reasonInput(cs.input, s, reason)
	g.logStatus(cs, g.callOK(cs))
}

// callOK runs a call whose failure only gets logged.
func (g *generation) callOK(cs *callState) abi.Status {
	status, err := g.call(cs)
	if err != nil {
		return abi.StatusError
	}
	return status
}

func (g *generation) logStatus(cs *callState, status abi.Status) {
	if status == abi.StatusError && cs.rejectMsg != "" {
		g.log.Warn("plugin handler failed", "kind", int32(cs.kind), "err", cs.rejectMsg)
	}
}

// onEvent runs KIND_ANY, KIND_PACKET and KIND_EVENT for one event, all on
// the same generation, so that the ack is answered by the version that got
// the event.
func (m *Manager) onEvent(e *core.Event) {
	s := e.Socket
	g := m.acquire(s.Namespace().Name())
	if g == nil {
		return
	}
	defer g.release()
	d := &g.decl
	isEvent := g.events[e.Name]
	if !d.CatchAll && !d.Packet && !isEvent {
		return
	}
	cs := newCallState(g, abi.KindAny, s.Namespace(), s)
	defer cs.free()
	cs.input = eventInput(cs.input, e)
	cs.inAtt = e.Args.Attachments
	cs.event = e
	if d.CatchAll {
		g.logStatus(cs, g.callOK(cs))
		cs.resetOutcome()
	}
	if d.Packet {
		cs.kind = abi.KindPacket
		status, err := g.call(cs)
		if err != nil || status == abi.StatusReject || status == abi.StatusError {
			msg := cs.errorText(err)
			if err == nil && status == abi.StatusReject && cs.rejectMsg == "" {
				msg = "rejected by plugin"
			}
			ackError(e, cs, msg)
			return
		}
		cs.resetOutcome()
	}
	if !isEvent {
		return
	}
	cs.kind = abi.KindEvent
	status, err := g.call(cs)
	if err != nil || status == abi.StatusError {
		g.logStatus(cs, status)
		ackError(e, cs, cs.errorText(err))
	}
}

// ackError answers the client's ack with {"error": msg} unless the guest acked.
func ackError(e *core.Event, cs *callState, msg string) {
	if !e.HasAck() || cs.acked {
		return
	}
	data := append([]byte(`[{"error":`), appendString(nil, msg)...)
	data = append(data, "}]"...)
	_ = e.AckPayload(core.Payload{Data: data})
}

// serverSideHandler runs KIND_SERVER_SIDE_EMIT for one namespace and event.
func (m *Manager) serverSideHandler(nsp *core.Namespace, event string) core.ServerSideHandler {
	return func(args core.Payload, ack func(args ...any)) {
		g := m.acquire(nsp.Name())
		if g == nil {
			return
		}
		defer g.release()
		if !g.server[event] {
			return
		}
		cs := newCallState(g, abi.KindServerSideEmit, nsp, nil)
		defer cs.free()
		b := append(cs.input, `{"namespace":`...)
		b = appendString(b, nsp.Name())
		b = append(b, `,"event":`...)
		b = appendString(b, event)
		b = append(b, `,"args":`...)
		b = append(b, argsOrEmpty(args.Data)...)
		b = append(b, `,"ack":`...)
		b = strconv.AppendBool(b, ack != nil)
		cs.input = append(b, '}')
		cs.inAtt = args.Attachments
		cs.ssAck = ack
		status, err := g.call(cs)
		if (err != nil || status == abi.StatusError) && ack != nil && !cs.acked {
			ack(map[string]string{"error": cs.errorText(err)})
		}
	}
}

// ackResult runs KIND_ACK_RESULT for a socket emit with ack_token.
func (g *generation) ackResult(s *core.Socket, token int64, a *core.Ack, err error) {
	var nsp *core.Namespace
	if s != nil {
		nsp = s.Namespace()
	}
	cs := newCallState(g, abi.KindAckResult, nsp, s)
	defer cs.free()
	b := append(cs.input, `{"socket":`...)
	b = appendSocket(b, s)
	b = append(b, `,"token":`...)
	b = strconv.AppendInt(b, token, 10)
	if a != nil {
		b = append(b, `,"args":`...)
		b = append(b, argsOrEmpty(a.Data)...)
		cs.inAtt = a.Attachments
	}
	if err != nil {
		b = append(b, `,"error":`...)
		b = appendString(b, err.Error())
	}
	cs.input = append(b, '}')
	g.logStatus(cs, g.callOK(cs))
}

// broadcastAckResult runs KIND_ACK_RESULT with "responses" for a broadcast or
// server-side emit with ack_token.
func (g *generation) broadcastAckResult(s *core.Socket, token int64, acks []*core.Ack, err error) {
	var nsp *core.Namespace
	if s != nil {
		nsp = s.Namespace()
	}
	cs := newCallState(g, abi.KindAckResult, nsp, s)
	defer cs.free()
	b := append(cs.input, `{"socket":`...)
	b = appendSocket(b, s)
	b = append(b, `,"token":`...)
	b = strconv.AppendInt(b, token, 10)
	b = append(b, `,"responses":`...)
	responses, att := mergeResponses(acks)
	b = append(b, responses...)
	cs.inAtt = att
	if err != nil {
		b = append(b, `,"error":`...)
		b = appendString(b, err.Error())
	}
	cs.input = append(b, '}')
	g.logStatus(cs, g.callOK(cs))
}

// mergeResponses builds [[...], ...] from several answers, renumbering their
// binary placeholders into one attachment list.
func mergeResponses(acks []*core.Ack) (json.RawMessage, [][]byte) {
	binary := false
	for _, a := range acks {
		binary = binary || len(a.Attachments) > 0
	}
	if !binary {
		out := []byte{'['}
		for i, a := range acks {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, argsOrEmpty(a.Data)...)
		}
		return append(out, ']'), nil
	}
	all := make([]any, len(acks))
	for i, a := range acks {
		vals, err := parser.UnmarshalArgs(argsOrEmpty(a.Data), a.Attachments)
		if err != nil {
			vals = []any{}
		}
		all[i] = vals
	}
	data, att, err := parser.MarshalArgs(all)
	if err != nil {
		return json.RawMessage("[]"), nil
	}
	return data, att
}
