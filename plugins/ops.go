package plugins

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"crypto/rand"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/core/parser"
	"github.com/edged-io/edged/plugins/abi"
)

// opError is an op failure with its ABI code.
type opError struct {
	code int32
	msg  string
}

func (e *opError) Error() string { return e.msg }

func errBad(format string, args ...any) error {
	return &opError{abi.ErrBadRequest, fmt.Sprintf(format, args...)}
}

var (
	errNoSuchSocket = &opError{abi.ErrNotFound, "socket is not connected"}
	errNoNamespace  = &opError{abi.ErrNotFound, "namespace does not exist"}
)

// op dispatches one operation; it returns the result, its attachments and
// 0, or a negative code with the error.
func (cs *callState) op(ctx context.Context, op abi.Op, req []byte, staged [][]byte) ([]byte, [][]byte, int32, error) {
	res, att, err := cs.runOp(ctx, op, req, staged)
	if err != nil {
		var oe *opError
		if errors.As(err, &oe) {
			return nil, nil, oe.code, err
		}
		var re *core.ReservedEventError
		if errors.As(err, &re) {
			return nil, nil, abi.ErrNotAllowed, err
		}
		return nil, nil, abi.ErrFailed, err
	}
	return res, att, 0, nil
}

func decode(req []byte, v any) error {
	if err := json.Unmarshal(req, v); err != nil {
		return errBad("bad request: %v", err)
	}
	return nil
}

type targetReq struct {
	abi.Target
	Event     string          `json:"event"`
	Args      json.RawMessage `json:"args"`
	AckToken  *int64          `json:"ack_token"`
	TimeoutMS int64           `json:"timeout_ms"`
	Join      []string        `json:"join"`
	Leave     []string        `json:"leave"`
	Close     bool            `json:"close"`
}

type socketReq struct {
	Socket string          `json:"socket"`
	Rooms  []string        `json:"rooms"`
	Close  bool            `json:"close"`
	Data   json.RawMessage `json:"data"`
}

