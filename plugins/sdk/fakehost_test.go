package sdk

import (
	"encoding/json"
	"testing"

	"github.com/edged-io/edged/plugins/abi"
)

// fakeHost records the operations a plugin performs.
type fakeHost struct {
	input   []byte
	inAtts  [][]byte
	staged  [][]byte
	calls   []fakeCall
	results map[abi.Op]string // result JSON per op
	errs    map[abi.Op]int32  // negative return per op
	result  []byte
	logs    []string
	// handle, if set, answers ops dynamically: the result (or error text)
	// and the return of call; ok false falls back to results and errs.
	handle func(op abi.Op, req []byte) (res string, code int32, ok bool)
}

type fakeCall struct {
	op   abi.Op
	req  string
	atts [][]byte
}

func (h *fakeHost) inputRead(buf []byte) int32 {
	if len(h.input) <= len(buf) {
		copy(buf, h.input)
	}
	return int32(len(h.input))
}

func (h *fakeHost) attachmentRead(i int32, buf []byte) int32 {
	if int(i) >= len(h.inAtts) || i < 0 {
		return -1
	}
	a := h.inAtts[i]
	if len(a) <= len(buf) {
		copy(buf, a)
	}
	return int32(len(a))
}

func (h *fakeHost) attach(b []byte) int32 {
	h.staged = append(h.staged, append([]byte(nil), b...))
	return int32(len(h.staged) - 1)
}

func (h *fakeHost) call(op abi.Op, req []byte) int32 {
	if !json.Valid(req) {
		panic("invalid request JSON: " + string(req))
	}
	h.calls = append(h.calls, fakeCall{op: op, req: string(req), atts: h.staged})
	h.staged = nil
	if h.handle != nil {
		if res, code, ok := h.handle(op, req); ok {
			h.result = []byte(res)
			if code < 0 {
				return code
			}
			return int32(len(h.result))
		}
	}
	if code, ok := h.errs[op]; ok {
		h.result = []byte("refused by fake")
		return code
	}
	h.result = []byte(h.results[op])
	return int32(len(h.result))
}

func (h *fakeHost) resultRead(buf []byte) int32 {
	if len(h.result) <= len(buf) {
		copy(buf, h.result)
	}
	return int32(len(h.result))
}

func (h *fakeHost) log(level int32, msg []byte) { h.logs = append(h.logs, string(msg)) }

// install makes h the host and p the registered plugin for one test.
func install(t *testing.T, p *Plugin) *fakeHost {
	t.Helper()
	h := &fakeHost{results: map[abi.Op]string{}, errs: map[abi.Op]int32{}}
	oldHost, oldPlugin := host, registered
	host, registered = h, p
	t.Cleanup(func() { host, registered = oldHost, oldPlugin })
	return h
}

// on runs the dispatcher with input and returns the status.
func (h *fakeHost) on(kind abi.Kind, input string, atts ...[]byte) abi.Status {
	h.input = []byte(input)
	h.inAtts = atts
	h.calls = nil
	return doOn(kind, int32(len(input)))
}

// only returns the single call of op, failing the test otherwise.
func (h *fakeHost) only(t *testing.T, op abi.Op) fakeCall {
	t.Helper()
	var found []fakeCall
	for _, c := range h.calls {
		if c.op == op {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one call of op %d, got %d (calls %+v)", op, len(found), h.calls)
	}
	return found[0]
}
