package plugins

import (
	"encoding/json"
	"strconv"
	"strings"

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

// rawField returns the value of key in the JSON object req, as
// json.Unmarshal into a struct with a json.RawMessage field would, without
// decoding: req must be valid JSON (doCall checked it). ok is false when the
// walk cannot be sure to agree with encoding/json (not an object, a key with
// an escape, or a key that matches only case-insensitively); the caller
// then decodes. The value aliases req.
func rawField(req []byte, key string) (val []byte, ok bool) {
	i := skipSpace(req, 0)
	if i >= len(req) || req[i] != '{' {
		return nil, false
	}
	i = skipSpace(req, i+1)
	if i < len(req) && req[i] == '}' {
		return nil, true
	}
	for i < len(req) {
		if req[i] != '"' {
			return nil, false
		}
		end := skipString(req, i)
		k := req[i+1 : end-1]
		for _, c := range k {
			if c == '\\' {
				return nil, false
			}
		}
		if string(k) != key && strings.EqualFold(string(k), key) {
			return nil, false
		}
		i = skipSpace(req, end)
		if i >= len(req) || req[i] != ':' {
			return nil, false
		}
		start := skipSpace(req, i+1)
		if start >= len(req) {
			return nil, false
		}
		end = skipValue(req, start)
		if string(k) == key {
			val = req[start:end] // the last one wins, as in encoding/json
		}
		i = skipSpace(req, end)
		if i >= len(req) {
			return nil, false
		}
		switch req[i] {
		case '}':
			return val, true
		case ',':
			i = skipSpace(req, i+1)
		default:
			return nil, false
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the valid JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
