package parser

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// msg is one Engine.IO message fed to a Decoder.
type msg struct {
	data   string
	binary bool
}

func text(s string) msg { return msg{data: s} }
func bin(s string) msg  { return msg{data: s, binary: true} }

// feed adds msgs in order and returns the packets completed and the first error.
func feed(d *Decoder, msgs ...msg) ([]*Packet, error) {
	var out []*Packet
	for _, m := range msgs {
		p, err := d.Add([]byte(m.data), m.binary)
		if err != nil {
			return out, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func packetsEqual(a, b *Packet) bool {
	if a.Type != b.Type || a.Namespace != b.Namespace || a.ID != b.ID ||
		!bytes.Equal(a.Data, b.Data) || (a.Data == nil) != (b.Data == nil) ||
		len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

const (
	ph0 = `{"_placeholder":true,"num":0}`
	ph1 = `{"_placeholder":true,"num":1}`
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		msgs []msg
		want Packet
		// canonical is what Encode gives back; empty means the first message.
		canonical string
	}{
		{"connect", []msg{text("0")}, Packet{Type: Connect, Namespace: "/", ID: NoID}, ""},
		{"connect with namespace and auth", []msg{text(`0/woot,{"token":"123"}`)},
			Packet{Type: Connect, Namespace: "/woot", ID: NoID, Data: []byte(`{"token":"123"}`)}, ""},
		{"connect reply", []msg{text(`0{"sid":"abc"}`)},
			Packet{Type: Connect, Namespace: "/", ID: NoID, Data: []byte(`{"sid":"abc"}`)}, ""},
		{"connect namespace without comma", []msg{text("0/admin")},
			Packet{Type: Connect, Namespace: "/admin", ID: NoID}, "0/admin,"},
		{"connect namespace with comma", []msg{text("0/admin,")},
			Packet{Type: Connect, Namespace: "/admin", ID: NoID}, ""},
		{"connect with an id", []msg{text("05{}")},
			Packet{Type: Connect, Namespace: "/", ID: 5, Data: []byte(`{}`)}, ""},
		{"disconnect", []msg{text("1")}, Packet{Type: Disconnect, Namespace: "/", ID: NoID}, ""},
		{"disconnect namespace", []msg{text("1/woot,")},
			Packet{Type: Disconnect, Namespace: "/woot", ID: NoID}, ""},
		{"event", []msg{text(`2["a",1,{}]`)},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a",1,{}]`)}, ""},
		{"event with a number as name", []msg{text(`2[1,"a",{}]`)},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[1,"a",{}]`)}, ""},
		{"event with a negative number as name", []msg{text(`2[-1.5e3]`)},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[-1.5e3]`)}, ""},
		{"event with namespace", []msg{text(`2/admin,["a"]`)},
			Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: []byte(`["a"]`)}, ""},
		{"event with ack", []msg{text(`212["ack"]`)},
			Packet{Type: Event, Namespace: "/", ID: 12, Data: []byte(`["ack"]`)}, ""},
		{"event with ack id 0", []msg{text(`20["ack"]`)},
			Packet{Type: Event, Namespace: "/", ID: 0, Data: []byte(`["ack"]`)}, ""},
		{"event with namespace and ack", []msg{text(`2/test,1["a",1,{}]`)},
			Packet{Type: Event, Namespace: "/test", ID: 1, Data: []byte(`["a",1,{}]`)}, ""},
		{"event with the largest id", []msg{text(`29223372036854775807["a"]`)},
			Packet{Type: Event, Namespace: "/", ID: 9223372036854775807, Data: []byte(`["a"]`)}, ""},
		{"event with a reserved name", []msg{text(`2["connect"]`)},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["connect"]`)}, ""},
		{"event with spaces", []msg{text("2 \t[ \"a\" ] \n")},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[ "a" ]`)}, `2[ "a" ]`},
		{"event with leading zeros in the id", []msg{text(`2007["a"]`)},
			Packet{Type: Event, Namespace: "/", ID: 7, Data: []byte(`["a"]`)}, `27["a"]`},
		{"event with explicit main namespace", []msg{text(`2/,["a"]`)},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a"]`)}, `2["a"]`},
		{"event with odd namespace", []msg{text(`2/a b/é["x",1]`)}, Packet{}, ""}, // replaced below
		{"ack", []msg{text(`3123["a",1,{}]`)},
			Packet{Type: Ack, Namespace: "/", ID: 123, Data: []byte(`["a",1,{}]`)}, ""},
		{"ack short", []msg{text(`31["x"]`)},
			Packet{Type: Ack, Namespace: "/", ID: 1, Data: []byte(`["x"]`)}, ""},
		{"ack empty", []msg{text(`30[]`)},
			Packet{Type: Ack, Namespace: "/", ID: 0, Data: []byte(`[]`)}, ""},
		{"ack namespace", []msg{text(`3/admin,13["bar"]`)},
			Packet{Type: Ack, Namespace: "/admin", ID: 13, Data: []byte(`["bar"]`)}, ""},
		{"connect error string", []msg{text(`4"Unauthorized"`)},
			Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: []byte(`"Unauthorized"`)}, ""},
		{"connect error object", []msg{text(`4/admin,{"message":"Not authorized","data":{"a":[1]}}`)},
			Packet{Type: ConnectError, Namespace: "/admin", ID: NoID, Data: []byte(`{"message":"Not authorized","data":{"a":[1]}}`)}, ""},
		{"connect error without payload", []msg{text(`4`)},
			Packet{Type: ConnectError, Namespace: "/", ID: NoID}, ""},
		{"binary event", []msg{text(`51-["bin",` + ph0 + `]`), bin("\x01\x02")},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["bin",` + ph0 + `]`),
				Attachments: [][]byte{{1, 2}}}, ""},
		{"binary event with two attachments", []msg{
			text(`52-/admin,["baz",` + ph0 + `,` + ph1 + `]`), bin("\x01\x02"), bin("\x03\x04")},
			Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: []byte(`["baz",` + ph0 + `,` + ph1 + `]`),
				Attachments: [][]byte{{1, 2}, {3, 4}}}, ""},
		{"binary event with ack and nested attachment", []msg{
			text(`51-/cool,23["a",{"b":["c",` + ph0 + `]}]`), bin("abc")},
			Packet{Type: Event, Namespace: "/cool", ID: 23, Data: []byte(`["a",{"b":["c",` + ph0 + `]}]`),
				Attachments: [][]byte{[]byte("abc")}}, ""},
		{"binary event with deep attachments", []msg{
			text(`53-/deep,999["a",{"a":"hi","b":{"why":` + ph0 + `},"c":{"a":"bye","b":{"a":` + ph1 +
				`}},"d":[{"_placeholder":true,"num":2}]}]`), bin(""), bin("x"), bin("yy")},
			Packet{Type: Event, Namespace: "/deep", ID: 999, Data: []byte(`["a",{"a":"hi","b":{"why":` + ph0 +
				`},"c":{"a":"bye","b":{"a":` + ph1 + `}},"d":[{"_placeholder":true,"num":2}]}]`),
				Attachments: [][]byte{{}, []byte("x"), []byte("yy")}}, ""},
		{"binary event with an unused attachment", []msg{text(`52-["a",` + ph1 + `]`), bin("a"), bin("b")},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a",` + ph1 + `]`),
				Attachments: [][]byte{[]byte("a"), []byte("b")}}, ""},
		{"binary ack", []msg{text(`61-/back,127["a",` + ph0 + `,{}]`), bin("xxx")},
			Packet{Type: Ack, Namespace: "/back", ID: 127, Data: []byte(`["a",` + ph0 + `,{}]`),
				Attachments: [][]byte{[]byte("xxx")}}, ""},
		{"binary ack with two attachments", []msg{
			text(`62-789[` + ph0 + `,` + ph1 + `]`), bin("\x01\x02\x03"), bin("\x04\x05\x06")},
			Packet{Type: Ack, Namespace: "/", ID: 789, Data: []byte(`[` + ph0 + `,` + ph1 + `]`),
				Attachments: [][]byte{{1, 2, 3}, {4, 5, 6}}}, ""},
		{"binary event with zero attachments", []msg{text(`50-["a",` + ph0 + `]`)},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a",` + ph0 + `]`)}, `2["a",` + ph0 + `]`},
		{"binary event with leading zeros in the count", []msg{text(`501-["a",` + ph0 + `]`), bin("z")},
			Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a",` + ph0 + `]`),
				Attachments: [][]byte{[]byte("z")}}, `51-["a",` + ph0 + `]`},
		{"placeholder members of a placeholder are not examined", []msg{
			text(`51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`), bin("z")},
			Packet{Type: Event, Namespace: "/", ID: NoID,
				Data:        []byte(`["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`),
				Attachments: [][]byte{[]byte("z")}}, ""},
		{"placeholder num as float and exponent", []msg{
			text(`52-["a",{"_placeholder":true,"num":1.0},{"num":1e0,"_placeholder":true},{"_placeholder":true,"num":-0}]`),
			bin("y"), bin("z")},
			Packet{Type: Event, Namespace: "/", ID: NoID,
				Data:        []byte(`["a",{"_placeholder":true,"num":1.0},{"num":1e0,"_placeholder":true},{"_placeholder":true,"num":-0}]`),
				Attachments: [][]byte{[]byte("y"), []byte("z")}}, ""},
		{"not a placeholder unless true", []msg{
			text(`51-["a",{"_placeholder":false,"num":7},{"_placeholder":"true","num":7},` + ph0 + `]`), bin("z")},
			Packet{Type: Event, Namespace: "/", ID: NoID,
				Data:        []byte(`["a",{"_placeholder":false,"num":7},{"_placeholder":"true","num":7},` + ph0 + `]`),
				Attachments: [][]byte{[]byte("z")}}, ""},
		{"placeholder with duplicate keys, last wins", []msg{
			text(`51-["a",{"_placeholder":true,"num":5,"num":0},{"_placeholder":true,"_placeholder":false}]`), bin("z")},
			Packet{Type: Event, Namespace: "/", ID: NoID,
				Data:        []byte(`["a",{"_placeholder":true,"num":5,"num":0},{"_placeholder":true,"_placeholder":false}]`),
				Attachments: [][]byte{[]byte("z")}}, ""},
	}
	// A namespace runs to the first comma and may hold any other byte.
	tests[20].msgs = []msg{text(`2/a b/é["x";1],["y"]`)}
	tests[20].want = Packet{Type: Event, Namespace: `/a b/é["x";1]`, ID: NoID, Data: []byte(`["y"]`)}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			for i, m := range tt.msgs {
				p, err := d.Add([]byte(m.data), m.binary)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if last := i == len(tt.msgs)-1; (p != nil) != last {
					t.Fatalf("message %d: packet %v, want one only after the last message", i, p)
				}
				if p == nil {
					continue
				}
				if !packetsEqual(p, &tt.want) {
					t.Fatalf("got %+v\nwant %+v", *p, tt.want)
				}
				if err := p.Validate(); err != nil {
					t.Fatalf("decoded packet does not validate: %v", err)
				}
				header, atts := Encode(p)
				want := tt.canonical
				if want == "" {
					want = tt.msgs[0].data
				}
				if string(header) != want {
					t.Fatalf("Encode = %q, want %q", header, want)
				}
				if len(atts) != len(tt.msgs)-1 {
					t.Fatalf("Encode gave %d attachments, want %d", len(atts), len(tt.msgs)-1)
				}
				for j, a := range atts {
					if string(a) != tt.msgs[j+1].data {
						t.Fatalf("attachment %d = %q", j, a)
					}
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	tooDeep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	tests := []struct {
		name string
		max  int
		msgs []msg
		want error
	}{
		// From socket.io-parser test/parser.js "throw an error upon parsing error".
		{"connect error with unterminated array", 0, []msg{text(`442["some","data"`)}, ErrInvalidPayload},
		{"connect with string", 0, []msg{text(`0/admin,"invalid"`)}, ErrInvalidPayload},
		{"connect with array", 0, []msg{text(`0[]`)}, ErrInvalidPayload},
		{"disconnect with payload", 0, []msg{text(`1/admin,{}`)}, ErrInvalidPayload},
		{"event with unterminated string", 0, []msg{text(`2/admin,"invalid`)}, ErrInvalidPayload},
		{"event with object", 0, []msg{text(`2/admin,{}`)}, ErrInvalidPayload},
		{"event with object name", 0, []msg{text(`2[{"toString":"foo"}]`)}, ErrInvalidPayload},
		{"event with bool name", 0, []msg{text(`2[true,"foo"]`)}, ErrInvalidPayload},
		{"event with null name", 0, []msg{text(`2[null,"bar"]`)}, ErrInvalidPayload},
		{"binary without count", 0, []msg{text(`5`)}, ErrIllegalAttachments},
		{"binary without dash", 0, []msg{text(`51`)}, ErrIllegalAttachments},
		{"binary with letter count", 0, []msg{text(`5a-`)}, ErrIllegalAttachments},
		{"binary with fractional count", 0, []msg{text(`51.23-`)}, ErrIllegalAttachments},
		{"unknown type", 0, []msg{text(`999`)}, ErrUnknownType},
		// From test/parser.js "too many attachments" and test/buffer.js.
		{"too many attachments", 2, []msg{text(`53-["hello",` + ph0 + `,` + ph1 + `,{"_placeholder":true,"num":2}]`)}, ErrTooManyAttachments},
		{"placeholder num is a string", 0, []msg{text(`51-["hello",{"_placeholder":true,"num":"splice"}]`), bin("world")}, ErrIllegalAttachments},
		{"placeholder num out of bounds", 0, []msg{text(`51-["hello",` + ph1 + `]`), bin("world")}, ErrIllegalAttachments},
		{"attachment without header", 0, []msg{bin("world")}, ErrUnexpectedBinary},
		{"text while reconstructing", 0, []msg{text(`51-["hello",` + ph0 + `]`), text(`2["hello"]`)}, ErrUnexpectedText},
		// From the protocol test suite (Engine.IO "4" prefix removed).
		{"suite unknown packet type", 0, []msg{text(`abc`)}, ErrUnknownType},
		{"suite invalid payload format", 0, []msg{text(`2{}`)}, ErrInvalidPayload},
		{"suite invalid ack id", 0, []msg{text(`2abc["message-with-ack",1,"2",{"3":[false]}]`)}, ErrInvalidPayload},
		// Stricter than the reference, or not covered by its tests.
		{"empty message", 0, []msg{text(``)}, ErrUnknownType},
		{"space as type", 0, []msg{text(` ["a"]`)}, ErrUnknownType},
		{"type 7", 0, []msg{text(`7["a"]`)}, ErrUnknownType},
		{"binary with empty count", 0, []msg{text(`5-["a"]`)}, ErrIllegalAttachments},
		{"binary with hex count", 0, []msg{text(`50x1-["a"]`)}, ErrIllegalAttachments},
		{"binary with huge count", 0, []msg{text(`599999999999999999999999-["a"]`)}, ErrTooManyAttachments},
		{"eleven attachments by default", 0, []msg{text(`511-["a"]`)}, ErrTooManyAttachments},
		{"event without payload", 0, []msg{text(`2`)}, ErrInvalidPayload},
		{"event with namespace only", 0, []msg{text(`2/admin,`)}, ErrInvalidPayload},
		{"event with id only", 0, []msg{text(`212`)}, ErrInvalidPayload},
		{"event with empty array", 0, []msg{text(`2[]`)}, ErrInvalidPayload},
		{"event with whitespace payload", 0, []msg{text("2  ")}, ErrInvalidPayload},
		{"event with trailing garbage", 0, []msg{text(`2["a"]x`)}, ErrInvalidPayload},
		{"event with two values", 0, []msg{text(`2["a"]["b"]`)}, ErrInvalidPayload},
		{"event with trailing comma", 0, []msg{text(`2["a",]`)}, ErrInvalidPayload},
		{"event with control char", 0, []msg{text("2[\"a\x01\"]")}, ErrInvalidPayload},
		{"event with bad escape", 0, []msg{text(`2["a\x"]`)}, ErrInvalidPayload},
		{"event with leading zero number", 0, []msg{text(`2["a",01]`)}, ErrInvalidPayload},
		{"event with space id", 0, []msg{text(`2 1["a"]`)}, ErrInvalidPayload},
		{"event with id overflow", 0, []msg{text(`29223372036854775808["a"]`)}, ErrInvalidID},
		{"event nested too deep", 0, []msg{text(`2["a",` + tooDeep + `]`)}, ErrInvalidPayload},
		{"binary event without payload", 0, []msg{text(`51-`)}, ErrInvalidPayload},
		{"binary event with empty array", 0, []msg{text(`51-[]`)}, ErrInvalidPayload},
		{"ack without id", 0, []msg{text(`3["a"]`)}, ErrInvalidID},
		{"ack without payload", 0, []msg{text(`312`)}, ErrInvalidPayload},
		{"ack with object", 0, []msg{text(`312{}`)}, ErrInvalidPayload},
		{"binary ack without id", 0, []msg{text(`61-[` + ph0 + `]`)}, ErrInvalidID},
		{"connect with null", 0, []msg{text(`0null`)}, ErrInvalidPayload},
		{"connect error with array", 0, []msg{text(`4[]`)}, ErrInvalidPayload},
		{"connect error with number", 0, []msg{text(`4 1`)}, ErrInvalidPayload},
		{"disconnect with string", 0, []msg{text(`1"x"`)}, ErrInvalidPayload},
		{"placeholder num fractional", 0, []msg{text(`51-["a",{"_placeholder":true,"num":0.5}]`), bin("z")}, ErrIllegalAttachments},
		{"placeholder num negative", 0, []msg{text(`51-["a",{"_placeholder":true,"num":-1}]`), bin("z")}, ErrIllegalAttachments},
		{"placeholder num missing", 0, []msg{text(`51-["a",{"_placeholder":true}]`), bin("z")}, ErrIllegalAttachments},
		{"placeholder num null", 0, []msg{text(`51-["a",{"_placeholder":true,"num":null}]`), bin("z")}, ErrIllegalAttachments},
		{"placeholder num huge", 0, []msg{text(`51-["a",{"_placeholder":true,"num":1e400}]`), bin("z")}, ErrIllegalAttachments},
		{"placeholder with escaped key", 0, []msg{text(`51-["a",{"\u005fplaceholder":true,"n\u0075m":3}]`), bin("z")}, ErrIllegalAttachments},
		{"placeholder at depth", 0, []msg{text(`51-["a",[{"b":{"c":[1,{"_placeholder":true,"num":1}]}}]]`), bin("z")}, ErrIllegalAttachments},
		{"bad placeholder before a good one", 0, []msg{text(`52-["a",{"_placeholder":true,"num":2},` + ph0 + `]`), bin("y"), bin("z")}, ErrIllegalAttachments},
		{"second attachment missing", 0, []msg{text(`52-["a",` + ph0 + `,` + ph1 + `]`), bin("y"), text(`2["b"]`)}, ErrUnexpectedText},
		{"third attachment extra", 0, []msg{text(`52-["a",` + ph0 + `,` + ph1 + `]`), bin("y"), bin("z"), bin("extra")}, ErrUnexpectedBinary},
		{"deep nesting is fine, then an error", 0, []msg{text(`2["a",` + deep[:len(deep)-2] + `]`)}, ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{MaxAttachments: tt.max}
			_, err := feed(&d, tt.msgs...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1)
	var d Decoder
	p, err := d.Add([]byte(`2["a",`+deep+`]`), false)
	if err != nil || p == nil {
		t.Fatalf("nesting of %d: %v", maxDepth, err)
	}
}

func TestDecoderRecovers(t *testing.T) {
	tests := []struct {
		name  string
		first []msg
	}{
		{"after Reset", []msg{text(`51-["hello"]`)}},
		{"after unexpected text", []msg{text(`51-["hello"]`), text(`2["x"]`)}},
		{"after an invalid packet", []msg{text(`2{}`)}},
		{"after a bad placeholder", []msg{text(`51-["a",` + ph1 + `]`), bin("z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			feed(&d, tt.first...)
			d.Reset()
			p, err := d.Add([]byte(`2["hello"]`), false)
			if err != nil || p == nil || string(p.Data) != `["hello"]` {
				t.Fatalf("got %v, %v", p, err)
			}
			// And a binary packet still works.
			ps, err := feed(&d, text(`51-["a",`+ph0+`]`), bin("z"))
			if err != nil || len(ps) != 1 || string(ps[0].Attachments[0]) != "z" {
				t.Fatalf("got %v, %v", ps, err)
			}
		})
	}
}

func TestDecodeNamespaceReuse(t *testing.T) {
	var d Decoder
	a, _ := d.Add([]byte(`2/admin,["a"]`), false)
	b, _ := d.Add([]byte(`2/admin,["b"]`), false)
	c, _ := d.Add([]byte(`2/other,["c"]`), false)
	if a.Namespace != "/admin" || b.Namespace != "/admin" || c.Namespace != "/other" {
		t.Fatalf("namespaces %q %q %q", a.Namespace, b.Namespace, c.Namespace)
	}
	in := []byte(`2/admin,["a"]`)
	allocs := testing.AllocsPerRun(100, func() {
		d.Add(in, false)
	})
	if allocs > 1 {
		t.Fatalf("decoding an event in a known namespace: %v allocs, want 1", allocs)
	}
}

func TestDecodeAliasesInput(t *testing.T) {
	var d Decoder
	in := []byte(`2["hello"]`)
	p, err := d.Add(in, false)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &in[1] {
		t.Fatal("Data is a copy, want a sub-slice of the input")
	}
}
