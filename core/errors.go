package core

import (
	"errors"
	"fmt"
)

// ErrTimeout is returned by emits with acks when not every answer arrived in time.
// Its text is the one the Node.js server gives.
var ErrTimeout = errors.New("operation has timed out")

// ErrDisconnected is returned when emitting to or acking on a socket that is no longer connected.
var ErrDisconnected = errors.New("socket is disconnected")

// ErrAlreadyAcked is returned by Event.Ack when the event was already acknowledged.
var ErrAlreadyAcked = errors.New("event already acknowledged")

// ErrNoAck is returned by Event.Ack when the client did not ask for an acknowledgement.
var ErrNoAck = errors.New("event has no acknowledgement")

// ErrServerClosed is returned by operations on a closed server.
var ErrServerClosed = errors.New("server closed")

// ReservedEventError is returned when emitting an event name the protocol reserves.
type ReservedEventError struct{ Name string }

func (e *ReservedEventError) Error() string {
	return fmt.Sprintf("%q is a reserved event name", e.Name)
}

// ConnectError is the error a namespace middleware returns to refuse a
// connection with a message and optional data; the client receives both in its
// connect_error event. Any other error is sent with its text as the message.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }
