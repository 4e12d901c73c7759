package parser

import (
	"errors"
	"testing"
)

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "Type(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
		if Type(i).Valid() != (i < 7) {
			t.Errorf("Type(%d).Valid() = %v", i, Type(i).Valid())
		}
	}
}

func TestIsBinary(t *testing.T) {
	tests := []struct {
		p    Packet
		want bool
	}{
		{Packet{Type: Event}, false},
		{Packet{Type: Event, Attachments: [][]byte{{}}}, true},
		{Packet{Type: Ack, Attachments: [][]byte{{}}}, true},
		{Packet{Type: BinaryEvent}, true},
		{Packet{Type: BinaryAck}, true},
		{Packet{Type: Connect, Attachments: [][]byte{{}}}, false},
	}
	for _, tt := range tests {
		if got := tt.p.IsBinary(); got != tt.want {
			t.Errorf("%+v: IsBinary() = %v", tt.p, got)
		}
	}
}

// TestValidate mirrors socket.io-parser's isPacketValid tests, plus the
// rules this package adds.
func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want error
	}{
		{"connect", Packet{Type: Connect, Namespace: "/", ID: NoID}, nil},
		{"connect with string", Packet{Type: Connect, Namespace: "/admin", ID: NoID, Data: []byte(`"invalid"`)}, ErrInvalidPayload},
		{"connect with array", Packet{Type: Connect, Namespace: "/", ID: NoID, Data: []byte(`[]`)}, ErrInvalidPayload},
		{"disconnect with object", Packet{Type: Disconnect, Namespace: "/admin", ID: NoID, Data: []byte(`{}`)}, ErrInvalidPayload},
		{"event with string", Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: []byte(`"invalid"`)}, ErrInvalidPayload},
		{"event with object", Packet{Type: Event, Namespace: "/admin", ID: NoID, Data: []byte(`{}`)}, ErrInvalidPayload},
		{"event with object name", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[{"toString":"foo"}]`)}, ErrInvalidPayload},
		{"event with bool name", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[true,"foo"]`)}, ErrInvalidPayload},
		{"event with null name", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`[null,"bar"]`)}, ErrInvalidPayload},
		{"event", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(` ["a", 1] `)}, nil},
		{"event with empty namespace", Packet{Type: Event, ID: 3, Data: []byte(`["a"]`)}, nil},
		{"event without payload", Packet{Type: Event, Namespace: "/", ID: NoID}, ErrInvalidPayload},
		{"event with invalid JSON", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a"`)}, ErrInvalidPayload},
		{"event with whitespace only", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`  `)}, ErrInvalidPayload},
		{"namespace without slash", Packet{Type: Event, Namespace: "admin", ID: NoID, Data: []byte(`["a"]`)}, ErrInvalidNamespace},
		{"namespace with comma", Packet{Type: Event, Namespace: "/a,b", ID: NoID, Data: []byte(`["a"]`)}, ErrInvalidNamespace},
		{"negative id", Packet{Type: Event, Namespace: "/", ID: -2, Data: []byte(`["a"]`)}, ErrInvalidID},
		{"unknown type", Packet{Type: 9, Namespace: "/", ID: NoID}, ErrUnknownType},
		{"ack without id", Packet{Type: Ack, Namespace: "/", ID: NoID, Data: []byte(`[]`)}, ErrInvalidID},
		{"ack", Packet{Type: Ack, Namespace: "/", ID: 0, Data: []byte(`[]`)}, nil},
		{"connect error", Packet{Type: ConnectError, Namespace: "/", ID: NoID, Data: []byte(`"no"`)}, nil},
		{"binary event", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a",` + ph0 + `]`), Attachments: [][]byte{{1}}}, nil},
		{"binary event bad placeholder", Packet{Type: Event, Namespace: "/", ID: NoID, Data: []byte(`["a",` + ph1 + `]`), Attachments: [][]byte{{1}}}, ErrIllegalAttachments},
		{"attachments on connect", Packet{Type: Connect, Namespace: "/", ID: NoID, Attachments: [][]byte{{1}}}, ErrIllegalAttachments},
		{"binary ack", Packet{Type: BinaryAck, Namespace: "/", ID: 1, Data: []byte(`[` + ph0 + `]`), Attachments: [][]byte{{1}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}
