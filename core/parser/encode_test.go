package parser

import (
	"testing"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name   string
		p      Packet
		header string
		atts   int
	}{
		{"connect main namespace", Packet{Type: Connect, Namespace: "/", ID: NoID}, `0`, 0},
		{"connect empty namespace is main", Packet{Type: Connect, ID: NoID}, `0`, 0},
		{"connect reply", Packet{Type: Connect, Namespace: "/", ID: NoID, Data: []byte(`{"sid":"abc"}`)}, `0{"sid":"abc"}`, 0},
		{"connect custom namespace", Packet{Type: Connect, Namespace: "/admin", ID: NoID, Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)},
			`0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, 0},
		{"connect custom namespace without data", Packet{Type: Connect, Namespace: "/admin", ID: NoID}, `0/admin,`, 0},
		{"disconnect", Packet{Type: Disconnect, Namespace: "/woot", ID: NoID}, `1/woot,`, 0},
		{"event", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["hello",1]`)}, `2["hello",1]`, 0},
		{"event custom namespace", Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: []byte(`["a"]`)}, `2/admin,["a"]`, 0},
		{"event with ack", Packet{Type: Event, Namespace: "/", ID: 12, Data: []byte(`["ack"]`)}, `212["ack"]`, 0},
		{"event with ack id 0 (zero value)", Packet{Type: Event, Data: []byte(`["ack"]`)}, `20["ack"]`, 0},
		{"event namespace and ack", Packet{Type: Event, Namespace: "/admin", ID: 13, Data: []byte(`["foo"]`)}, `2/admin,13["foo"]`, 0},
		{"ack", Packet{Type: Ack, Namespace: "/", ID: 1, Data: []byte(`["x"]`)}, `31["x"]`, 0},
		{"ack empty", Packet{Type: Ack, Namespace: "/", ID: 12, Data: []byte(`[]`)}, `312[]`, 0},
		{"connect error", Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: []byte(`{"message":"Not authorized","data":{"code":1}}`)},
			`4{"message":"Not authorized","data":{"code":1}}`, 0},
		{"connect error string", Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: []byte(`"Unauthorized"`)}, `4"Unauthorized"`, 0},
		{"binary event from Event with attachments", Packet{Type: Event, Namespace: "/", ID: NoID,
			Data: []byte(`["bin",` + ph0 + `]`), Attachments: [][]byte{{1}}}, `51-["bin",` + ph0 + `]`, 1},
		{"binary event two attachments", Packet{Type: Event, Namespace: "/admin", ID: NoID,
			Data: []byte(`["baz",` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{{1, 2}, {3, 4}}},
			`52-/admin,["baz",` + ph0 + `,` + ph1 + `]`, 2},
		{"binary event given as BinaryEvent", Packet{Type: BinaryEvent, Namespace: "/", ID: 7,
			Data: []byte(`["bin",` + ph0 + `]`), Attachments: [][]byte{{1}}}, `51-7["bin",` + ph0 + `]`, 1},
		{"binary event without attachments", Packet{Type: BinaryEvent, Namespace: "/", ID: NoID, Data: []byte(`["bin"]`)}, `50-["bin"]`, 0},
		{"binary ack from Ack with attachments", Packet{Type: Ack, Namespace: "/", ID: 789,
			Data: []byte(`[` + ph0 + `,` + ph1 + `]`), Attachments: [][]byte{{1}, {2}}}, `62-789[` + ph0 + `,` + ph1 + `]`, 2},
		{"attachments on connect are not written", Packet{Type: Connect, Namespace: "/", ID: NoID, Attachments: [][]byte{{1}}}, `0`, 0},
		{"ten attachments", Packet{Type: Event, ID: NoID, Data: []byte(`["x"]`), Attachments: make([][]byte, 10)}, `510-["x"]`, 10},
		{"negative id other than NoID is absent", Packet{Type: Event, ID: -5, Data: []byte(`["x"]`)}, `2["x"]`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, atts := Encode(&tt.p)
			if string(header) != tt.header {
				t.Fatalf("header %q, want %q", header, tt.header)
			}
			if len(atts) != tt.atts {
				t.Fatalf("%d attachments, want %d", len(atts), tt.atts)
			}
			if n := EncodedLen(&tt.p); n != len(header) || cap(header) != n {
				t.Fatalf("EncodedLen %d, header len %d cap %d", n, len(header), cap(header))
			}
			if got := AppendEncode([]byte("4"), &tt.p); string(got) != "4"+tt.header {
				t.Fatalf("AppendEncode %q", got)
			}
		})
	}
}

func TestEncodeAllocs(t *testing.T) {
	p := &Packet{Type: Event, Namespace: "/chat", ID: 42, Data: []byte(`["message",{"text":"hello"}]`)}
	if n := testing.AllocsPerRun(100, func() { Encode(p) }); n != 1 {
		t.Fatalf("Encode: %v allocs, want 1", n)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = AppendEncode(buf[:0], p) }); n != 0 {
		t.Fatalf("AppendEncode into a large enough buffer: %v allocs, want 0", n)
	}
}

func TestEncodeDoesNotCopyAttachments(t *testing.T) {
	a := []byte{1, 2, 3}
	p := &Packet{Type: Event, ID: NoID, Data: []byte(`["a",` + ph0 + `]`), Attachments: [][]byte{a}}
	_, atts := Encode(p)
	if &atts[0][0] != &a[0] {
		t.Fatal("attachment was copied")
	}
}
