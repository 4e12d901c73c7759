package plugins

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/plugins/abi"
)

// callState is what the host functions see of the call running on an
// instance: its input, the current socket/event, staged attachments, the
// result of the last op and the error set with op reject.
type callState struct {
	g     *generation
	kind  abi.Kind
	init  bool
	input []byte
	inAtt [][]byte

	nsp    *core.Namespace
	socket *core.Socket
	event  *core.Event
	ssAck  func(args ...any) // the answer of a server-side emit, nil when none
	acked  bool

	staged      [][]byte
	stagedBytes int

	result    []byte
	resultAtt [][]byte // attachments of the last result, nil when it had none

	rejected   bool
	rejectMsg  string
	rejectData json.RawMessage

	decl *abi.Declaration
}

// attachments returns what attachment_read reads: the last result's
// attachments when it had some, else the input's.
func (cs *callState) attachments() [][]byte {
	if cs.resultAtt != nil {
		return cs.resultAtt
	}
	return cs.inAtt
}

func callStateOf(ctx context.Context) *callState {
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	if inst == nil {
		return nil
	}
	return inst.cs
}

// instantiateHost registers the edged_v1 host functions in rt.
func instantiateHost(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(abi.ModuleName)
	add := func(name string, fn api.GoModuleFunc) {
		sig := hostSignatures[name]
		b.NewFunctionBuilder().WithGoModuleFunction(fn, sig[0], sig[1]).Export(name)
	}
	add(abi.FuncInputRead, hostInputRead)
	add(abi.FuncAttachmentRead, hostAttachmentRead)
	add(abi.FuncAttach, hostAttach)
	add(abi.FuncCall, hostCall)
	add(abi.FuncResultRead, hostResultRead)
	add(abi.FuncLog, hostLog)
	if _, err := b.Instantiate(ctx); err != nil {
		return err
	}
	_, err := rt.NewHostModuleBuilder(yieldModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostYield), nil, []api.ValueType{api.ValueTypeI32}).
		Export(yieldName).
		Instantiate(ctx)
	return err
}

// hostYield is called by an instrumented guest every yieldFuel checks
// (instrument.go): past the call's deadline it traps the guest, otherwise it
// returns fresh fuel. Being Go code, it is also where the runtime can
// preempt a guest that computes for long.
func hostYield(ctx context.Context, _ api.Module, stack []uint64) {
	inst, _ := ctx.Value(instanceKey{}).(*instance)
	switch {
	case inst != nil:
		if inst.deadline != 0 && time.Now().UnixNano() > inst.deadline {
			inst.ctx.fired.Store(true)
			panic(errCallDeadline)
		}
	case ctx.Err() != nil:
		// the module's start function, run by the instantiation
		panic(errCallDeadline)
	}
	stack[0] = yieldFuel
}

// readInto implements the (buf, limit) -> needed convention.
func readInto(mod api.Module, data []byte, buf, limit uint32) int32 {
	if uint64(len(data)) > uint64(limit) || len(data) == 0 {
		return int32(len(data))
	}
	if !mod.Memory().Write(buf, data) {
		return abi.ErrBadRequest
	}
	return int32(len(data))
}

func hostInputRead(ctx context.Context, mod api.Module, stack []uint64) {
	cs := callStateOf(ctx)
	if cs == nil {
		stack[0] = api.EncodeI32(abi.ErrNotAllowed)
		return
	}
	stack[0] = api.EncodeI32(readInto(mod, cs.input, api.DecodeU32(stack[0]), api.DecodeU32(stack[1])))
}

func hostResultRead(ctx context.Context, mod api.Module, stack []uint64) {
	cs := callStateOf(ctx)
	if cs == nil {
		stack[0] = api.EncodeI32(abi.ErrNotAllowed)
		return
	}
	stack[0] = api.EncodeI32(readInto(mod, cs.result, api.DecodeU32(stack[0]), api.DecodeU32(stack[1])))
}

func hostAttachmentRead(ctx context.Context, mod api.Module, stack []uint64) {
	cs := callStateOf(ctx)
	idx := api.DecodeI32(stack[0])
	if cs == nil {
		stack[0] = api.EncodeI32(-1)
		return
	}
	att := cs.attachments()
	if idx < 0 || int(idx) >= len(att) {
		stack[0] = api.EncodeI32(-1)
		return
	}
	stack[0] = api.EncodeI32(readInto(mod, att[idx], api.DecodeU32(stack[1]), api.DecodeU32(stack[2])))
}

func hostAttach(ctx context.Context, mod api.Module, stack []uint64) {
	cs := callStateOf(ctx)
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if cs == nil {
		stack[0] = api.EncodeI32(abi.ErrNotAllowed)
		return
	}
	if len(cs.staged) >= abi.MaxAttachments || uint64(cs.stagedBytes)+uint64(n) > uint64(cs.g.set.MaxOutputBytes) {
		stack[0] = api.EncodeI32(abi.ErrTooLarge)
		return
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		stack[0] = api.EncodeI32(abi.ErrBadRequest)
		return
	}
	cs.staged = append(cs.staged, append([]byte(nil), b...))
	cs.stagedBytes += int(n)
	stack[0] = api.EncodeI32(int32(len(cs.staged) - 1))
}

func hostCall(ctx context.Context, mod api.Module, stack []uint64) {
	cs := callStateOf(ctx)
	op, ptr, n := abi.Op(api.DecodeI32(stack[0])), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	if cs == nil {
		stack[0] = api.EncodeI32(abi.ErrNotAllowed)
		return
	}
	stack[0] = api.EncodeI32(cs.doCall(ctx, mod, op, ptr, n))
}

func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	cs := callStateOf(ctx)
	if cs == nil {
		return
	}
	const maxLog = 16 << 10
	n = min(n, maxLog)
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return
	}
	lvl := slog.LevelDebug
	switch level {
	case abi.LogInfo:
		lvl = slog.LevelInfo
	case abi.LogWarn:
		lvl = slog.LevelWarn
	case abi.LogError:
		lvl = slog.LevelError
	}
	cs.g.log.Log(ctx, lvl, string(b))
}

// doCall runs one op and returns its result length or a negative error; the
// result (or the error text) is left for result_read.
func (cs *callState) doCall(ctx context.Context, mod api.Module, op abi.Op, ptr, n uint32) int32 {
	staged := cs.staged
	cs.staged, cs.stagedBytes = nil, 0
	cs.result, cs.resultAtt = nil, nil
	if uint64(n) > uint64(cs.g.set.MaxOutputBytes) {
		return cs.fail(abi.ErrTooLarge, "request exceeds the plugin's output limit")
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return cs.fail(abi.ErrBadRequest, "request is outside the guest memory")
	}
	req := b
	if len(req) == 0 {
		req = []byte("{}")
	}
	if !json.Valid(req) {
		return cs.fail(abi.ErrBadRequest, "request is not valid JSON")
	}
	res, att, code, err := cs.op(ctx, op, req, staged)
	if code < 0 {
		msg := "failed"
		if err != nil {
			msg = err.Error()
		}
		return cs.fail(code, msg)
	}
	if len(res) > cs.g.set.MaxOutputBytes {
		return cs.fail(abi.ErrTooLarge, "result exceeds the plugin's output limit")
	}
	cs.result, cs.resultAtt = res, att
	return int32(len(res))
}

func (cs *callState) fail(code int32, msg string) int32 {
	cs.result = []byte(msg)
	cs.resultAtt = nil
	return code
}
