package core

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/edged-io/edged/core/parser"
)

// Event is one event received from (or, for outgoing listeners, sent to) a client.
type Event struct {
	// Name is the event name, the first element of the wire array.
	Name string
	// Args are the remaining arguments.
	Args Payload
	// Socket is the socket the event arrived on.
	Socket *Socket

	ackID    int64 // -1: the client asked for no ack
	acked    atomic.Bool
	received time.Time // set when an Observer wants the ack latency
}

// HasAck reports whether the client asked for an acknowledgement.
func (e *Event) HasAck() bool { return e.ackID >= 0 && e.Socket != nil }

// Ack answers the client's acknowledgement with the given values; []byte
// values travel as binary. It may be called once, from any goroutine.
func (e *Event) Ack(args ...any) error {
	p, err := NewPayload(args...)
	if err != nil {
		return err
	}
	return e.AckPayload(p)
}

// AckPayload answers the acknowledgement with arguments already in wire form.
func (e *Event) AckPayload(p Payload) error {
	if !e.HasAck() {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	if err := e.Socket.sendAck(e.ackID, p); err != nil {
		return err
	}
	if obs := e.Socket.nsp.server.opts.Observer; obs != nil && !e.received.IsZero() {
		obs.ServerAckLatency(e.Socket.nsp.name, time.Since(e.received))
	}
	return nil
}

// Ack is a client's answer to an emit with acknowledgement.
type Ack struct {
	// SocketID is the id of the socket that answered.
	SocketID string
	Payload
}

// eventData builds the wire array ["name", ...args].
func eventData(name string, args json.RawMessage) (json.RawMessage, error) {
	nameJSON, err := json.Marshal(name)
	if err != nil {
		return nil, fmt.Errorf("encode event name: %w", err)
	}
	out := make([]byte, 0, len(nameJSON)+len(args)+2)
	out = append(out, '[')
	out = append(out, nameJSON...)
	inner := trimArray(args)
	if len(inner) > 0 {
		out = append(out, ',')
		out = append(out, inner...)
	}
	return append(out, ']'), nil
}

// trimArray returns the inside of a JSON array without its brackets and
// surrounding space; empty for "[]" or nil.
func trimArray(a json.RawMessage) []byte {
	s, e := 0, len(a)
	for s < e && isSpace(a[s]) {
		s++
	}
	for e > s && isSpace(a[e-1]) {
		e--
	}
	if e-s < 2 || a[s] != '[' || a[e-1] != ']' {
		return nil
	}
	s++
	e--
	for s < e && isSpace(a[s]) {
		s++
	}
	for e > s && isSpace(a[e-1]) {
		e--
	}
	return a[s:e]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendToArray returns a copy of the JSON array a with the JSON value v appended.
func appendToArray(a json.RawMessage, v []byte) json.RawMessage {
	inner := trimArray(a)
	out := make([]byte, 0, len(inner)+len(v)+3)
	out = append(out, '[')
	out = append(out, inner...)
	if len(inner) > 0 {
		out = append(out, ',')
	}
	out = append(out, v...)
	return append(out, ']')
}

// newEventPacket builds an EVENT packet for name and args.
func newEventPacket(nsp, name string, args Payload) (*parser.Packet, error) {
	if parser.IsReservedEvent(name) {
		return nil, &ReservedEventError{Name: name}
	}
	data, err := eventData(name, args.Data)
	if err != nil {
		return nil, err
	}
	return &parser.Packet{Type: parser.Event, Namespace: nsp, ID: -1, Data: data, Attachments: args.Attachments}, nil
}
