package parser

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

type point struct {
	X, Y int
	Raw  []byte `json:"raw,omitempty"`
}

type marshaler struct{ s string }

func (m marshaler) MarshalJSON() ([]byte, error) { return []byte(m.s), nil }

func TestMarshalArgs(t *testing.T) {
	tests := []struct {
		name string
		args []any
		want string
		atts [][]byte
	}{
		{"none", nil, `[]`, nil},
		{"scalars", []any{"a", true, false, nil, 1.5, 3}, `["a",true,false,null,1.5,3]`, nil},
		{"ints", []any{int8(-8), int16(-16), int32(-32), int64(math.MinInt64), uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), uintptr(7)},
			`[-8,-16,-32,-9223372036854775808,1,8,16,32,18446744073709551615,7]`, nil},
		{"floats as JavaScript writes them", []any{0.1, math.Copysign(0, -1), 1e21, 1e20, 1e-6, 1e-7, 123456789.125, float32(0.1), float32(1e-7), 5e-324},
			`[0.1,0,1e+21,100000000000000000000,0.000001,1e-7,123456789.125,0.1,1e-7,5e-324]`, nil},
		{"strings escaped as JSON.stringify does", []any{"q\"b\\s/<>&\u2028\u2029\x7f", "\b\f\n\r\t\x00\x1f", "é😀", "bad\xffutf8"},
			`["q\"b\\s/<>&` + "\u2028\u2029\x7f" + `","\b\f\n\r\t\u0000\u001f","é😀","bad\ufffdutf8"]`, nil},
		{"map keys sorted", []any{map[string]any{"b": 1, "a": []any{}, "\n": nil}}, `[{"\n":null,"a":[],"b":1}]`, nil},
		{"nil containers", []any{[]any(nil), map[string]any(nil), []byte(nil), json.RawMessage(nil)},
			`[null,null,{"_placeholder":true,"num":0},null]`, [][]byte{nil}},
		{"top-level binary", []any{"a", []byte("abc")}, `["a",` + ph0 + `]`, [][]byte{[]byte("abc")}},
		{"nested binary in order", []any{"a", map[string]any{"z": []byte("2"), "b": []any{"c", []byte("1")}}, []byte("3")},
			`["a",{"b":["c",` + ph0 + `],"z":` + ph1 + `},{"_placeholder":true,"num":2}]`,
			[][]byte{[]byte("1"), []byte("2"), []byte("3")}},
		{"raw message as-is", []any{json.RawMessage(` {"a": [1, 2]} `)}, `[{"a": [1, 2]}]`, nil},
		{"json.Number", []any{json.Number("12345678901234567890")}, `[12345678901234567890]`, nil},
		{"json.Marshaler", []any{marshaler{`{"m":1}`}}, `[{"m":1}]`, nil},
		{"struct via encoding/json, []byte as base64", []any{point{X: 1, Y: 2, Raw: []byte("hi")}}, `[{"X":1,"Y":2,"raw":"aGk="}]`, nil},
		{"other containers via encoding/json without HTML escaping", []any{[]string{"<a>"}, map[string]int{"b": 2, "a": 1}},
			`[["<a>"],{"a":1,"b":2}]`, nil},
		{"pointer", []any{&point{X: 3}}, `[{"X":3,"Y":0}]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, atts, err := MarshalArgs(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.want {
				t.Fatalf("got  %s\nwant %s", data, tt.want)
			}
			if !json.Valid(data) {
				t.Fatalf("invalid JSON %s", data)
			}
			if !reflect.DeepEqual(atts, tt.atts) {
				t.Fatalf("attachments %q, want %q", atts, tt.atts)
			}
		})
	}
}

func TestMarshalArgsErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	cyclicMap := map[string]any{}
	cyclicMap["self"] = cyclicMap
	for name, args := range map[string][]any{
		"NaN":             {math.NaN()},
		"infinity":        {math.Inf(-1)},
		"float32 inf":     {float32(math.Inf(1))},
		"cyclic slice":    {cyclic},
		"cyclic map":      {cyclicMap},
		"bad RawMessage":  {json.RawMessage(`{"a"`)},
		"bad json.Number": {json.Number("1.")},
		"bad Marshaler":   {marshaler{`nope`}},
		"channel":         {make(chan int)},
	} {
		t.Run(name, func(t *testing.T) {
			if data, _, err := MarshalArgs(args); err == nil {
				t.Fatalf("no error, got %s", data)
			}
		})
	}
}

func TestUnmarshalArgs(t *testing.T) {
	atts := [][]byte{[]byte("zero"), []byte("one")}
	tests := []struct {
		name string
		data string
		want []any
	}{
		{"empty", `[]`, []any{}},
		{"JavaScript types", ` ["a", 1, 2.5, -1e3, true, null, {"k":[{}]}] `,
			[]any{"a", 1.0, 2.5, -1000.0, true, nil, map[string]any{"k": []any{map[string]any{}}}}},
		{"big numbers are float64", `[12345678901234567890]`, []any{12345678901234567890.0}},
		{"placeholders", `["a",` + ph1 + `,{"b":[` + ph0 + `]}]`,
			[]any{"a", []byte("one"), map[string]any{"b": []any{[]byte("zero")}}}},
		{"placeholder num 1.0", `[{"_placeholder":true,"num":1.0}]`, []any{[]byte("one")}},
		{"placeholder members ignored", `[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`, []any{[]byte("zero")}},
		{"not placeholders", `[{"_placeholder":false,"num":5},{"_placeholder":"true","num":5},{"num":5}]`,
			[]any{map[string]any{"_placeholder": false, "num": 5.0}, map[string]any{"_placeholder": "true", "num": 5.0}, map[string]any{"num": 5.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalArgs([]byte(tt.data), atts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
	t.Run("attachments are not copied", func(t *testing.T) {
		got, err := UnmarshalArgs([]byte(`[`+ph0+`]`), atts)
		if err != nil || &got[0].([]byte)[0] != &atts[0][0] {
			t.Fatalf("got %v %v", got, err)
		}
	})
}

func TestUnmarshalArgsErrors(t *testing.T) {
	atts := [][]byte{[]byte("zero")}
	tests := []struct {
		data string
		want error
	}{
		{``, ErrInvalidPayload},
		{`   `, ErrInvalidPayload},
		{`null`, ErrInvalidPayload},
		{`{}`, ErrInvalidPayload},
		{`"a"`, ErrInvalidPayload},
		{`[`, ErrInvalidPayload},
		{`["a",]`, ErrInvalidPayload},
		{`[] []`, ErrInvalidPayload},
		{`[1e400]`, ErrInvalidPayload},
		{`[` + ph1 + `]`, ErrIllegalAttachments},
		{`[{"_placeholder":true,"num":-1}]`, ErrIllegalAttachments},
		{`[{"_placeholder":true,"num":0.5}]`, ErrIllegalAttachments},
		{`[{"_placeholder":true,"num":"0"}]`, ErrIllegalAttachments},
		{`[{"_placeholder":true}]`, ErrIllegalAttachments},
		{`[{"a":[{"_placeholder":true,"num":7}]}]`, ErrIllegalAttachments},
		{strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), ErrInvalidPayload},
	}
	for _, tt := range tests {
		name := tt.data
		if len(name) > 30 {
			name = name[:30]
		}
		t.Run(name, func(t *testing.T) {
			got, err := UnmarshalArgs([]byte(tt.data), atts)
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestArgsRoundTrip(t *testing.T) {
	in := []any{"event", map[string]any{"file": []byte{1, 2, 3}, "meta": map[string]any{"n": 2.0, "tags": []any{"x", nil}}}, []byte{}}
	data, atts, err := MarshalArgs(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := UnmarshalArgs(data, atts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %#v\nwant %#v", out, in)
	}
	// And as a packet on the wire.
	header, wire := Encode(&Packet{Type: Event, Namespace: "/files", ID: 4, Data: data, Attachments: atts})
	var d Decoder
	d.Add(header, false)
	d.Add(wire[0], true)
	p, err := d.Add(wire[1], true)
	if err != nil || p == nil {
		t.Fatalf("decode: %v", err)
	}
	name, rest, err := SplitEvent(p.Data)
	if err != nil || name != "event" {
		t.Fatalf("SplitEvent: %q %v", name, err)
	}
	args, err := UnmarshalArgs(rest, p.Attachments)
	if err != nil || !reflect.DeepEqual(args, in[1:]) {
		t.Fatalf("got %#v, %v", args, err)
	}
}
