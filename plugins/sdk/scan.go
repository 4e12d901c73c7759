package sdk

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
)

// A small JSON scanner for the documents the host sends. encoding/json is
// reflective and slow inside a WebAssembly guest (about 150 us to decode one
// 200-byte dispatcher input, against about 1 us for this scanner), and the
// SDK decodes an input on every call.

var errSyntax = errors.New("sdk: invalid JSON from the host")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i] (spaces
// before it skipped).
func skipValue(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i+1)
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		start := i
		for i < len(b) {
			c := b[i]
			if c == ',' || c == '}' || c == ']' || isSpace(c) {
				break
			}
			i++
		}
		if i == start {
			return 0, errSyntax
		}
		return i, nil
	}
}

// skipString returns the end of the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	i = stringEnd(b, i+1)
	if i >= len(b) {
		return 0, errSyntax
	}
	return i + 1, nil
}

// stringEnd returns the index of the quote that ends the string whose
// contents start at b[i], len(b) if there is none. Away from the end of b
// it reads 8 bytes at a time (one 64-bit load in WebAssembly, where a byte
// loop costs about 3 ns per byte): haszero marks the zero bytes of x,
// exactly for the lowest one.
func stringEnd(b []byte, i int) int {
	for i < len(b) {
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			m := haszero(x^(ones*'"')) | haszero(x^(ones*'\\'))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		switch b[i] {
		case '"':
			return i
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return len(b)
}

const ones = 0x0101010101010101

// haszero sets the high bit of the bytes of x that are zero; bytes above
// a zero byte may be marked too (borrow), never below the lowest one.
func haszero(x uint64) uint64 { return (x - ones) &^ x & (ones * 0x80) }

// members walks the members of a JSON object without a callback (the
// dispatcher's hot path):
//
//	it := members(b)
//	for it.next() {
//		// it.key (raw, without quotes, still escaped), it.val (raw)
//	}
//	if it.err != nil { ... }
type members struct {
	b        []byte
	i        int // where the next member (or the closing brace) starts
	key, val []byte
	err      error
	started  bool // a member has been returned
	done     bool
}

// next advances to the next member; it returns false at the end of the
// object or on a syntax error (then err is set).
func (it *members) next() bool {
	if it.done {
		return false
	}
	b := it.b
	i := skipSpace(b, it.i)
	if !it.started {
		if i >= len(b) || b[i] != '{' {
			return it.fail()
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			it.done = true
			return false
		}
		it.started = true
	}
	if i >= len(b) || b[i] != '"' {
		return it.fail()
	}
	kend, err := skipString(b, i)
	if err != nil {
		return it.fail()
	}
	it.key = b[i+1 : kend-1]
	i = skipSpace(b, kend)
	if i >= len(b) || b[i] != ':' {
		return it.fail()
	}
	vstart := skipSpace(b, i+1)
	vend, err := skipValue(b, vstart)
	if err != nil {
		return it.fail()
	}
	it.val = b[vstart:vend]
	var ok bool
	if it.i, it.done, ok = afterValue(b, vend, '}'); !ok {
		return it.fail()
	}
	return true
}

// afterValue reads what follows a member or element ending at b[i]: the
// closing byte (done) or a comma. It returns where the next one starts, and
// false on anything else.
func afterValue(b []byte, i int, closing byte) (next int, done, ok bool) {
	i = skipSpace(b, i)
	switch {
	case i >= len(b):
		return i, false, false
	case b[i] == closing:
		return i, true, true
	case b[i] == ',':
		return i + 1, false, true
	default:
		return i, false, false
	}
}

func (it *members) fail() bool {
	it.err, it.done = errSyntax, true
	return false
}

// eachMember calls fn for every member of the object b, with the raw key
// (without quotes, still escaped) and the raw value.
func eachMember(b []byte, fn func(key, val []byte) error) error {
	it := members{b: b}
	for it.next() {
		if err := fn(it.key, it.val); err != nil {
			return err
		}
	}
	return it.err
}

// elements walks the elements of a JSON array, like members.
type elements struct {
	b       []byte
	i       int
	val     []byte
	err     error
	started bool
	done    bool
}

// next advances to the next element; it returns false at the end of the
// array or on a syntax error (then err is set).
func (it *elements) next() bool {
	if it.done {
		return false
	}
	b := it.b
	i := skipSpace(b, it.i)
	if !it.started {
		if i >= len(b) || b[i] != '[' {
			return it.fail()
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			it.done = true
			return false
		}
		it.started = true
	}
	vend, err := skipValue(b, i)
	if err != nil {
		return it.fail()
	}
	it.val = b[i:vend]
	var ok bool
	if it.i, it.done, ok = afterValue(b, vend, ']'); !ok {
		return it.fail()
	}
	return true
}

func (it *elements) fail() bool {
	it.err, it.done = errSyntax, true
	return false
}

// eachElement calls fn for every element of the array b.
func eachElement(b []byte, fn func(val []byte) error) error {
	it := elements{b: b}
	for it.next() {
		if err := fn(it.val); err != nil {
			return err
		}
	}
	return it.err
}

// plainString returns the contents of the JSON string v when they need no
// decoding (printable ASCII without escapes); ok is false otherwise.
func plainString(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return inner, true
}

// parseString decodes a JSON string value; ok is false for any other value.
func parseString(v []byte) (string, bool) {
	if inner, ok := plainString(v); ok {
		return string(inner), true
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// parseStrings decodes an array of strings (null is an empty list).
func parseStrings(v []byte) ([]string, bool) {
	if string(v) == "null" {
		return nil, true
	}
	var out []string
	err := eachElement(v, func(e []byte) error {
		s, ok := parseString(e)
		if !ok {
			return errSyntax
		}
		out = append(out, s)
		return nil
	})
	return out, err == nil
}

// parseInt decodes an integer JSON number.
func parseInt(v []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(v), 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, false
		}
		return int64(f), true
	}
	return n, true
}

// parseBool decodes true or false.
func parseBool(v []byte) (bool, bool) {
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseNumber decodes a JSON number as float64.
func parseNumber(v []byte) (float64, bool) {
	if len(v) == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}
