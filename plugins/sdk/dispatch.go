package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/edged-io/edged/plugins/abi"
)

// input is the union of the dispatcher inputs of docs/ABI.md §3.
type input struct {
	Socket    []byte            `json:"socket"` // raw, decoded on demand
	Event     string            `json:"event"`
	Args      json.RawMessage   `json:"args"`
	Ack       bool              `json:"ack"`
	Reason    string            `json:"reason"`
	Token     int32             `json:"token"`
	Responses []json.RawMessage `json:"responses"`
	Error     string            `json:"error"`
	Namespace string            `json:"namespace"`
}

// decode fills in from the JSON b; it copies what it keeps (b is reused).
func (in *input) decode(b []byte) error {
	return eachMember(b, func(k, v []byte) error {
		switch string(k) {
		case "socket":
			if string(v) != "null" {
				in.Socket = bytes.Clone(v)
			}
		case "event":
			in.Event, _ = parseString(v)
		case "args":
			in.Args = bytes.Clone(v)
		case "ack":
			in.Ack, _ = parseBool(v)
		case "reason":
			in.Reason, _ = parseString(v)
		case "token":
			t, _ := parseInt(v)
			in.Token = int32(t)
		case "responses":
			return eachElement(v, func(e []byte) error {
				in.Responses = append(in.Responses, bytes.Clone(e))
				return nil
			})
		case "error":
			in.Error, _ = parseString(v)
		case "namespace":
			in.Namespace, _ = parseString(v)
		}
		return nil
	})
}

// initInput is the input of edged_init.
type initInput struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Config  json.RawMessage `json:"config"`
}

func (in *initInput) decode(b []byte) error {
	return eachMember(b, func(k, v []byte) error {
		switch string(k) {
		case "name":
			in.Name, _ = parseString(v)
		case "version":
			in.Version, _ = parseString(v)
		case "config":
			in.Config = bytes.Clone(v)
		}
		return nil
	})
}

var (
	pluginName    string
	pluginVersion string
	pluginConfig  json.RawMessage
)

// errPluginFault is what a client sees when a handler panicked.
const errPluginFault = "plugin error"

// doInit implements edged_init: remember the config, run the OnInit
// functions and declare the handlers.
func doInit(n int32) (st abi.Status) {
	defer func() {
		if r := recover(); r != nil {
			Log.Error("init panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			reject(fmt.Sprintf("init panicked: %v", r), nil)
			st = abi.StatusError
		}
	}()
	p := registered
	if p == nil {
		reject("no plugin registered (call sdk.Register in an init function)", nil)
		return abi.StatusError
	}
	var in initInput
	if err := in.decode(readInput(n)); err != nil {
		reject("init input: "+err.Error(), nil)
		return abi.StatusError
	}
	pluginName, pluginVersion = in.Name, in.Version
	pluginConfig = in.Config
	for _, fn := range p.init {
		if err := fn(); err != nil {
			reject(err.Error(), nil)
			return abi.StatusError
		}
	}
	d := p.declaration()
	b, err := json.Marshal(d)
	if err != nil {
		reject(err.Error(), nil)
		return abi.StatusError
	}
	if _, err := callOp(abi.OpDeclare, b, nil); err != nil {
		reject("declare: "+err.Error(), nil)
		return abi.StatusError
	}
	return abi.StatusOK
}

// declaration lists what p handles.
func (p *Plugin) declaration() abi.Declaration {
	return abi.Declaration{
		Namespaces:        p.Namespaces,
		NamespacePatterns: p.NamespacePatterns,
		Events:            p.eventNames,
		CatchAll:          len(p.any) > 0,
		Connect:           len(p.connect) > 0,
		Connection:        len(p.connection) > 0,
		Packet:            len(p.packet) > 0,
		Disconnecting:     len(p.disconnecting) > 0,
		Disconnect:        len(p.disconnect) > 0,
		ServerSide:        p.serverNames,
	}
}

// reject sets the error of the current call (op reject).
func reject(message string, data any) {
	w := begin()
	w.field("message")
	w.str(message)
	if data != nil {
		w.field("data")
		if err := w.marshal(data); err != nil {
			w.buf = append(w.buf, "null"...)
		}
	}
	_, _ = w.send(abi.OpReject)
}

// doOn implements edged_on.
func doOn(kind abi.Kind, n int32) (st abi.Status) {
	resetInputAttachments()
	defer func() {
		if r := recover(); r != nil {
			Log.Error("handler panicked", "kind", int(kind), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			reject(errPluginFault, nil)
			if kind == abi.KindConnect || kind == abi.KindPacket {
				st = abi.StatusReject
			} else {
				st = abi.StatusError
			}
		}
	}()
	p := registered
	if p == nil {
		return abi.StatusUnknownKind
	}
	var in input
	if err := in.decode(readInput(n)); err != nil {
		reject("sdk: bad input: "+err.Error(), nil)
		return abi.StatusError
	}
	s := newSocket(in.Socket)
	switch kind {
	case abi.KindConnect:
		for _, fn := range p.connect {
			if err := fn(s); err != nil {
				var ce *ConnectError
				if errors.As(err, &ce) {
					reject(ce.Message, ce.Data)
				} else {
					reject(err.Error(), nil)
				}
				return abi.StatusReject
			}
		}
	case abi.KindConnection:
		for _, fn := range p.connection {
			fn(s)
		}
	case abi.KindEvent:
		fn := p.events[in.Event]
		if fn == nil {
			return abi.StatusOK
		}
		e := newEvent(in.Event, in.Args, in.Ack)
		v, err := fn(s, e)
		return answer(e, v, err)
	case abi.KindAny:
		e := newEvent(in.Event, in.Args, in.Ack)
		for _, fn := range p.any {
			fn(s, e)
		}
	case abi.KindPacket:
		e := newEvent(in.Event, in.Args, in.Ack)
		for _, fn := range p.packet {
			if err := fn(s, e); err != nil {
				reject(err.Error(), nil)
				return abi.StatusReject
			}
		}
	case abi.KindDisconnecting:
		for _, fn := range p.disconnecting {
			fn(s, in.Reason)
		}
	case abi.KindDisconnect:
		for _, fn := range p.disconnect {
			fn(s, in.Reason)
		}
	case abi.KindAckResult:
		fn := p.ackHandler(in.Token)
		if fn == nil {
			Log.Warn("ack result for an unknown token", "token", in.Token)
			return abi.StatusOK
		}
		r := &AckResult{Args: in.Args, Responses: in.Responses, list: argList{raw: in.Args}}
		switch in.Error {
		case "":
		case ErrAckTimeout.Error():
			r.Err = ErrAckTimeout
		default:
			r.Err = errors.New(in.Error)
		}
		fn(s, r)
	case abi.KindServerSideEmit:
		fn := p.serverSide[in.Event]
		if fn == nil {
			return abi.StatusOK
		}
		e := newEvent(in.Event, in.Args, in.Ack)
		e.Namespace = in.Namespace
		v, err := fn(e)
		return answer(e, v, err)
	default:
		return abi.StatusUnknownKind
	}
	return abi.StatusOK
}

// answer turns a handler's results into the ack and the status.
func answer(e *Event, v any, err error) abi.Status {
	if err != nil {
		reject(err.Error(), nil)
		return abi.StatusError
	}
	if v != nil && e.HasAck() {
		if err := e.ackValue(v); err != nil {
			Log.Warn("ack failed", "event", e.Name, "err", err.Error())
		}
	}
	return abi.StatusOK
}
