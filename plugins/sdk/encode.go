package sdk

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/edged-io/edged/plugins/abi"
)

// encoder builds one JSON request and the binary attachments it refers to.
// The SDK reuses one encoder for every request (one call at a time).
type encoder struct {
	buf  []byte
	atts [][]byte
}

var enc encoder

// begin resets the shared encoder and opens the request object.
func begin() *encoder {
	enc.buf = append(enc.buf[:0], '{')
	clear(enc.atts)
	enc.atts = enc.atts[:0]
	return &enc
}

// send closes the request object and performs op with it.
func (e *encoder) send(op abi.Op) ([]byte, error) {
	e.buf = append(e.buf, '}')
	return callOp(op, e.buf, e.atts)
}

// field appends the key of the next object member.
func (e *encoder) field(name string) {
	if last := e.buf[len(e.buf)-1]; last != '{' && last != '[' {
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, '"', ':')
}

func (e *encoder) str(s string) { e.buf = appendString(e.buf, s) }

func (e *encoder) strs(list []string) {
	e.buf = append(e.buf, '[')
	for i, s := range list {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(s)
	}
	e.buf = append(e.buf, ']')
}

func (e *encoder) boolean(v bool) { e.buf = strconv.AppendBool(e.buf, v) }

// target appends the members of an emit target.
func (e *encoder) target(t *target) {
	if t.namespace != "" {
		e.field("namespace")
		e.str(t.namespace)
	}
	if t.socket != "" {
		e.field("socket")
		e.str(t.socket)
	}
	if len(t.rooms) > 0 {
		e.field("rooms")
		e.strs(t.rooms)
	}
	if len(t.except) > 0 {
		e.field("except")
		e.strs(t.except)
	}
	if t.broadcast {
		e.field("broadcast")
		e.boolean(true)
	}
	if t.local {
		e.field("local")
		e.boolean(true)
	}
	if t.volatile {
		e.field("volatile")
		e.boolean(true)
	}
	if t.noCompress {
		e.field("compress")
		e.boolean(false)
	}
}

// args appends a JSON array of args; []byte values become attachments.
func (e *encoder) args(args []any) error {
	e.buf = append(e.buf, '[')
	for i, a := range args {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(a); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// raw appends an already encoded argument array with its attachments.
func (e *encoder) raw(r RawArgs) {
	if len(r.JSON) == 0 {
		e.buf = append(e.buf, '[', ']')
	} else {
		e.buf = append(e.buf, r.JSON...)
	}
	e.atts = append(e.atts, r.Attachments...)
}

// value appends one value. Binary values ([]byte) anywhere inside []any,
// map[string]any and Args become placeholders; other types go through
// encoding/json.
func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case []byte:
		if len(e.atts) >= abi.MaxAttachments {
			return ErrTooManyAttachments
		}
		e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
		e.buf = strconv.AppendInt(e.buf, int64(len(e.atts)), 10)
		e.buf = append(e.buf, '}')
		e.atts = append(e.atts, v)
	case json.RawMessage:
		if len(v) == 0 {
			e.buf = append(e.buf, "null"...)
		} else {
			e.buf = append(e.buf, v...)
		}
	case string:
		e.str(v)
	case bool:
		e.boolean(v)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) || math.Abs(v) >= 1e21 {
			return e.marshal(v)
		}
		e.buf = strconv.AppendFloat(e.buf, v, 'f', -1, 64)
	case []any:
		return e.args(v)
	case Args:
		return e.args(v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(k)
			e.buf = append(e.buf, ':')
			if err := e.value(v[k]); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.marshal(v)
	}
	return nil
}

func (e *encoder) marshal(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, b...)
	return nil
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, `\u00`...)
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// placeholderNum reports whether raw is a binary placeholder
// {"_placeholder":true,"num":N} and returns N.
func placeholderNum(raw json.RawMessage) (int, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !bytes.Contains(raw, []byte(`"_placeholder"`)) {
		return 0, false
	}
	var p struct {
		Placeholder bool `json:"_placeholder"`
		Num         *int `json:"num"`
	}
	if json.Unmarshal(raw, &p) != nil || !p.Placeholder || p.Num == nil || *p.Num < 0 {
		return 0, false
	}
	return *p.Num, true
}

// hasPlaceholder reports whether raw may contain a binary placeholder. It
// looks for an underscore first: bytes.IndexByte is fast in WebAssembly,
// bytes.Contains stops at every quote.
func hasPlaceholder(raw []byte) bool {
	return bytes.IndexByte(raw, '_') >= 0 && bytes.Contains(raw, []byte(`"_placeholder"`))
}
