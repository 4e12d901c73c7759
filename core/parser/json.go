package parser

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of arrays and objects accepted, the same
// limit as encoding/json.
const maxDepth = 10000

// strSafe[c] is true for bytes that may appear unescaped in a JSON string
// and end nothing: not a quote, not a backslash, not a control character.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimSpace removes JSON whitespace around b.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// validJSON reports whether b holds exactly one JSON value, optionally
// surrounded by whitespace. It accepts exactly what json.Valid accepts, but
// scans without a per-byte state function and never allocates.
func validJSON(b []byte) bool {
	i := scanValue(b, skipSpace(b, 0), 0)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// scanValue returns the index just past the value that starts at b[i], or -1
// when there is no valid value there. depth counts the enclosing containers.
func scanValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; c {
	case '"':
		return scanString(b, i)
	case '[':
		return scanArray(b, i, depth+1)
	case '{':
		return scanObject(b, i, depth+1)
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	default:
		if c == '-' || isDigit(c) {
			return scanNumber(b, i)
		}
		return -1
	}
}

func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func scanArray(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i = scanValue(b, i, depth); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

func scanObject(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		if i = scanString(b, i); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return -1
		}
		if i = scanValue(b, skipSpace(b, i+1), depth); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// scanString scans the string whose opening quote is b[i].
func scanString(b []byte, i int) int {
	i++
	for {
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // control character
			return -1
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		if i++; i >= len(b) {
			return -1
		}
	}
	switch {
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i
}

// unquote returns the value of the valid JSON string literal s, quotes included.
func unquote(s []byte) string {
	raw := s[1 : len(s)-1]
	if !containsByte(raw, '\\') && utf8.Valid(raw) {
		return string(raw)
	}
	var v string
	if err := json.Unmarshal(s, &v); err != nil {
		return string(raw) // unreachable for a valid literal
	}
	return v
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// keyIs reports whether the valid JSON string literal lit decodes to want,
// which must be ASCII. It unescapes on the fly and never allocates.
func keyIs(lit []byte, want string) bool {
	raw := lit[1 : len(lit)-1]
	j := 0
	for i := 0; i < len(raw); j++ {
		if j >= len(want) {
			return false
		}
		c := raw[i]
		if c != '\\' {
			i++
		} else if raw[i+1] != 'u' {
			c = unescaped[raw[i+1]]
			i += 2
		} else {
			r := hexValue(raw[i+2])<<12 | hexValue(raw[i+3])<<8 | hexValue(raw[i+4])<<4 | hexValue(raw[i+5])
			if r >= utf8.RuneSelf {
				return false
			}
			c = byte(r)
			i += 6
		}
		if c != want[j] {
			return false
		}
	}
	return j == len(want)
}

// hexValue returns the value of the hex digit c.
func hexValue(c byte) int {
	switch {
	case c <= '9':
		return int(c - '0')
	case c >= 'a':
		return int(c - 'a' + 10)
	default:
		return int(c - 'A' + 10)
	}
}

// unescaped maps the letter of a two-character JSON escape to its byte.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// checkPlaceholders reports ErrIllegalAttachments unless every placeholder
// object in the valid JSON value b refers to one of n attachments. It follows
// the reference reconstruction: an object whose "_placeholder" member is true
// is a placeholder (its other members are not examined) and its "num" must be
// an integer in [0, n); later duplicate keys win.
func checkPlaceholders(b []byte, n int) error {
	if len(b) == 0 {
		return nil
	}
	_, err := walkPlaceholders(b, skipSpace(b, 0), n)
	return err
}

// walkPlaceholders walks the valid value at b[i] and returns the index past it.
// It always finishes the walk so that the index is right even after an error.
func walkPlaceholders(b []byte, i, n int) (int, error) {
	switch b[i] {
	case '[':
		var firstErr error
		i = skipSpace(b, i+1)
		if b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			i, err = walkPlaceholders(b, i, n)
			if firstErr == nil {
				firstErr = err
			}
			i = skipSpace(b, i)
			if b[i] == ']' {
				return i + 1, firstErr
			}
			i = skipSpace(b, i+1) // ','
		}
	case '{':
		var childErr error
		isPlaceholder := false
		var num []byte
		i = skipSpace(b, i+1)
		if b[i] == '}' {
			return i + 1, nil
		}
		for {
			keyEnd := scanString(b, i)
			key := b[i:keyEnd]
			start := skipSpace(b, skipSpace(b, keyEnd)+1) // past ':'
			end, err := walkPlaceholders(b, start, n)
			if childErr == nil {
				childErr = err
			}
			switch {
			case keyIs(key, "_placeholder"):
				isPlaceholder = string(b[start:end]) == "true"
			case keyIs(key, "num"):
				num = b[start:end]
			}
			i = skipSpace(b, end)
			if b[i] == '}' {
				i++
				break
			}
			i = skipSpace(b, i+1) // ','
		}
		if !isPlaceholder {
			return i, childErr
		}
		if _, ok := placeholderIndex(num, n); !ok {
			return i, errorf(ErrIllegalAttachments, "placeholder num %s with %d attachments", num, n)
		}
		return i, nil
	case '"':
		return scanString(b, i), nil
	default:
		return scanValue(b, i, 0), nil
	}
}

// placeholderIndex converts the raw JSON value of a placeholder's "num" to an
// attachment index below n.
func placeholderIndex(num []byte, n int) (int, bool) {
	if len(num) == 0 || (num[0] != '-' && !isDigit(num[0])) {
		return 0, false
	}
	// num is a valid JSON number, so the only possible error is ErrRange, where
	// f is ±Inf or 0 as in JavaScript.
	f, _ := strconv.ParseFloat(string(num), 64)
	return floatIndex(f, n)
}

func floatIndex(f float64, n int) (int, bool) {
	if !(f >= 0 && f < float64(n)) || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}