func (cs *callState) runOp(ctx context.Context, op abi.Op, req []byte, staged [][]byte) ([]byte, [][]byte, error) {
	switch op {
	case abi.OpDeclare:
		if !cs.init {
			return nil, nil, &opError{abi.ErrNotAllowed, "declare is only allowed during edged_init"}
		}
		var d abi.Declaration
		if err := decode(req, &d); err != nil {
			return nil, nil, err
		}
		cs.decl = &d
		return nil, nil, nil
	case abi.OpReject:
		var r struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if err := decode(req, &r); err != nil {
			return nil, nil, err
		}
		cs.rejected, cs.rejectMsg, cs.rejectData = true, r.Message, r.Data
		return nil, nil, nil
	case abi.OpEmit:
		return nil, nil, cs.opEmit(req, staged)
	case abi.OpAck:
		return nil, nil, cs.opAck(req, staged)
	case abi.OpJoin, abi.OpLeave:
		var r socketReq
		if err := decode(req, &r); err != nil {
			return nil, nil, err
		}
		s, err := cs.lookupSocket(r.Socket)
		if err != nil {
			return nil, nil, err
		}
		if op == abi.OpJoin {
			s.Join(r.Rooms...)
		} else {
			for _, room := range r.Rooms {
				s.Leave(room)
			}
		}
		return nil, nil, nil
	case abi.OpSocketsJoin, abi.OpSocketsLeave, abi.OpDisconnectSockets, abi.OpFetchSockets:
		var r targetReq
		if err := decode(req, &r); err != nil {
			return nil, nil, err
		}
		o, err := cs.operator(&r.Target)
		if err != nil {
			return nil, nil, err
		}
		switch op {
		case abi.OpSocketsJoin:
			o.SocketsJoin(r.Join...)
		case abi.OpSocketsLeave:
			o.SocketsLeave(r.Leave...)
		case abi.OpDisconnectSockets:
			o.DisconnectSockets(r.Close)
		default:
			return cs.fetchSockets(ctx, o)
		}
		return nil, nil, nil
	case abi.OpDisconnect:
		var r socketReq
		if err := decode(req, &r); err != nil {
			return nil, nil, err
		}
		s, err := cs.lookupSocket(r.Socket)
		if err != nil {
			return nil, nil, err
		}
		s.Disconnect(r.Close)
		return nil, nil, nil
	case abi.OpServerSideEmit:
		return nil, nil, cs.opServerSideEmit(req, staged)
	case abi.OpDataGet, abi.OpDataSet, abi.OpHandshake, abi.OpRooms:
		var r socketReq
		if err := decode(req, &r); err != nil {
			return nil, nil, err
		}
		s, err := cs.lookupSocket(r.Socket)
		if err != nil {
			return nil, nil, err
		}
		switch op {
		case abi.OpDataGet:
			return marshalData(s.Data())
		case abi.OpDataSet:
			if len(r.Data) == 0 || string(r.Data) == "null" {
				s.SetData(nil)
			} else {
				s.SetData(json.RawMessage(r.Data))
			}
			return nil, nil, nil
		case abi.OpHandshake:
			b, err := json.Marshal(s.Handshake())
			return b, nil, err
		default:
			b, err := json.Marshal(nonNil(s.Rooms()))
			return b, nil, err
		}
	case abi.OpNow:
		return fmt.Appendf(nil, `{"ms":%d}`, time.Now().UnixMilli()), nil, nil
	case abi.OpRandom:
		var r struct {
			N int `json:"n"`
		}
		if err := decode(req, &r); err != nil {
			return nil, nil, err
		}
		if r.N < 0 || r.N > 1024 {
			return nil, nil, errBad("n must be 0..1024")
		}
		b := make([]byte, r.N)
		_, _ = rand.Read(b)
		return fmt.Appendf(nil, `{"hex":%q}`, hex.EncodeToString(b)), nil, nil
	case abi.OpConfig:
		return cs.g.set.Config, nil, nil
	case abi.OpKVGet, abi.OpKVSet, abi.OpKVDelete, abi.OpKVScan, abi.OpKVCAS:
		res, err := cs.opKV(op, req)
		return res, nil, err
	}
	return nil, nil, &opError{abi.ErrUnknownOp, fmt.Sprintf("unknown op %d", op)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func marshalData(v any) ([]byte, [][]byte, error) {
	if v == nil {
		return []byte("null"), nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil, nil
	}
	// data set by Go code may hold []byte: those travel as attachments
	data, att, err := parser.MarshalArgs([]any{v})
	if err != nil {
		return nil, nil, err
	}
	return data[1 : len(data)-1], att, nil
}

// lookupSocket returns the current socket ("" or "self") or a local socket
// of the current namespace.
func (cs *callState) lookupSocket(id string) (*core.Socket, error) {
	if id == "" || id == "self" || (cs.socket != nil && id == cs.socket.ID()) {
		if cs.socket == nil {
			return nil, errNoSuchSocket
		}
		return cs.socket, nil
	}
	if cs.nsp == nil {
		return nil, errNoSuchSocket
	}
	if s := cs.nsp.Socket(id); s != nil {
		return s, nil
	}
	return nil, errNoSuchSocket
}

// namespace resolves the namespace of a target without creating one.
func (cs *callState) namespace(name string) (*core.Namespace, error) {
	if name == "" || (cs.nsp != nil && name == cs.nsp.Name()) {
		if cs.nsp == nil {
			return nil, errNoNamespace
		}
		return cs.nsp, nil
	}
	if n := cs.g.m.server.Namespace(name); n != nil {
		return n, nil
	}
	return nil, errNoNamespace
}

// operator builds the broadcast operator a target selects.
func (cs *callState) operator(t *abi.Target) (*core.BroadcastOperator, error) {
	nsp, err := cs.namespace(t.Namespace)
	if err != nil {
		return nil, err
	}
	var o *core.BroadcastOperator
	switch {
	case t.Broadcast && cs.socket != nil && nsp == cs.nsp:
		o = cs.socket.Broadcast()
	case t.Socket == "self":
		if cs.socket == nil {
			return nil, errNoSuchSocket
		}
		o = nsp.To(cs.socket.ID())
	case t.Socket != "":
		o = nsp.To(t.Socket)
	default:
		o = nsp.To()
	}
	if len(t.Rooms) > 0 {
		o = o.To(t.Rooms...)
	}
	if len(t.Except) > 0 {
		o = o.Except(t.Except...)
	}
	if t.Local {
		o = o.Local()
	}
	if t.Volatile {
		o = o.Volatile()
	}
	if t.Compress != nil && !*t.Compress {
		o = o.Compress(false)
	}
	return o, nil
}

func (cs *callState) fetchSockets(ctx context.Context, o *core.BroadcastOperator) ([]byte, [][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	socks, err := o.FetchSockets(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]core.SocketDetails, len(socks))
	for i, s := range socks {
		out[i] = s.SocketDetails
		if len(out[i].Data) == 0 {
			out[i].Data = json.RawMessage("null")
		}
	}
	b, err := json.Marshal(out)
	return b, nil, err
}

// checkArgs validates the args of an emit or ack: a JSON array whose
// placeholders refer to staged attachments.
func checkArgs(args json.RawMessage, staged [][]byte) (json.RawMessage, error) {
	if len(args) == 0 || string(args) == "null" {
		return json.RawMessage("[]"), nil
	}
	if args[0] != '[' {
		return nil, errBad("args must be a JSON array")
	}
	// the request is valid JSON already; a full decode is only needed to
	// check that placeholders refer to staged attachments
	if len(staged) == 0 && !bytes.Contains(args, []byte("_placeholder")) {
		return args, nil
	}
	if _, err := parser.UnmarshalArgs(args, staged); err != nil {
		return nil, errBad("args: %v", err)
	}
	return args, nil
}

func reservedEmit(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
		"connection", "new_namespace":
		return true
	}
	return false
}

func (cs *callState) opEmit(req []byte, staged [][]byte) error {
	var r targetReq
	if err := decode(req, &r); err != nil {
		return err
	}
	if r.Event == "" {
		return errBad("emit needs an event")
	}
	if reservedEmit(r.Event) {
		return &opError{abi.ErrNotAllowed, fmt.Sprintf("%q is a reserved event name", r.Event)}
	}
	args, err := checkArgs(r.Args, staged)
	if err != nil {
		return err
	}
	p := core.Payload{Data: args, Attachments: staged}
	timeout := 10 * time.Second
	if r.TimeoutMS > 0 {
		timeout = time.Duration(r.TimeoutMS) * time.Millisecond
	}
	t := &r.Target
	toSelf := cs.socket != nil && t.Namespace == "" && !t.Broadcast && len(t.Rooms) == 0 && len(t.Except) == 0 &&
		(t.Socket == "" || t.Socket == "self" || t.Socket == cs.socket.ID())
	if toSelf {
		e := cs.socket.Compress(t.Compress == nil || *t.Compress)
		if t.Volatile {
			e = e.Volatile()
		}
		if r.AckToken == nil {
			return e.EmitPayload(r.Event, p)
		}
		return cs.withAckGeneration(func(done func()) error {
			g, sock, token := cs.g, cs.socket, *r.AckToken
			return e.Timeout(timeout).EmitPayloadWithAck(r.Event, p, func(a *core.Ack, err error) {
				// delivered on the socket's queue, in order with its events
				sock.Enqueue(func() {
					defer done()
					g.ackResult(sock, token, a, err)
				})
			})
		})
	}
	o, err := cs.operator(t)
	if err != nil {
		return err
	}
	if r.AckToken == nil {
		return o.EmitPayload(r.Event, p)
	}
	return cs.withAckGeneration(func(done func()) error {
		g, sock, token := cs.g, cs.socket, *r.AckToken
		return o.Timeout(timeout).EmitPayloadWithAck(r.Event, p, func(acks []*core.Ack, err error) {
			deliver := func() {
				defer done()
				g.broadcastAckResult(sock, token, acks, err)
			}
			if sock != nil {
				sock.Enqueue(deliver) // in order with the socket's events
			} else {
				go deliver()
			}
		})
	})
}

// withAckGeneration keeps the generation alive until the ack result was
// delivered, so that the same version answers it. The call state is reused
// after the call: the callbacks must not touch cs.
func (cs *callState) withAckGeneration(emit func(done func()) error) error {
	g := cs.g
	if !g.acquire() {
		return &opError{abi.ErrFailed, "plugin version is closing"}
	}
	if err := emit(g.release); err != nil {
		g.release()
		return err
	}
	return nil
}

func (cs *callState) opAck(req []byte, staged [][]byte) error {
	var r struct {
		Args json.RawMessage `json:"args"`
	}
	if v, ok := rawField(req, "args"); ok {
		// the hot path of every acked event: no decode, one copy (req is
		// guest memory)
		r.Args = bytes.Clone(v)
	} else if err := decode(req, &r); err != nil {
		return err
	}
	args, err := checkArgs(r.Args, staged)
	if err != nil {
		return err
	}
	if cs.acked {
		return &opError{abi.ErrNotAllowed, "already acknowledged"}
	}
	switch {
	case cs.event != nil && cs.event.HasAck():
		cs.acked = true
		if err := cs.event.AckPayload(core.Payload{Data: args, Attachments: staged}); err != nil {
			if errors.Is(err, core.ErrDisconnected) {
				return errNoSuchSocket
			}
			return &opError{abi.ErrNotAllowed, err.Error()}
		}
		return nil
	case cs.ssAck != nil:
		cs.acked = true
		var vals []json.RawMessage
		if err := json.Unmarshal(args, &vals); err != nil {
			return errBad("args: %v", err)
		}
		anyVals := make([]any, len(vals))
		for i, v := range vals {
			anyVals[i] = v
		}
		cs.ssAck(anyVals...)
		return nil
	}
	return &opError{abi.ErrNotAllowed, "the current call has no acknowledgement"}
}

func (cs *callState) opServerSideEmit(req []byte, staged [][]byte) error {
	var r targetReq
	if err := decode(req, &r); err != nil {
		return err
	}
	if r.Event == "" {
		return errBad("server_side_emit needs an event")
	}
	if reservedEmit(r.Event) {
		return &opError{abi.ErrNotAllowed, fmt.Sprintf("%q is a reserved event name", r.Event)}
	}
	nsp, err := cs.namespace(r.Namespace)
	if err != nil {
		return err
	}
	args, err := checkArgs(r.Args, staged)
	if err != nil {
		return err
	}
	p := core.Payload{Data: args, Attachments: staged}
	if r.AckToken == nil {
		return nsp.Adapter().ServerSideEmit(context.Background(), r.Event, p, nil)
	}
	timeout := 10 * time.Second
	if r.TimeoutMS > 0 {
		timeout = time.Duration(r.TimeoutMS) * time.Millisecond
	}
	return cs.withAckGeneration(func(done func()) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		g, token := cs.g, *r.AckToken
		err := nsp.Adapter().ServerSideEmit(ctx, r.Event, p, func(answers []core.Payload, err error) {
			go func() {
				defer done()
				defer cancel()
				acks := make([]*core.Ack, len(answers))
				for i, a := range answers {
					acks[i] = &core.Ack{Payload: a}
				}
				g.broadcastAckResult(nil, token, acks, err)
			}()
		})
		if err != nil {
			cancel()
		}
		return err
	})
}
