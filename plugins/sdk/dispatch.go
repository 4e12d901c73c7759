package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/edged-io/edged/plugins/abi"
)

// input is the union of the dispatcher inputs of docs/ABI.md §3. Its
// slices alias the input buffer, which is never reused (see readInput).
type input struct {
	Socket    []byte // the socket object, decoded on demand; nil if null
	Event     []byte // the event name as a raw JSON string
	Args      json.RawMessage
	Ack       bool
	Reason    string
	Token     int32
	Responses []json.RawMessage
	Error     string
	Namespace string
}

// decode fills in from the JSON b, keeping slices of b without copying
// them: b must not be reused. It runs on every call, so it iterates without
// callbacks.
func (in *input) decode(b []byte) error {
	it := members{b: b}
	for it.next() {
		v := it.val[:len(it.val):len(it.val)] // appending to a kept slice must not overwrite b
		switch string(it.key) {
		case "socket":
			if string(v) != "null" {
				in.Socket = v
			}
		case "event":
			in.Event = v
		case "args":
			in.Args = v
		case "ack":
			in.Ack, _ = parseBool(v)
		case "reason":
			in.Reason, _ = parseString(v)
		case "token":
			t, _ := parseInt(v)
			in.Token = int32(t)
		case "responses":
			el := elements{b: v}
			for el.next() {
				in.Responses = append(in.Responses, el.val[:len(el.val):len(el.val)])
			}
			if el.err != nil {
				return el.err
			}
		case "error":
			in.Error, _ = parseString(v)
		case "namespace":
			in.Namespace, _ = parseString(v)
		}
	}
	return it.err
}

// name returns the event name.
func (in *input) name() string {
	s, _ := parseString(in.Event)
	return s
}

// frame holds the values a dispatcher call passes to the handlers and,
// when it fits in buf, the input they alias: one allocation per call
// instead of one per value.
type frame struct {
	socket Socket
	event  Event
	buf    [224]byte
}

// newSocket returns the socket of the call, nil if the input has none.
func (f *frame) newSocket(raw []byte) *Socket {
	if raw == nil {
		return nil
	}
	f.socket.raw = raw
	return &f.socket
}

// newEvent returns the event of the call.
func (f *frame) newEvent(name string, in *input) *Event {
	f.event = Event{Name: name, Args: in.Args, list: argList{raw: in.Args}, ack: in.Ack}
	return &f.event
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
			in.Config = v
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
	if err := in.decode(readInput(n, nil)); err != nil {
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
	f := new(frame)
	var in input
	if err := in.decode(readInput(n, f.buf[:])); err != nil {
		reject("sdk: bad input: "+err.Error(), nil)
		return abi.StatusError
	}
	s := f.newSocket(in.Socket)
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
		h := lookup(p.events, in.Event)
		if h.fn == nil {
			return abi.StatusOK
		}
		e := f.newEvent(h.name, &in)
		v, err := h.fn(s, e)
		return answer(e, v, err)
	case abi.KindAny:
		e := f.newEvent(in.name(), &in)
		for _, fn := range p.any {
			fn(s, e)
		}
	case abi.KindPacket:
		e := f.newEvent(in.name(), &in)
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
		h := lookup(p.serverSide, in.Event)
		if h.fn == nil {
			return abi.StatusOK
		}
		e := f.newEvent(h.name, &in)
		e.Namespace = in.Namespace
		v, err := h.fn(e)
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
