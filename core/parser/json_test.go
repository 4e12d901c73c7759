package parser

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValidJSON checks the scanner against encoding/json on tricky input.
func TestValidJSON(t *testing.T) {
	for _, s := range []string{
		``, ` `, `0`, `-0`, `-`, `01`, `1.`, `.1`, `1.5e`, `1.5e+`, `1.5e+3`, `1E3`, `-1.0e-0`,
		`1e`, `+1`, `0x1`, `NaN`, `Infinity`, `true`, `tru`, `truex`, `false`, `null`, `nul`,
		`""`, `"`, `"\"`, `"\\"`, `"\/"`, `"\u"`, `"\u12"`, `"\u12g4"`, `"\u12aF"`, `"\x"`,
		"\"\x00\"", "\"\x1f\"", "\"\x7f\"", "\"\xff\xfe\"", `"é"`,
		`[]`, `[`, `]`, `[,]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`, ` [ 1 , 2 ] `, "\t\n\r[]\r\n\t", "\v[]", "\f[]",
		`{}`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}`, `{ "a" : [ { } ] }`,
		`[]]`, `{}}`, `[][]`, `1 2`, `"a" "b"`, `[{"a":[1,{"b":null}],"c":true}]`,
		strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
		strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
		strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1),
	} {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			name := s
			if len(name) > 40 {
				name = name[:40] + "..."
			}
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", name, got, want)
		}
	}
}

func TestTrimSpace(t *testing.T) {
	for in, want := range map[string]string{"": "", "  ": "", " \t[1]\r\n": "[1]", "[1]": "[1]", "\v[1]": "\v[1]"} {
		if got := string(trimSpace([]byte(in))); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyIs(t *testing.T) {
	tests := []struct {
		lit, want string
		is        bool
	}{
		{`"num"`, "num", true},
		{`"nu"`, "num", false},
		{`"numm"`, "num", false},
		{`""`, "num", false},
		{`"n\u0075m"`, "num", true},
		{`"\u006E\u0075\u006D"`, "num", true},
		{`"n\u00f5m"`, "num", false},
		{`"\u005fplaceholder"`, "_placeholder", true},
		{`"\u005Fplaceholde\u0072"`, "_placeholder", true},
		{`"_placeholder\n"`, "_placeholder", false},
		{`"a\/b\"c\\d\n"`, "a/b\"c\\d\n", true},
		{`"\ud83d\ude00"`, "num", false},
	}
	for _, tt := range tests {
		if got := keyIs([]byte(tt.lit), tt.want); got != tt.is {
			t.Errorf("keyIs(%s, %q) = %v", tt.lit, tt.want, got)
		}
	}
}
