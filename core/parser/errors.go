package parser

import (
	"errors"
	"fmt"
)

// Errors returned by the Decoder, Packet.Validate and the helpers. Returned
// errors wrap one of these (test with errors.Is) and add detail.
var (
	// ErrUnknownType: the packet type is not a digit from 0 to 6.
	ErrUnknownType = errors.New("unknown packet type")
	// ErrIllegalAttachments: a malformed attachment count, or a placeholder
	// whose num is not an index of the attachments.
	ErrIllegalAttachments = errors.New("illegal attachments")
	// ErrTooManyAttachments: the attachment count exceeds Decoder.MaxAttachments.
	ErrTooManyAttachments = errors.New("too many attachments")
	// ErrInvalidNamespace: a namespace that does not start with "/" or contains ",".
	ErrInvalidNamespace = errors.New("invalid namespace")
	// ErrInvalidID: an ack id that overflows int64, or an ACK without an id.
	ErrInvalidID = errors.New("invalid ack id")
	// ErrInvalidPayload: invalid JSON, or a payload of the wrong kind for the packet type.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrUnexpectedBinary: a binary message arrived while no attachment was expected.
	ErrUnexpectedBinary = errors.New("got binary data when not reconstructing a packet")
	// ErrUnexpectedText: a text message arrived while attachments were still expected.
	ErrUnexpectedText = errors.New("got plaintext data when reconstructing a packet")
)

// errorf wraps a sentinel error with detail; used on error paths only.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("socket.io parser: %w: %s", sentinel, fmt.Sprintf(format, args...))
}
