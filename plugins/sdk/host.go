package sdk

import (
	"errors"
	"fmt"

	"github.com/edged-io/edged/plugins/abi"
)

// hostAPI is the set of host functions of ABI v1. The wasip1 build binds it
// to the edged_v1 imports; tests substitute a fake.
type hostAPI interface {
	inputRead(buf []byte) int32
	attachmentRead(index int32, buf []byte) int32
	attach(data []byte) int32
	call(op abi.Op, req []byte) int32
	resultRead(buf []byte) int32
	log(level int32, msg []byte)
}

// Errors of host operations; a *CallError matches one of them with errors.Is.
var (
	// ErrBadRequest means the host refused the request as malformed.
	ErrBadRequest = errors.New("bad request")
	// ErrUnknownOp means the host does not know the operation.
	ErrUnknownOp = errors.New("unknown operation")
	// ErrNotAllowed means the operation is not allowed in this call (for
	// example a reserved event name, or an ack outside an event with ack).
	ErrNotAllowed = errors.New("not allowed")
	// ErrNotFound means the socket is not connected (any more).
	ErrNotFound = errors.New("socket not found")
	// ErrTooLarge means the request or the output of the call exceeds the
	// plugin's output limit.
	ErrTooLarge = errors.New("too large")
	// ErrFailed means the operation failed in the host.
	ErrFailed = errors.New("operation failed")
	// ErrNoHost is returned outside a WebAssembly host (a native build of the SDK).
	ErrNoHost = errors.New("sdk: not running inside edged")
	// ErrTooManyAttachments means one call carried more than abi.MaxAttachments binary values.
	ErrTooManyAttachments = errors.New("sdk: too many binary attachments in one call")
)

// CallError is the error of a host operation that returned a negative code;
// Message is the host's explanation.
type CallError struct {
	Op      abi.Op
	Code    int32
	Message string
}

func (e *CallError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("edged op %d: %v", e.Op, e.Unwrap())
	}
	return fmt.Sprintf("edged op %d: %v: %s", e.Op, e.Unwrap(), e.Message)
}

// Unwrap returns the sentinel error of the code (ErrNotFound, ...).
func (e *CallError) Unwrap() error {
	switch e.Code {
	case abi.ErrBadRequest:
		return ErrBadRequest
	case abi.ErrUnknownOp:
		return ErrUnknownOp
	case abi.ErrNotAllowed:
		return ErrNotAllowed
	case abi.ErrNotFound:
		return ErrNotFound
	case abi.ErrTooLarge:
		return ErrTooLarge
	default:
		return ErrFailed
	}
}

// resBuf holds the result of the last call, reused across calls: an
// instance serves one call at a time, so package state is safe (the wasm
// guest is single-threaded).
var resBuf []byte

// grow returns b with length n, reallocating only when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n, n+n/4)
}

// readInput reads the current input (n bytes announced) into buf if it
// fits, else into a new buffer. The values decoded from it alias it instead
// of copying, so buf must not be reused.
func readInput(n int32, buf []byte) []byte {
	b := buf
	if int(n) > len(buf) {
		b = make([]byte, n)
	}
	for {
		need := host.inputRead(b)
		if need < 0 {
			return nil
		}
		if int(need) <= len(b) {
			return b[:need]
		}
		b = make([]byte, need)
	}
}

// readResult reads the result of the last call (n bytes announced).
func readResult(n int32) []byte {
	resBuf = grow(resBuf, int(n))
	for {
		need := host.resultRead(resBuf)
		if need <= 0 {
			return nil
		}
		if int(need) <= len(resBuf) {
			return resBuf[:need]
		}
		resBuf = grow(resBuf, int(need))
	}
}

// readAttachment reads attachment index of the input (or of the last result
// that had attachments) into a fresh slice; ok is false if it does not exist.
func readAttachment(index int) ([]byte, bool) {
	need := host.attachmentRead(int32(index), nil)
	if need < 0 {
		return nil, false
	}
	b := make([]byte, need)
	for {
		got := host.attachmentRead(int32(index), b)
		if got < 0 {
			return nil, false
		}
		if int(got) <= len(b) {
			return b[:got], true
		}
		b = make([]byte, got)
	}
}

// callOp performs op with the request req and the staged attachments and
// returns its result, valid until the next host call.
func callOp(op abi.Op, req []byte, atts [][]byte) ([]byte, error) {
	if len(atts) > abi.MaxAttachments {
		return nil, ErrTooManyAttachments
	}
	for _, a := range atts {
		if host.attach(a) < 0 {
			return nil, &CallError{Op: op, Code: abi.ErrTooLarge, Message: "attach refused"}
		}
	}
	n := host.call(op, req)
	if n < 0 {
		msg := ""
		if need := host.resultRead(nil); need > 0 {
			msg = string(readResult(need))
		}
		return nil, &CallError{Op: op, Code: n, Message: msg}
	}
	if n == 0 {
		return nil, nil
	}
	return readResult(n), nil
}
