package parser

import (
	"encoding/json"
	"math"
	"strconv"
)

// reservedEvents are the names a client may not emit; see IsReservedEvent.
var reservedEvents = [...]string{
	"connect",
	"connect_error",
	"disconnect",
	"disconnecting",
	"newListener",
	"removeListener",
}

// IsReservedEvent reports whether name is reserved by the reference
// implementation ("connect", "disconnect", ...). The Decoder accepts such
// events; a server must refuse them from clients as the reference does.
func IsReservedEvent(name string) bool {
	for _, r := range reservedEvents {
		if name == r {
			return true
		}
	}
	return false
}

// SplitEvent splits the payload of an EVENT, a JSON array whose first element
// is the event name, into the name and a JSON array of the remaining
// arguments (a new buffer, "[]" when there are none). A numeric name is
// converted to a string as JavaScript does (1.0 becomes "1"), since the
// reference server dispatches it that way.
func SplitEvent(data json.RawMessage) (name string, args json.RawMessage, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return "", nil, errorf(ErrInvalidPayload, "event payload must be an array")
	}
	i = skipSpace(data, i+1)
	if i >= len(data) {
		return "", nil, errorf(ErrInvalidPayload, "truncated event")
	}
	var end int
	switch c := data[i]; {
	case c == '"':
		if end = scanString(data, i); end < 0 {
			return "", nil, errorf(ErrInvalidPayload, "invalid event name")
		}
		name = unquote(data[i:end])
	case c == '-' || isDigit(c):
		if end = scanNumber(data, i); end < 0 {
			return "", nil, errorf(ErrInvalidPayload, "invalid event name")
		}
		name = jsNumberString(data[i:end])
	default:
		return "", nil, errorf(ErrInvalidPayload, "event name must be a string or a number")
	}
	i = skipSpace(data, end)
	if i >= len(data) {
		return "", nil, errorf(ErrInvalidPayload, "truncated event")
	}
	switch data[i] {
	case ']':
		if skipSpace(data, i+1) != len(data) {
			return "", nil, errorf(ErrInvalidPayload, "data after the event array")
		}
		return name, json.RawMessage{'[', ']'}, nil
	case ',':
		rest := data[i+1:]
		if j := skipSpace(rest, 0); j < len(rest) && rest[j] == ']' {
			return "", nil, errorf(ErrInvalidPayload, "invalid JSON")
		}
		args = make(json.RawMessage, 1+len(rest))
		args[0] = '['
		copy(args[1:], rest)
		if !validJSON(args) {
			return "", nil, errorf(ErrInvalidPayload, "invalid JSON")
		}
		return name, args, nil
	default:
		return "", nil, errorf(ErrInvalidPayload, "invalid JSON")
	}
}

// jsNumberString formats the valid JSON number num as JavaScript's
// String(Number(num)) does.
func jsNumberString(num []byte) string {
	f, _ := strconv.ParseFloat(string(num), 64) // ErrRange gives ±Inf or 0, as in JS
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // also for -0
	}
	return string(appendJSFloat(nil, f, 64))
}

// appendJSFloat appends f (finite) in the shortest form that reads back as the
// same value, with the notation of ECMAScript Number::toString: plain decimal
// for 1e-6 <= |f| < 1e21, otherwise exponent form such as 1e+21 or 1.5e-7.
func appendJSFloat(dst []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Go writes e-07 where JavaScript writes e-7.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
