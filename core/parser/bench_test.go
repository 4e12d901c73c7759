package parser

import (
	"encoding/json"
	"testing"
)

// A typical chat event with an ack id in a custom namespace.
var benchEvent = []byte(`2/chat,42["chat message",{"user":"alice","text":"hello world, how are you today?","ts":1700000000000,"tags":["a","b"]}]`)

func BenchmarkEncode(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/chat", ID: 42, Data: benchEvent[9:]}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		Encode(p)
	}
}

func BenchmarkAppendEncode(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/chat", ID: 42, Data: benchEvent[9:]}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		buf = AppendEncode(buf[:0], p)
	}
}

func BenchmarkDecode(b *testing.B) {
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		if _, err := d.Add(benchEvent, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	header := []byte(`51-/chat,42["file",{"name":"a.png","data":{"_placeholder":true,"num":0}}]`)
	att := make([]byte, 4096)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		d.Add(header, false)
		if p, err := d.Add(att, true); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitEvent(b *testing.B) {
	data := benchEvent[9:]
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SplitEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalArgs(b *testing.B) {
	args := []any{"chat message", map[string]any{"user": "alice", "text": "hello world, how are you today?", "ts": 1700000000000.0, "tags": []any{"a", "b"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := MarshalArgs(args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalArgs(b *testing.B) {
	data := benchEvent[9:]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalArgs(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidJSON compares the scanner with json.Valid, which it replaces.
func BenchmarkValidJSON(b *testing.B) {
	data := benchEvent[9:]
	b.Run("validJSON", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			validJSON(data)
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			json.Valid(data)
		}
	})
}
