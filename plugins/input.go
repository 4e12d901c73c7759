package plugins

import (
	"encoding/json"
	"strconv"

	"github.com/edged-io/edged/core"
)

// appendString appends s as a JSON string, byte for byte what json.Marshal
// writes. Strings of plain printable ASCII (ids, namespaces, event names,
// rooms: nearly all of them) are quoted in place without allocating.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendSocket appends the socket object S of docs/ABI.md §3.1.
func appendSocket(b []byte, s *core.Socket) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID())
	b = append(b, `,"namespace":`...)
	b = appendString(b, s.Namespace().Name())
	b = append(b, `,"rooms":[`...)
	for i, r := range s.Rooms() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r)
	}
	b = append(b, `],"data":`...)
	data, _, err := marshalData(s.Data())
	if err != nil || len(data) == 0 {
		data = []byte("null")
	}
	b = append(b, data...)
	b = append(b, `,"recovered":`...)
	b = strconv.AppendBool(b, s.Recovered())
	b = append(b, `,"transport":`...)
	transport := ""
	if c := s.Conn(); c != nil {
		transport = c.Transport()
	}
	b = appendString(b, transport)
	return append(b, '}')
}

func argsOrEmpty(a json.RawMessage) json.RawMessage {
	if len(a) == 0 {
		return json.RawMessage("[]")
	}
	return a
}

// socketInput is {"socket": S}.
func socketInput(b []byte, s *core.Socket) []byte {
	b = append(b, `{"socket":`...)
	b = appendSocket(b, s)
	return append(b, '}')
}

// reasonInput is {"socket": S, "reason": "..."}.
func reasonInput(b []byte, s *core.Socket, reason string) []byte {
	b = append(b, `{"socket":`...)
	b = appendSocket(b, s)
	b = append(b, `,"reason":`...)
	b = appendString(b, reason)
	return append(b, '}')
}

// eventInput is {"socket": S, "event": "name", "args": [...], "ack": bool}.
func eventInput(b []byte, e *core.Event) []byte {
	b = append(b, `{"socket":`...)
	b = appendSocket(b, e.Socket)
	b = append(b, `,"event":`...)
	b = appendString(b, e.Name)
	b = append(b, `,"args":`...)
	b = append(b, argsOrEmpty(e.Args.Data)...)
	b = append(b, `,"ack":`...)
	b = strconv.AppendBool(b, e.HasAck())
	return append(b, '}')
}
