package parser

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Type is a Socket.IO packet type, the first character of every packet.
type Type byte

// The packet types of protocol v5.
const (
	Connect      Type = iota // CONNECT: join a namespace (client) or accept it (server).
	Disconnect               // DISCONNECT: leave a namespace.
	Event                    // EVENT: an event with arguments.
	Ack                      // ACK: the reply to an event that asked for one.
	ConnectError             // CONNECT_ERROR: a refused namespace connection.
	BinaryEvent              // BINARY_EVENT: an EVENT followed by binary attachments.
	BinaryAck                // BINARY_ACK: an ACK followed by binary attachments.
)

// NoID is the Packet.ID of a packet that carries no acknowledgement id.
const NoID int64 = -1

// DefaultMaxAttachments is the attachment limit of a Decoder whose MaxAttachments is not set.
const DefaultMaxAttachments = 10

var typeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the protocol name of t, such as "EVENT".
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven packet types of protocol v5.
func (t Type) Valid() bool { return t <= BinaryAck }

// Packet is one Socket.IO packet.
//
// A Packet from a Decoder aliases the messages it was decoded from: Data is a
// sub-slice of the text message and each attachment is the binary message
// itself, so those buffers must not be modified while the Packet is in use.
type Packet struct {
	// Type is the packet type. A decoded binary packet has Type Event or Ack
	// (as in the reference); Encode writes it as binary when it has attachments.
	Type Type
	// Namespace is "/" when absent on the wire; "" is encoded as "/".
	Namespace string
	// ID is the acknowledgement id, or NoID (-1) when absent. Note that the
	// zero value 0 is a valid id: set NoID explicitly for packets without one.
	ID int64
	// Data is the JSON payload exactly as on the wire (binary placeholders
	// kept, surrounding whitespace trimmed), or nil when absent. It is never
	// re-marshalled.
	Data json.RawMessage
	// Attachments holds the binary attachments in placeholder order.
	Attachments [][]byte
}

// IsBinary reports whether p is written as BINARY_EVENT or BINARY_ACK, that is
// whether it has attachments or its Type says so.
func (p *Packet) IsBinary() bool {
	return p.Type == BinaryEvent || p.Type == BinaryAck ||
		(len(p.Attachments) > 0 && (p.Type == Event || p.Type == Ack))
}

// Validate reports whether p would be accepted by a Decoder once encoded, and
// returns the same error the Decoder would give otherwise. Encode does not
// validate, so call Validate on packets built from untrusted input.
func (p *Packet) Validate() error {
	if !p.Type.Valid() {
		return errorf(ErrUnknownType, "type %d", p.Type)
	}
	if p.Namespace != "" && (p.Namespace[0] != '/' || strings.IndexByte(p.Namespace, ',') >= 0) {
		return errorf(ErrInvalidNamespace, "%q", p.Namespace)
	}
	if p.ID < NoID {
		return errorf(ErrInvalidID, "negative id %d", p.ID)
	}
	if len(p.Attachments) > 0 && p.Type != Event && p.Type != Ack && p.Type != BinaryEvent && p.Type != BinaryAck {
		return errorf(ErrIllegalAttachments, "%s packet cannot carry attachments", p.Type)
	}
	data := p.Data
	if len(data) > 0 {
		data = trimSpace(data)
		if !validJSON(data) {
			return errorf(ErrInvalidPayload, "invalid JSON")
		}
	}
	if err := checkPayload(p.Type, data, p.ID != NoID); err != nil {
		return err
	}
	if len(p.Attachments) > 0 {
		return checkPlaceholders(data, len(p.Attachments))
	}
	return nil
}

// checkPayload applies the per-type payload rules to data, which is either
// empty (absent) or a valid JSON value without surrounding whitespace.
func checkPayload(t Type, data []byte, hasID bool) error {
	switch t {
	case Connect:
		if len(data) > 0 && data[0] != '{' {
			return errorf(ErrInvalidPayload, "CONNECT payload must be an object")
		}
	case Disconnect:
		if len(data) > 0 {
			return errorf(ErrInvalidPayload, "DISCONNECT takes no payload")
		}
	case ConnectError:
		if len(data) > 0 && data[0] != '{' && data[0] != '"' {
			return errorf(ErrInvalidPayload, "CONNECT_ERROR payload must be a string or an object")
		}
	case Event, BinaryEvent:
		if len(data) == 0 || data[0] != '[' {
			return errorf(ErrInvalidPayload, "%s payload must be an array", t)
		}
		// data is valid JSON, so the first byte of the first element tells its kind.
		i := skipSpace(data, 1)
		if c := data[i]; c != '"' && c != '-' && (c < '0' || c > '9') {
			return errorf(ErrInvalidPayload, "%s name must be a string or a number", t)
		}
	case Ack, BinaryAck:
		if len(data) == 0 || data[0] != '[' {
			return errorf(ErrInvalidPayload, "%s payload must be an array", t)
		}
		if !hasID {
			return errorf(ErrInvalidID, "%s without an id", t)
		}
	default:
		return errorf(ErrUnknownType, "type %d", t)
	}
	return nil
}
