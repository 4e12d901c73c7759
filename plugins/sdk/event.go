package sdk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/edged-io/edged/plugins/abi"
)

// Args is a list of arguments. Returned by an EventHandler it acknowledges
// with several arguments instead of one; as a value inside arguments it is
// a JSON array.
type Args []any

// RawArgs is an argument array already encoded as JSON (binary values as
// placeholders {"_placeholder":true,"num":N}) with the attachments the
// placeholders refer to. It passes arguments through without decoding them;
// returned by an EventHandler it acknowledges with exactly these arguments.
type RawArgs struct {
	JSON        json.RawMessage
	Attachments [][]byte
}

// ErrAckTimeout is the error of an AckResult when the client(s) did not
// answer in time.
var ErrAckTimeout = errors.New("operation has timed out")

// inputAtts caches the attachments of the current input, read on demand.
var inputAtts struct {
	list [][]byte
	all  bool // every attachment has been read
}

func resetInputAttachments() {
	clear(inputAtts.list)
	inputAtts.list = inputAtts.list[:0]
	inputAtts.all = false
}

// inputAttachment returns attachment n of the current input.
func inputAttachment(n int) ([]byte, error) {
	if n < len(inputAtts.list) && inputAtts.list[n] != nil {
		return inputAtts.list[n], nil
	}
	b, ok := readAttachment(n)
	if !ok {
		return nil, fmt.Errorf("sdk: no binary attachment %d", n)
	}
	for len(inputAtts.list) <= n {
		inputAtts.list = append(inputAtts.list, nil)
	}
	inputAtts.list[n] = b
	return b, nil
}

// allInputAttachments returns every attachment of the current input.
func allInputAttachments() [][]byte {
	if !inputAtts.all {
		for i := 0; ; i++ {
			if _, err := inputAttachment(i); err != nil {
				break
			}
		}
		inputAtts.all = true
	}
	return inputAtts.list
}

// argList is the decoded view of a JSON argument array.
type argList struct {
	raw   json.RawMessage
	items []json.RawMessage
	split bool
	err   error
}

func (a *argList) elems() ([]json.RawMessage, error) {
	if !a.split {
		a.split = true
		if len(a.raw) > 0 {
			err := eachElement(a.raw, func(v []byte) error {
				a.items = append(a.items, v)
				return nil
			})
			if err != nil {
				a.items, a.err = nil, fmt.Errorf("sdk: arguments are not a JSON array: %w", err)
			}
		}
	}
	return a.items, a.err
}

func (a *argList) bind(ptrs []any) error {
	items, err := a.elems()
	if err != nil {
		return err
	}
	for i, p := range ptrs {
		if i >= len(items) {
			break
		}
		if p == nil {
			continue
		}
		if n, ok := placeholderNum(items[i]); ok {
			switch bp := p.(type) {
			case *[]byte:
				b, err := inputAttachment(n)
				if err != nil {
					return err
				}
				*bp = b
				continue
			case *any:
				b, err := inputAttachment(n)
				if err != nil {
					return err
				}
				*bp = b
				continue
			}
		}
		if err := bindOne(items[i], p); err != nil {
			return &ArgError{Index: i, Err: err}
		}
	}
	return nil
}

// bindOne decodes one argument, with fast paths for the common pointer
// types (encoding/json is slow in a WebAssembly guest). JSON null leaves
// the pointer untouched, as with encoding/json.
func bindOne(v json.RawMessage, p any) error {
	if string(v) == "null" {
		return json.Unmarshal(v, p)
	}
	switch p := p.(type) {
	case *string:
		s, ok := parseString(v)
		if !ok {
			return mismatch(v, "string")
		}
		*p = s
	case *bool:
		b, ok := parseBool(v)
		if !ok {
			return mismatch(v, "bool")
		}
		*p = b
	case *float64:
		f, ok := parseNumber(v)
		if !ok {
			return mismatch(v, "number")
		}
		*p = f
	case *int:
		n, ok := parseInt(v)
		if !ok || !validNumber(v) {
			return mismatch(v, "integer")
		}
		*p = int(n)
	case *int64:
		n, ok := parseInt(v)
		if !ok || !validNumber(v) {
			return mismatch(v, "integer")
		}
		*p = n
	case *json.RawMessage:
		*p = append((*p)[:0], v...)
	default:
		return json.Unmarshal(v, p)
	}
	return nil
}

func validNumber(v []byte) bool { _, ok := parseNumber(v); return ok }

// mismatch is the error of a JSON value that is not of the wanted kind.
func mismatch(v []byte, want string) error {
	got := "value"
	if len(v) > 0 {
		switch v[0] {
		case '"':
			got = "string"
		case '{':
			got = "object"
		case '[':
			got = "array"
		case 't', 'f':
			got = "bool"
		default:
			got = "number"
		}
	}
	return fmt.Errorf("want a %s, got a %s", want, got)
}

