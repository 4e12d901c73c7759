package parser

import (
	"errors"
	"testing"
)

func TestSplitEvent(t *testing.T) {
	tests := []struct {
		data, name, args string
	}{
		{`["hello",1,{"a":2}]`, "hello", `[1,{"a":2}]`},
		{`["hello"]`, "hello", `[]`},
		{` [ "hello" , 1 , "x" ] `, "hello", `[ 1 , "x" ] `},
		{` [ "hello" ] `, "hello", `[]`},
		{`["a\"b\\c\/\u00e9\ud83d\ude00",true]`, "a\"b\\c/é😀", `[true]`},
		{`["é日本"]`, "é日本", `[]`},
		{`["",null]`, "", `[null]`},
		{`["connect"]`, "connect", `[]`},
		// Numeric names become what String(number) gives in JavaScript.
		{`[1,"a",{}]`, "1", `["a",{}]`},
		{`[1.0]`, "1", `[]`},
		{`[1.5]`, "1.5", `[]`},
		{`[-0]`, "0", `[]`},
		{`[-12e2]`, "-1200", `[]`},
		{`[1e21]`, "1e+21", `[]`},
		{`[1e20]`, "100000000000000000000", `[]`},
		{`[123456789012345678901234]`, "1.2345678901234569e+23", `[]`},
		{`[0.000001]`, "0.000001", `[]`},
		{`[1e-7]`, "1e-7", `[]`},
		{`[1.5E-10]`, "1.5e-10", `[]`},
		{`[1e400]`, "Infinity", `[]`},
		{`[-1e400]`, "-Infinity", `[]`},
		{`[1e-400]`, "0", `[]`},
		{`[0.1]`, "0.1", `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			name, args, err := SplitEvent([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.name || string(args) != tt.args {
				t.Fatalf("got %q %q, want %q %q", name, args, tt.name, tt.args)
			}
		})
	}
}

func TestSplitEventErrors(t *testing.T) {
	for _, data := range []string{
		``, ` `, `[`, `[]`, `{}`, `"a"`, `[true]`, `[null,"a"]`, `[{"a":1}]`, `[["a"]]`,
		`["a",]`, `["a" , ]`, `["a"`, `["a",1`, `["a"]x`, `["a"] ]`, `["a" 1]`, `["a`,
		`["a\x"]`, `[01]`, `[-]`, `[1.]`, `["a",1,]`, `["a",{]`, "[\"a\x01\"]",
	} {
		t.Run(data, func(t *testing.T) {
			name, args, err := SplitEvent([]byte(data))
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("got %q %q %v, want ErrInvalidPayload", name, args, err)
			}
		})
	}
}

func TestSplitEventAllocs(t *testing.T) {
	data := []byte(`["chat message",{"user":"alice","text":"hello"}]`)
	// The name and the args buffer.
	if n := testing.AllocsPerRun(100, func() { SplitEvent(data) }); n != 2 {
		t.Fatalf("%v allocs, want 2", n)
	}
}

func TestIsReservedEvent(t *testing.T) {
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if !IsReservedEvent(name) {
			t.Errorf("%q not reserved", name)
		}
	}
	for _, name := range []string{"", "message", "Connect", "connection", "error"} {
		if IsReservedEvent(name) {
			t.Errorf("%q reserved", name)
		}
	}
}
