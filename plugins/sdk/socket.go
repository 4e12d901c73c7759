package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/edged-io/edged/plugins/abi"
)

// Socket is the client socket a handler runs for. It is a snapshot taken
// when the call began (rooms and data as the host saw them), kept up to date
// by the SDK's own Join, Leave and SetData; it is valid during the call only.
type Socket struct {
	id        string
	namespace string
	rooms     []string
	data      json.RawMessage
	recovered bool
	transport string
	hs        *Handshake
	raw       []byte // the socket object, until decoded
}

// load decodes the socket object on first use: a handler that does not
// look at the socket does not pay for it.
func (s *Socket) load() {
	if s.raw == nil {
		return
	}
	var j socketJSON
	if err := j.decode(s.raw); err != nil {
		Log.Warn("bad socket object", "err", err.Error())
	}
	s.raw = nil
	s.id, s.namespace, s.rooms, s.data = j.ID, j.Namespace, j.Rooms, j.Data
	s.recovered, s.transport = j.Recovered, j.Transport
}

// socketJSON is the socket object S of docs/ABI.md §3.1.
type socketJSON struct {
	ID        string          `json:"id"`
	Namespace string          `json:"namespace"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
	Recovered bool            `json:"recovered"`
	Transport string          `json:"transport"`
}

func (s *socketJSON) decode(b []byte) error {
	return eachMember(b, func(k, v []byte) error {
		var ok bool
		switch string(k) {
		case "id":
			s.ID, ok = parseString(v)
		case "namespace":
			s.Namespace, ok = parseString(v)
		case "rooms":
			s.Rooms, ok = parseStrings(v)
		case "data":
			s.Data, ok = bytes.Clone(v), true
		case "recovered":
			s.Recovered, _ = parseBool(v)
			ok = true
		case "transport":
			s.Transport, _ = parseString(v)
			ok = true
		default:
			ok = true
		}
		if !ok {
			return fmt.Errorf("sdk: socket field %s: %w", k, errSyntax)
		}
		return nil
	})
}

// ID returns the socket id.
func (s *Socket) ID() string {
	s.load()
	return s.id
}

// Namespace returns the name of the socket's namespace.
func (s *Socket) Namespace() string {
	s.load()
	return s.namespace
}

// Rooms returns the rooms of the socket (its own id room included).
func (s *Socket) Rooms() []string {
	s.load()
	return slices.Clone(s.rooms)
}

// InRoom reports whether the socket is in room.
func (s *Socket) InRoom(room string) bool {
	s.load()
	return slices.Contains(s.rooms, room)
}

// Recovered reports whether the connection state was recovered.
func (s *Socket) Recovered() bool {
	s.load()
	return s.recovered
}

// Transport returns the transport name ("polling" or "websocket").
func (s *Socket) Transport() string {
	s.load()
	return s.transport
}

// RawData returns socket.data as JSON ("null" or empty when unset).
func (s *Socket) RawData() json.RawMessage {
	s.load()
	return s.data
}

// Data decodes socket.data into v; unset data leaves v untouched.
func (s *Socket) Data(v any) error {
	s.load()
	return decodeData(s.data, v)
}

// SetData replaces socket.data with v (JSON-encoded).
func (s *Socket) SetData(v any) error {
	s.load()
	b, err := setData("", v)
	if err == nil {
		s.data = b
	}
	return err
}

func decodeData(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func setData(id string, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sdk: socket data: %w", err)
	}
	w := begin()
	if id != "" {
		w.field("socket")
		w.str(id)
	}
	w.field("data")
	w.buf = append(w.buf, b...)
	_, err = w.send(abi.OpDataSet)
	return b, err
}

// Handshake is the handshake of a socket, in the shapes of Node.js
// Socket.IO: lower-case header names, plain string query values, Time a
// JavaScript date string, Issued epoch milliseconds.
type Handshake struct {
	Headers map[string]string `json:"headers"`
	Query   map[string]string `json:"query"`
	Auth    map[string]any    `json:"auth"`
	Address string            `json:"address"`
	Time    string            `json:"time"`
	Issued  int64             `json:"issued"`
	URL     string            `json:"url"`
	Secure  bool              `json:"secure"`
	XDomain bool              `json:"xdomain"`
}

// Handshake returns the socket's handshake (fetched from the host once per call).
func (s *Socket) Handshake() (*Handshake, error) {
	if s.hs != nil {
		return s.hs, nil
	}
	res, err := begin().send(abi.OpHandshake)
	if err != nil {
		return nil, err
	}
	hs := new(Handshake)
	if err := json.Unmarshal(res, hs); err != nil {
		return nil, fmt.Errorf("sdk: handshake result: %w", err)
	}
	s.hs = hs
	return hs, nil
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) error {
	s.load()
	if err := joinLeave(abi.OpJoin, "", rooms); err != nil {
		return err
	}
	for _, r := range rooms {
		if !slices.Contains(s.rooms, r) {
			s.rooms = append(s.rooms, r)
		}
	}
	return nil
}

// Leave removes the socket from room.
func (s *Socket) Leave(room string) error {
	s.load()
	if err := joinLeave(abi.OpLeave, "", []string{room}); err != nil {
		return err
	}
	s.rooms = slices.DeleteFunc(slices.Clone(s.rooms), func(r string) bool { return r == room })
	return nil
}

func joinLeave(op abi.Op, id string, rooms []string) error {
	w := begin()
	w.field("rooms")
	w.strs(rooms)
	if id != "" {
		w.field("socket")
		w.str(id)
	}
	_, err := w.send(op)
	return err
}

// Disconnect disconnects the socket from its namespace; close also closes
// the underlying connection (every namespace of the client).
func (s *Socket) Disconnect(close bool) error { return disconnect("", close) }

func disconnect(id string, close bool) error {
	w := begin()
	w.field("close")
	w.boolean(close)
	if id != "" {
		w.field("socket")
		w.str(id)
	}
	_, err := w.send(abi.OpDisconnect)
	return err
}

// Emit sends event with args to this socket (see Operator.Emit for binary values).
func (s *Socket) Emit(event string, args ...any) error { return Operator{}.Emit(event, args...) }

// EmitRaw sends event with already encoded arguments to this socket.
func (s *Socket) EmitRaw(event string, args RawArgs) error {
	return Operator{}.EmitRaw(event, args)
}

// EmitWithAck sends event to this socket and asks for an acknowledgement,
// delivered later to the OnAckResult handler h (default timeout 10 s; see Timeout).
func (s *Socket) EmitWithAck(h AckHandler, event string, args ...any) error {
	return Operator{}.EmitWithAck(h, event, args...)
}

// To broadcasts to rooms, except this socket (socket.to(room) of Socket.IO).
func (s *Socket) To(rooms ...string) Operator { return s.Broadcast().To(rooms...) }

// In is an alias of To.
func (s *Socket) In(rooms ...string) Operator { return s.To(rooms...) }

// Except broadcasts to every socket of the namespace but this one and those in rooms.
func (s *Socket) Except(rooms ...string) Operator { return s.Broadcast().Except(rooms...) }

// Broadcast selects every socket of the namespace but this one.
func (s *Socket) Broadcast() Operator { return Operator{t: target{broadcast: true}} }

// Volatile emits to this socket, dropped if it cannot receive now.
func (s *Socket) Volatile() Operator { return Operator{}.Volatile() }

// Compress emits to this socket with the compression hint on.
func (s *Socket) Compress(on bool) Operator { return Operator{}.Compress(on) }

// Local restricts a broadcast from this socket to this node.
func (s *Socket) Local() Operator { return s.Broadcast().Local() }

// Timeout emits to this socket with an acknowledgement timeout (for EmitWithAck).
func (s *Socket) Timeout(d time.Duration) Operator { return Operator{}.Timeout(d) }

// RemoteSocket is a socket returned by FetchSockets; it may live on
// another node. Its fields are a snapshot.
type RemoteSocket struct {
	ID        string          `json:"id"`
	Handshake Handshake       `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	RawData   json.RawMessage `json:"data"`

	namespace string
}

// Data decodes the socket's data (as fetched) into v.
func (r *RemoteSocket) Data(v any) error { return decodeData(r.RawData, v) }

// SetData replaces the socket's data with v.
func (r *RemoteSocket) SetData(v any) error {
	b, err := setData(r.ID, v)
	if err == nil {
		r.RawData = b
	}
	return err
}

// Emit sends event with args to this socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return Operator{t: target{namespace: r.namespace, socket: r.ID}}.Emit(event, args...)
}

// Join adds the socket to rooms.
func (r *RemoteSocket) Join(rooms ...string) error { return joinLeave(abi.OpJoin, r.ID, rooms) }

// Leave removes the socket from room.
func (r *RemoteSocket) Leave(room string) error {
	return joinLeave(abi.OpLeave, r.ID, []string{room})
}

// Disconnect disconnects the socket; close also closes its connection.
func (r *RemoteSocket) Disconnect(close bool) error { return disconnect(r.ID, close) }
