package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalArgs encodes args as the JSON array payload of an EVENT or ACK and
// extracts binary data: every []byte, at the top level or at any depth inside
// []any and map[string]any, is replaced by a {"_placeholder":true,"num":N}
// object and returned as attachments[N], in document order (map keys sorted).
//
// Strings, bools, nil, every int, uint and float kind, []any, map[string]any,
// json.Number and json.RawMessage (copied as-is after a validity check) are
// written directly, escaped as JavaScript's JSON.stringify does. Anything else
// (structs, pointers, other slices and maps) goes through encoding/json, so a
// []byte inside those is written as a base64 string, not as an attachment.
// NaN, infinities and cyclic values are errors.
func MarshalArgs(args []any) (data json.RawMessage, attachments [][]byte, err error) {
	m := argsMarshaler{buf: make([]byte, 0, 128)}
	if err := m.array(args, 0); err != nil {
		return nil, nil, err
	}
	return m.buf, m.attachments, nil
}

type argsMarshaler struct {
	buf         []byte
	attachments [][]byte
}

func (m *argsMarshaler) array(a []any, depth int) error {
	m.buf = append(m.buf, '[')
	for i, v := range a {
		if i > 0 {
			m.buf = append(m.buf, ',')
		}
		if err := m.value(v, depth+1); err != nil {
			return err
		}
	}
	m.buf = append(m.buf, ']')
	return nil
}

func (m *argsMarshaler) value(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("socket.io parser: marshal args: nesting deeper than %d (cyclic value?)", maxDepth)
	}
	switch v := v.(type) {
	case nil:
		m.buf = append(m.buf, "null"...)
	case string:
		m.buf = appendJSString(m.buf, v)
	case bool:
		m.buf = strconv.AppendBool(m.buf, v)
	case float64:
		return m.float(v, 64)
	case float32:
		return m.float(float64(v), 32)
	case int:
		m.buf = strconv.AppendInt(m.buf, int64(v), 10)
	case int8:
		m.buf = strconv.AppendInt(m.buf, int64(v), 10)
	case int16:
		m.buf = strconv.AppendInt(m.buf, int64(v), 10)
	case int32:
		m.buf = strconv.AppendInt(m.buf, int64(v), 10)
	case int64:
		m.buf = strconv.AppendInt(m.buf, v, 10)
	case uint:
		m.buf = strconv.AppendUint(m.buf, uint64(v), 10)
	case uint8:
		m.buf = strconv.AppendUint(m.buf, uint64(v), 10)
	case uint16:
		m.buf = strconv.AppendUint(m.buf, uint64(v), 10)
	case uint32:
		m.buf = strconv.AppendUint(m.buf, uint64(v), 10)
	case uint64:
		m.buf = strconv.AppendUint(m.buf, v, 10)
	case uintptr:
		m.buf = strconv.AppendUint(m.buf, uint64(v), 10)
	case []byte:
		m.buf = append(m.buf, `{"_placeholder":true,"num":`...)
		m.buf = strconv.AppendInt(m.buf, int64(len(m.attachments)), 10)
		m.buf = append(m.buf, '}')
		m.attachments = append(m.attachments, v)
	case []any:
		if v == nil {
			m.buf = append(m.buf, "null"...)
			return nil
		}
		return m.array(v, depth)
	case map[string]any:
		if v == nil {
			m.buf = append(m.buf, "null"...)
			return nil
		}
		var small [16]string
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		m.buf = append(m.buf, '{')
		for i, k := range keys {
			if i > 0 {
				m.buf = append(m.buf, ',')
			}
			m.buf = appendJSString(m.buf, k)
			m.buf = append(m.buf, ':')
			if err := m.value(v[k], depth+1); err != nil {
				return err
			}
		}
		m.buf = append(m.buf, '}')
	case json.RawMessage:
		if v == nil {
			m.buf = append(m.buf, "null"...)
			return nil
		}
		return m.raw(v, "json.RawMessage")
	case json.Number:
		if s := string(v); s == "" || scanNumber([]byte(s), 0) != len(s) {
			return fmt.Errorf("socket.io parser: marshal args: invalid json.Number %q", s)
		}
		m.buf = append(m.buf, v...)
	default:
		return m.fallback(v)
	}
	return nil
}

func (m *argsMarshaler) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("socket.io parser: marshal args: unsupported value %v", f)
	}
	if f == 0 {
		m.buf = append(m.buf, '0') // JSON.stringify(-0) is "0"
		return nil
	}
	m.buf = appendJSFloat(m.buf, f, bits)
	return nil
}

// raw appends already encoded JSON after checking it.
func (m *argsMarshaler) raw(b []byte, what string) error {
	b = trimSpace(b)
	if !validJSON(b) {
		return fmt.Errorf("socket.io parser: marshal args: invalid JSON from %s", what)
	}
	m.buf = append(m.buf, b...)
	return nil
}

// fallback marshals v with encoding/json, without HTML escaping, like JSON.stringify.
func (m *argsMarshaler) fallback(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("socket.io parser: marshal args: %w", err)
	}
	m.buf = append(m.buf, bytes.TrimRight(b.Bytes(), "\n")...)
	return nil
}

// appendJSString appends s as a JSON string the way JSON.stringify writes it:
// only quote, backslash and control characters are escaped (\b \f \n \r \t
// or \u00xx). Invalid UTF-8 becomes U+FFFD, as with encoding/json.
func appendJSString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// UnmarshalArgs decodes a JSON array payload into Go values the way
// JavaScript sees them: numbers as float64, objects as map[string]any, arrays
// as []any. Each placeholder object {"_placeholder":true,"num":N} is replaced
// by attachments[N] (the same slice, not a copy); a placeholder whose num is
// not an index of attachments is an error wrapping ErrIllegalAttachments.
func UnmarshalArgs(data json.RawMessage, attachments [][]byte) ([]any, error) {
	if i := skipSpace(data, 0); i >= len(data) || data[i] != '[' {
		return nil, errorf(ErrInvalidPayload, "arguments must be a JSON array")
	}
	var args []any
	if err := json.Unmarshal(data, &args); err != nil {
		return nil, errorf(ErrInvalidPayload, "%v", err)
	}
	for i, v := range args {
		r, err := replacePlaceholders(v, attachments)
		if err != nil {
			return nil, err
		}
		args[i] = r
	}
	return args, nil
}

// replacePlaceholders returns v with its placeholders replaced by attachments.
func replacePlaceholders(v any, attachments [][]byte) (any, error) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			r, err := replacePlaceholders(e, attachments)
			if err != nil {
				return nil, err
			}
			v[i] = r
		}
	case map[string]any:
		if v["_placeholder"] == true {
			num, isNum := v["num"].(float64)
			i, ok := floatIndex(num, len(attachments))
			if !isNum || !ok {
				return nil, errorf(ErrIllegalAttachments, "placeholder num %v with %d attachments", v["num"], len(attachments))
			}
			return attachments[i], nil
		}
		for k, e := range v {
			r, err := replacePlaceholders(e, attachments)
			if err != nil {
				return nil, err
			}
			v[k] = r
		}
	}
	return v, nil
}