// ArgError is the error of Bind when argument Index does not decode into
// the given pointer (a wrong type, typically).
type ArgError struct {
	Index int
	Err   error
}

func (e *ArgError) Error() string { return fmt.Sprintf("argument %d: %v", e.Index, e.Err) }

// Unwrap returns the decoding error.
func (e *ArgError) Unwrap() error { return e.Err }

// rawArg returns element i as a one-element RawArgs with the input's
// attachments when it refers to any.
func (a *argList) rawArg(i int) (RawArgs, error) {
	items, err := a.elems()
	if err != nil {
		return RawArgs{}, err
	}
	if i < 0 || i >= len(items) {
		return RawArgs{JSON: json.RawMessage("[]")}, nil
	}
	js := make(json.RawMessage, 0, len(items[i])+2)
	js = append(append(append(js, '['), items[i]...), ']')
	r := RawArgs{JSON: js}
	if hasPlaceholder(items[i]) {
		r.Attachments = allInputAttachments()
	}
	return r, nil
}

// Event is one event received from a client (or, for OnServerSide, from
// another node). It is valid during the handler call only.
type Event struct {
	// Name is the event name.
	Name string
	// Args is the JSON array of the arguments, without the name and the ack
	// callback; binary values are placeholders (read them with Bind or Binary).
	Args json.RawMessage
	// Namespace is the namespace of a server-side event (empty otherwise;
	// use Socket.Namespace).
	Namespace string

	list  argList
	ack   bool
	acked bool
}

// HasAck reports whether the sender asked for an acknowledgement that has
// not been sent yet.
func (e *Event) HasAck() bool { return e.ack && !e.acked }

// Len returns the number of arguments.
func (e *Event) Len() int {
	items, _ := e.list.elems()
	return len(items)
}

// Arg returns argument i as raw JSON, or nil if there is no such argument.
func (e *Event) Arg(i int) json.RawMessage {
	items, _ := e.list.elems()
	if i < 0 || i >= len(items) {
		return nil
	}
	return items[i]
}

// Bind decodes the arguments, in order, into the pointers (json.Unmarshal
// rules; a nil pointer skips an argument). Missing arguments leave their
// pointers untouched; a binary argument decodes into *[]byte or *any. A
// wrong type is an *ArgError.
func (e *Event) Bind(ptrs ...any) error { return e.list.bind(ptrs) }

// Binary returns binary attachment n (the num of a placeholder).
func (e *Event) Binary(n int) ([]byte, error) { return inputAttachment(n) }

// Raw returns the arguments as they arrived, with their attachments, ready
// to be emitted or acknowledged again without decoding.
func (e *Event) Raw() (RawArgs, error) {
	r := RawArgs{JSON: e.Args}
	if len(r.JSON) == 0 {
		r.JSON = json.RawMessage("[]")
	}
	if hasPlaceholder(e.Args) {
		r.Attachments = allInputAttachments()
	}
	return r, nil
}

// RawArg returns argument i alone as RawArgs (with the attachments it may
// refer to), to pass one argument through without decoding it.
func (e *Event) RawArg(i int) (RawArgs, error) { return e.list.rawArg(i) }

// Ack acknowledges the event with args ([]byte values travel as binary).
// It does nothing when the sender did not ask for an ack or it was already
// sent.
func (e *Event) Ack(args ...any) error {
	if !e.HasAck() {
		return nil
	}
	w := begin()
	w.field("args")
	if err := w.args(args); err != nil {
		return err
	}
	e.acked = true
	_, err := w.send(abi.OpAck)
	return err
}

// AckRaw acknowledges the event with already encoded arguments.
func (e *Event) AckRaw(r RawArgs) error {
	if !e.HasAck() {
		return nil
	}
	w := begin()
	w.field("args")
	w.raw(r)
	e.acked = true
	_, err := w.send(abi.OpAck)
	return err
}

// ackValue acknowledges with a handler's return value.
func (e *Event) ackValue(v any) error {
	switch v := v.(type) {
	case RawArgs:
		return e.AckRaw(v)
	case *RawArgs:
		return e.AckRaw(*v)
	case Args:
		return e.Ack(v...)
	default:
		return e.Ack(v)
	}
}

// AckResult is the answer to an EmitWithAck: the client's arguments, or
// for a broadcast or ServerSideEmit one answer per recipient.
type AckResult struct {
	// Args is the JSON array of the acknowledgement arguments (single socket).
	Args json.RawMessage
	// Responses holds one argument array per recipient (broadcast and
	// server-side emits).
	Responses []json.RawMessage
	// Err is ErrAckTimeout when an answer did not arrive in time, another
	// error for other failures, nil on success.
	Err error

	list argList
}

// Bind decodes Args into the pointers, like Event.Bind.
func (r *AckResult) Bind(ptrs ...any) error { return r.list.bind(ptrs) }

// Binary returns binary attachment n of the answer.
func (r *AckResult) Binary(n int) ([]byte, error) { return inputAttachment(n) }
