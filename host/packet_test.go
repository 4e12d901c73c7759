package host

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []packet
		wantErr bool
	}{
		{name: "one message", in: "4hello", want: []packet{{typ: '4', data: []byte("hello")}}},
		{name: "several", in: "4a\x1e2\x1e4b", want: []packet{{typ: '4', data: []byte("a")}, {typ: '2', data: []byte{}}, {typ: '4', data: []byte("b")}}},
		{name: "binary", in: "4hello\x1ebAQIDBA==", want: []packet{{typ: '4', data: []byte("hello")}, {typ: '4', data: []byte{1, 2, 3, 4}, binary: true}}},
		{name: "binary unpadded", in: "bAQIDBA", want: []packet{{typ: '4', data: []byte{1, 2, 3, 4}, binary: true}}},
		{name: "binary url-safe", in: "b-_8", want: []packet{{typ: '4', data: []byte{0xfb, 0xff}, binary: true}}},
		{name: "empty binary", in: "b", want: []packet{{typ: '4', data: []byte{}, binary: true}}},
		{name: "all types", in: "0\x1e1\x1e3probe\x1e5\x1e6", want: []packet{{typ: '0', data: []byte{}}, {typ: '1', data: []byte{}}, {typ: '3', data: []byte("probe")}, {typ: '5', data: []byte{}}, {typ: '6', data: []byte{}}}},
		{name: "utf8", in: "4€\x1e4é", want: []packet{{typ: '4', data: []byte("€")}, {typ: '4', data: []byte("é")}}},
		{name: "empty body", in: "", want: []packet{}, wantErr: true},
		{name: "unknown type", in: "abc", want: []packet{}, wantErr: true},
		{name: "type 7", in: "7", want: []packet{}, wantErr: true},
		{name: "trailing separator", in: "4a\x1e", want: []packet{{typ: '4', data: []byte("a")}}, wantErr: true},
		{name: "stops at error", in: "4a\x1ex\x1e4b", want: []packet{{typ: '4', data: []byte("a")}}, wantErr: true},
		{name: "bad base64", in: "b!!!", want: []packet{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePayload([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadPacket) {
				t.Fatalf("err = %v, want it to wrap ErrBadPacket", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i].typ != tt.want[i].typ || got[i].binary != tt.want[i].binary || !bytes.Equal(got[i].data, tt.want[i].data) {
					t.Errorf("packet %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		binary  bool
		want    packet
		wantErr bool
	}{
		{name: "text message", in: []byte("4hello"), want: packet{typ: '4', data: []byte("hello")}},
		{name: "probe", in: []byte("2probe"), want: packet{typ: '2', data: []byte("probe")}},
		{name: "binary frame", in: []byte{1, 2, 3}, binary: true, want: packet{typ: '4', data: []byte{1, 2, 3}, binary: true}},
		{name: "binary frame starting with 4", in: []byte("4x"), binary: true, want: packet{typ: '4', data: []byte("4x"), binary: true}},
		{name: "empty binary frame", in: []byte{}, binary: true, want: packet{typ: '4', data: []byte{}, binary: true}},
		{name: "base64 text frame", in: []byte("bAQI="), want: packet{typ: '4', data: []byte{1, 2}, binary: true}},
		{name: "empty text frame", in: []byte{}, wantErr: true},
		{name: "bad type", in: []byte("abc"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeFrame(tt.in, tt.binary)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (got.typ != tt.want.typ || got.binary != tt.want.binary || !bytes.Equal(got.data, tt.want.data)) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAppendPayload(t *testing.T) {
	pkts := []packet{
		{typ: packetMessage, data: []byte("hello")},
		{typ: packetMessage, data: []byte{1, 2, 3, 4}, binary: true},
		{typ: packetPing},
		{typ: packetOpen, data: []byte(`{"sid":"x"}`)},
	}
	want := "4hello\x1ebAQIDBA==\x1e2\x1e0{\"sid\":\"x\"}"
	got := appendPayload(nil, pkts)
	if string(got) != want {
		t.Fatalf("appendPayload = %q, want %q", got, want)
	}
	if n := payloadLen(pkts); n != len(want) {
		t.Fatalf("payloadLen = %d, want %d", n, len(want))
	}
	if got := appendPayload(nil, nil); len(got) != 0 {
		t.Fatalf("empty payload = %q", got)
	}
}

// checkRoundTrip decodes body, re-encodes what decoded and checks that it
// decodes to the same packets.
func checkRoundTrip(t *testing.T, body []byte) {
	pkts, _ := decodePayload(body)
	if len(pkts) == 0 {
		return
	}
	enc := appendPayload(nil, pkts)
	if len(enc) != payloadLen(pkts) {
		t.Fatalf("payloadLen = %d, encoded %d bytes", payloadLen(pkts), len(enc))
	}
	again, err := decodePayload(enc)
	if err != nil {
		t.Fatalf("re-encoded payload %q does not decode: %v", enc, err)
	}
	if len(again) != len(pkts) {
		t.Fatalf("round trip: %d packets, want %d", len(again), len(pkts))
	}
	for i := range pkts {
		if again[i].typ != pkts[i].typ || again[i].binary != pkts[i].binary || !bytes.Equal(again[i].data, pkts[i].data) {
			t.Fatalf("round trip packet %d = %+v, want %+v", i, again[i], pkts[i])
		}
	}
}

// FuzzDecodePayload checks that no polling body panics the decoder and that
// whatever decodes survives an encode/decode round trip.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4a\x1e4b", "4hello\x1ebAQIDBA==", "2probe", "3", "1", "b", "abc", "", "\x1e", "4\x1e", "b-_8", "bAQI", "b====", "0{\"sid\":\"x\"}\x1e6"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkRoundTrip(t, body)
	})
}

// FuzzDecodeFrame checks that no WebSocket message panics the decoder.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte("4hello"), false)
	f.Add([]byte("2probe"), false)
	f.Add([]byte{1, 2, 3}, true)
	f.Add([]byte("bAQID"), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		p, err := decodeFrame(data, binary)
		if err != nil {
			return
		}
		if binary && (!p.binary || !bytes.Equal(p.data, data)) {
			t.Fatalf("binary frame decoded to %+v", p)
		}
		if !binary && !p.binary && !bytes.Equal(appendPacket(nil, p), data) {
			t.Fatalf("text frame %q re-encodes to %q", data, appendPacket(nil, p))
		}
	})
}

func BenchmarkDecodePayload(b *testing.B) {
	body := []byte("4" + `2["chat",{"from":"alice","text":"hello, world"}]` + "\x1e3\x1ebAQIDBAUGBwgJCgsMDQ4PEA==\x1e42[\"typing\"]")
	b.ReportAllocs()
	for range b.N {
		if _, err := decodePayload(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	pkts := []packet{
		{typ: packetMessage, data: []byte(`2["chat",{"from":"alice","text":"hello, world"}]`)},
		{typ: packetMessage, data: bytes.Repeat([]byte{7}, 64), binary: true},
		{typ: packetPing},
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for range b.N {
		buf = appendPayload(buf[:0], pkts)
	}
}
