package sdk

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/edged-io/edged/plugins/abi"
)

// target is the recipient selection of an emit (docs/ABI.md §4.3).
type target struct {
	namespace  string
	socket     string
	rooms      []string
	except     []string
	broadcast  bool
	local      bool
	volatile   bool
	noCompress bool
}

// Operator selects recipients and emit flags, like the broadcast operators
// of Socket.IO (to, except, volatile, ...). Operators are values: every
// method returns a modified copy, so an Operator can be shared and extended.
type Operator struct {
	t       target
	timeout time.Duration
}

// Namespace returns an Operator for every socket of the namespace name, the
// counterpart of io.of(name). Pass the name (s.Namespace() for the current
// socket's): with an empty name and no rooms, an Emit during a socket's call
// reaches that socket only (docs/ABI.md §4.3).
func Namespace(name string) Operator { return Operator{t: target{namespace: name}} }

// To adds rooms to the recipients (union of rooms).
func (o Operator) To(rooms ...string) Operator {
	o.t.rooms = append(slices.Clip(o.t.rooms), rooms...)
	return o
}

// In is an alias of To.
func (o Operator) In(rooms ...string) Operator { return o.To(rooms...) }

// Except excludes the sockets of rooms.
func (o Operator) Except(rooms ...string) Operator {
	o.t.except = append(slices.Clip(o.t.except), rooms...)
	return o
}

// Local restricts the operation to this node.
func (o Operator) Local() Operator { o.t.local = true; return o }

// Volatile lets the event be dropped for clients that cannot receive it now.
func (o Operator) Volatile() Operator { o.t.volatile = true; return o }

// Compress sets the compression hint (default true).
func (o Operator) Compress(on bool) Operator { o.t.noCompress = !on; return o }

// Timeout sets how long EmitWithAck waits for the answers (default 10 s).
func (o Operator) Timeout(d time.Duration) Operator { o.timeout = d; return o }

// Emit sends event with args to the selected sockets. []byte values, at the
// top level or inside []any, Args and map[string]any, travel as binary
// attachments; other values are encoded with encoding/json.
func (o Operator) Emit(event string, args ...any) error {
	w := begin()
	w.target(&o.t)
	w.field("event")
	w.str(event)
	w.field("args")
	if err := w.args(args); err != nil {
		return err
	}
	_, err := w.send(abi.OpEmit)
	return err
}

// EmitRaw sends event with already encoded arguments.
func (o Operator) EmitRaw(event string, args RawArgs) error {
	w := begin()
	w.target(&o.t)
	w.field("event")
	w.str(event)
	w.field("args")
	w.raw(args)
	_, err := w.send(abi.OpEmit)
	return err
}

// EmitWithAck sends event and asks the recipients for an acknowledgement;
// the answer (or the timeout) is delivered later to the handler registered
// with Plugin.OnAckResult that returned h.
func (o Operator) EmitWithAck(h AckHandler, event string, args ...any) error {
	w := begin()
	w.target(&o.t)
	w.field("event")
	w.str(event)
	w.field("args")
	if err := w.args(args); err != nil {
		return err
	}
	o.ackFields(w, h)
	_, err := w.send(abi.OpEmit)
	return err
}

func (o Operator) ackFields(w *encoder, h AckHandler) {
	w.field("ack_token")
	w.buf = fmt.Appendf(w.buf, "%d", int32(h))
	if o.timeout > 0 {
		w.field("timeout_ms")
		w.buf = fmt.Appendf(w.buf, "%d", o.timeout.Milliseconds())
	}
}

// FetchSockets returns the selected sockets (id, handshake, rooms, data).
func (o Operator) FetchSockets() ([]RemoteSocket, error) {
	w := begin()
	w.target(&o.t)
	res, err := w.send(abi.OpFetchSockets)
	if err != nil || len(res) == 0 {
		return nil, err
	}
	var list []RemoteSocket
	if err := json.Unmarshal(res, &list); err != nil {
		return nil, fmt.Errorf("sdk: fetch_sockets result: %w", err)
	}
	ns := o.t.namespace
	for i := range list {
		list[i].namespace = ns
	}
	return list, nil
}

// SocketsJoin makes the selected sockets join rooms.
func (o Operator) SocketsJoin(rooms ...string) error {
	w := begin()
	w.target(&o.t)
	w.field("join")
	w.strs(rooms)
	_, err := w.send(abi.OpSocketsJoin)
	return err
}

// SocketsLeave makes the selected sockets leave rooms.
func (o Operator) SocketsLeave(rooms ...string) error {
	w := begin()
	w.target(&o.t)
	w.field("leave")
	w.strs(rooms)
	_, err := w.send(abi.OpSocketsLeave)
	return err
}

// DisconnectSockets disconnects the selected sockets; close also closes
// their underlying connections.
func (o Operator) DisconnectSockets(close bool) error {
	w := begin()
	w.target(&o.t)
	w.field("close")
	w.boolean(close)
	_, err := w.send(abi.OpDisconnectSockets)
	return err
}

// ServerSideEmit sends event to the other nodes of the cluster (their
// OnServerSide handlers). Only the namespace of the Operator is used.
func (o Operator) ServerSideEmit(event string, args ...any) error {
	return o.serverSideEmit(nil, event, args)
}

// ServerSideEmitWithAck is ServerSideEmit asking every node for an answer,
// delivered to the OnAckResult handler h with one response per node.
func (o Operator) ServerSideEmitWithAck(h AckHandler, event string, args ...any) error {
	return o.serverSideEmit(&h, event, args)
}

func (o Operator) serverSideEmit(h *AckHandler, event string, args []any) error {
	w := begin()
	if o.t.namespace != "" {
		w.field("namespace")
		w.str(o.t.namespace)
	}
	w.field("event")
	w.str(event)
	w.field("args")
	if err := w.args(args); err != nil {
		return err
	}
	if h != nil {
		o.ackFields(w, *h)
	}
	_, err := w.send(abi.OpServerSideEmit)
	return err
}
