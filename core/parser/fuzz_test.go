package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// splitMessages turns fuzz input into Engine.IO messages: the input is split
// at NUL bytes and a part starting with 'B' is a binary message (the rest of
// the part), any other part a text message.
func splitMessages(in []byte) []msg {
	var out []msg
	for _, part := range bytes.Split(in, []byte{0}) {
		if len(part) > 0 && part[0] == 'B' {
			out = append(out, msg{data: string(part[1:]), binary: true})
		} else {
			out = append(out, msg{data: string(part)})
		}
	}
	return out
}

// FuzzDecode feeds a sequence of text and binary messages into a Decoder.
// It must never panic, and every packet decoded must validate, re-encode to
// the canonical form, and decode again to an equal packet.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"0", `0/admin,{"token":"123"}`, "1/admin,", `2["hello",1]`, `2/admin,13["a",{"b":[1,2.5e3,null,true]}]`,
		`31["x"]`, `4{"message":"Not authorized"}`, `4"no"`, `2[1,"a"]`,
		"51-[\"a\"," + ph0 + "]\x00B\x01\x02",
		"52-/admin,7[\"a\"," + ph0 + "," + ph1 + "]\x00Bxy\x00Bz",
		"61-3[" + ph0 + "]\x00B\x00",
		"51-[\"a\"," + ph0 + "]\x002[\"b\"]", "Bstray", `2{}`, `999`, `5`, `51.23-`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, maxAttachments uint8) {
		d := Decoder{MaxAttachments: int(maxAttachments % 16)}
		for _, m := range splitMessages(in) {
			p, err := d.Add([]byte(m.data), m.binary)
			if err != nil || p == nil {
				continue
			}
			checkDecoded(t, p)
		}
	})
}

func checkDecoded(t *testing.T, p *Packet) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatalf("decoded %+v does not validate: %v", *p, err)
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("decoded invalid JSON %q", p.Data)
	}
	header, atts := Encode(p)
	var d Decoder
	var q *Packet
	for i, m := range append([][]byte{header}, atts...) {
		r, err := d.Add(m, i > 0)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", header, err)
		}
		if (r != nil) != (i == len(atts)) {
			t.Fatalf("re-decoding %q: packet after message %d of %d", header, i, len(atts)+1)
		}
		q = r
	}
	if !packetsEqual(p, q) {
		t.Fatalf("round trip through %q:\n got %+v\nwant %+v", header, *q, *p)
	}
	if again := AppendEncode(nil, q); !bytes.Equal(again, header) {
		t.Fatalf("encoding is not stable: %q then %q", header, again)
	}
	switch p.Type {
	case Event:
		if _, _, err := SplitEvent(p.Data); err != nil {
			t.Fatalf("SplitEvent(%q): %v", p.Data, err)
		}
		fallthrough
	case Ack:
		// Errors are fine (a number out of float64 range, a placeholder in a
		// text packet); panics are not.
		UnmarshalArgs(p.Data, p.Attachments)
	}
}

// FuzzUnmarshalArgs decodes arbitrary payloads; whatever decodes must
// marshal back and decode to the same values.
func FuzzUnmarshalArgs(f *testing.F) {
	for _, s := range []string{
		`[]`, `["a",1,{"b":[true,null,-0.5e-7]}]`, `["a",` + ph0 + `]`, `[` + ph1 + `,{"x":` + ph0 + `}]`,
		`[{"_placeholder":true,"num":"0"}]`, `[{"_placeholder":false,"num":0}]`, `["\u00e9\ud83d\ude00<>&\u2028"]`,
		`[1e400]`, `{}`, `null`, `[`, `[12345678901234567890,1.5e300,0.1]`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		atts := make([][]byte, n%4)
		for i := range atts {
			atts[i] = []byte{byte(i), 'x'}
		}
		args, err := UnmarshalArgs(data, atts)
		if err != nil {
			if args != nil {
				t.Fatalf("args %v with error %v", args, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		out, outAtts, err := MarshalArgs(args)
		if err != nil {
			t.Fatalf("MarshalArgs(%#v): %v", args, err)
		}
		if !json.Valid(out) {
			t.Fatalf("MarshalArgs wrote invalid JSON %q", out)
		}
		again, err := UnmarshalArgs(out, outAtts)
		if err != nil {
			t.Fatalf("UnmarshalArgs(%q): %v", out, err)
		}
		if !reflect.DeepEqual(args, again) {
			t.Fatalf("round trip through %q:\n got %#v\nwant %#v", out, again, args)
		}
	})
}

// FuzzValidJSON checks the scanner against encoding/json and exercises the
// other helpers that take raw JSON.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`[]`, `["a",1]`, `{"a":[1,2,{"b":null}]}`, `"\u00e9"`, `-1.5e+3`, `[1,]`, `01`, `"\x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := validJSON(data)
		if valid != json.Valid(data) {
			t.Fatalf("validJSON(%q) = %v, json.Valid disagrees", data, valid)
		}
		name, args, err := SplitEvent(data)
		if err == nil {
			if !valid {
				t.Fatalf("SplitEvent accepted invalid JSON %q", data)
			}
			if !json.Valid(args) {
				t.Fatalf("SplitEvent(%q) gave invalid args %q", data, args)
			}
			var all []json.RawMessage
			if err := json.Unmarshal(data, &all); err != nil || len(all) == 0 {
				t.Fatalf("SplitEvent accepted %q: %v", data, err)
			}
			var rest []json.RawMessage
			if err := json.Unmarshal(args, &rest); err != nil || len(rest) != len(all)-1 {
				t.Fatalf("SplitEvent(%q) args %q: %v", data, args, err)
			}
			if all[0][0] == '"' {
				var want string
				json.Unmarshal(all[0], &want)
				if name != want {
					t.Fatalf("SplitEvent(%q) name %q, want %q", data, name, want)
				}
			}
		} else if !errors.Is(err, ErrInvalidPayload) {
			t.Fatalf("SplitEvent error %v", err)
		}
		if valid {
			checkPlaceholders(trimSpace(data), 2)
			if lit := trimSpace(data); lit[0] == '"' {
				var s string
				json.Unmarshal(lit, &s)
				for _, want := range []string{"num", "_placeholder", s} {
					if keyIs(lit, want) != (s == want) && isASCII(want) {
						t.Fatalf("keyIs(%s, %q) wrong", lit, want)
					}
				}
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
