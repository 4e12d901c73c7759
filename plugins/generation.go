package plugins

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/edged-io/edged/plugins/abi"
)

// generation is one loaded version of a plugin: its runtime (limits),
// compiled module, declaration and a bounded pool of instances. It is
// reference counted: the route table holds one reference, every running call
// and every pending emit-with-ack another; the last release closes it.
type generation struct {
	m        *Manager
	name     string
	version  string // sha256 prefix of the .wasm
	hash     [32]byte
	set      settings
	decl     abi.Declaration
	events   map[string]bool
	server   map[string]bool
	patterns []*regexp.Regexp
	log      *slog.Logger

	rt       wazero.Runtime
	compiled wazero.CompiledModule
	// instrumented: the module checks its fuel and yields to the host
	// (instrument.go), which enforces the call deadline instead of wazero.
	instrumented bool

	sem  chan struct{} // one token per live or starting instance
	mu   sync.Mutex
	idle []*instance

	refs    atomic.Int64
	crashes atomic.Int64 // consecutive faults, for the instantiation backoff
	lastBad atomic.Int64 // unix nanos of the last fault
}

// instance is one instantiated module; it serves one call at a time.
type instance struct {
	g   *generation
	mod api.Module
	mem api.Memory
	on  api.Function
	// deadline of the running call (unix nanoseconds) for an instrumented
	// module, checked when the guest yields; 0 when there is none
	deadline int64
	stack    [2]uint64
	cs       *callState // the call running now
	ctx      callCtx    // the context of every edged_on call
}

// callCtx is an instance's reusable context for its calls: it carries the
// instance for the host functions and, unless the plugin is trusted, the
// per-call deadline. An instrumented module's deadline is a time the guest's
// yields check (hostYield). For other modules it is a timer armed before
// each call and disarmed after it, instead of a context.WithTimeout per call
// (a timer, a cancel context and five allocations every call); when it fires
// it closes Done, and wazero then closes the module. Once the deadline has
// passed the instance is never reused, even when the timer fired just after
// its call returned.
type callCtx struct {
	context.Context // Background: no deadline, no values of its own
	inst            *instance
	done            chan struct{} // nil for a trusted plugin: never done
	fired           atomic.Bool
	timer           *time.Timer
}

func (c *callCtx) Done() <-chan struct{} { return c.done }

func (c *callCtx) Err() error {
	if c.fired.Load() {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *callCtx) Value(key any) any {
	if _, ok := key.(instanceKey); ok {
		return c.inst
	}
	return nil
}

func (c *callCtx) expire() {
	c.fired.Store(true)
	close(c.done)
}

// arm starts the deadline of one call.
func (c *callCtx) arm(d time.Duration) {
	if c.inst.g.instrumented {
		c.inst.deadline = time.Now().Add(d).UnixNano()
		return
	}
	if c.timer != nil {
		c.timer.Reset(d)
	}
}

// disarm stops the deadline; it reports false when the deadline fired, and
// the instance must then be discarded.
func (c *callCtx) disarm() bool {
	if c.timer == nil {
		return true
	}
	return c.timer.Stop() && !c.fired.Load()
}

type instanceKey struct{}

// version returns the short hash that names a plugin version.
func versionOf(sum [32]byte) string { return hex.EncodeToString(sum[:6]) }

// loadGeneration compiles, validates and initialises a plugin version.
func (m *Manager) loadGeneration(ctx context.Context, name string, wasm, settingsData []byte) (*generation, error) {
	set, err := parseSettings(name, settingsData, m.opts.Limits)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	g := &generation{
		m:       m,
		name:    name,
		version: versionOf(sum),
		hash:    combinedHash(wasm, settingsData),
		set:     set,
		sem:     make(chan struct{}, set.PoolSize),
	}
	g.log = m.log.With("plugin", name, "version", g.version)
	code := wasm
	if !set.Trusted {
		// Fuel checks and yields bound calls at a fraction of the cost of
		// wazero's CloseOnContextDone, which remains for modules they cannot
		// be added to.
		if instrumented, err := instrument(wasm); err == nil {
			code, g.instrumented = instrumented, true
		} else {
			g.log.Debug("plugin not instrumented; wazero enforces the call deadline", "reason", err)
		}
	}
	cfg := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(set.MemoryPages).
		WithCloseOnContextDone(!set.Trusted && !g.instrumented).
		WithCompilationCache(m.cache)
	g.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	ok := false
	defer func() {
		if !ok {
			_ = g.rt.Close(context.Background())
		}
	}()
	g.compiled, err = g.rt.CompileModule(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: not a WebAssembly module: %w", name, err)
	}
	if err := validate(name, g.compiled, g.instrumented); err != nil {
		return nil, err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, g.rt); err != nil {
		return nil, fmt.Errorf("plugin %s: instantiate WASI: %w", name, err)
	}
	if err := instantiateHost(ctx, g.rt); err != nil {
		return nil, fmt.Errorf("plugin %s: instantiate host module: %w", name, err)
	}
	g.sem <- struct{}{}
	inst, decl, err := g.newInstance(ctx)
	if err != nil {
		<-g.sem
		return nil, err
	}
	if len(decl.Namespaces) == 0 && len(decl.NamespacePatterns) == 0 {
		inst.close()
		<-g.sem
		return nil, fmt.Errorf("plugin %s: declares no namespace", name)
	}
	g.decl = *decl
	g.events = make(map[string]bool, len(decl.Events))
	for _, e := range decl.Events {
		g.events[e] = true
	}
	g.server = make(map[string]bool, len(decl.ServerSide))
	for _, e := range decl.ServerSide {
		g.server[e] = true
	}
	for _, p := range decl.NamespacePatterns {
		re, err := regexp.Compile(p)
		if err != nil {
			inst.close()
			<-g.sem
			return nil, fmt.Errorf("plugin %s: namespace pattern %q: %w", name, p, err)
		}
		g.patterns = append(g.patterns, re)
	}
	g.put(inst)
	g.refs.Store(1)
	ok = true
	return g, nil
}

func combinedHash(wasm, settingsData []byte) [32]byte {
	h := sha256.New()
	h.Write(wasm)
	h.Write([]byte{0})
	h.Write(settingsData)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// newInstance instantiates the module and runs _initialize and edged_init;
// it returns the declaration made during init.
func (g *generation) newInstance(ctx context.Context) (*instance, *abi.Declaration, error) {
	logw := &guestWriter{log: g.log}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(logw).
		WithStderr(logw).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
	if !g.set.Trusted {
		// a start function runs during instantiation, under the call deadline
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.set.CallTimeout)
		defer cancel()
	}
	mod, err := g.rt.InstantiateModule(ctx, g.compiled, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin %s: instantiate: %w", g.name, err)
	}
	inst := &instance{g: g, mod: mod, mem: mod.Memory(), on: mod.ExportedFunction(abi.ExportOn)}
	inst.ctx = callCtx{Context: context.Background(), inst: inst}
	if inst.mem == nil {
		_ = mod.Close(ctx)
		return nil, nil, fmt.Errorf("plugin %s: missing export %q", g.name, abi.ExportMemory)
	}
	if !g.set.Trusted && !g.instrumented {
		inst.ctx.done = make(chan struct{})
		inst.ctx.timer = time.AfterFunc(time.Hour, inst.ctx.expire)
		inst.ctx.timer.Stop()
	}
	input, _ := json.Marshal(struct {
		Name    string          `json:"name"`
		Version string          `json:"version"`
		Config  json.RawMessage `json:"config"`
	}{g.name, g.version, g.set.Config})
	cs := &callState{g: g, init: true, input: input}
	inst.cs = cs
	defer func() { inst.cs = nil }()
	if f := mod.ExportedFunction(abi.ExportInitialize); f != nil {
		if err := inst.invokeOnce(f, nil); err != nil {
			inst.close()
			return nil, nil, fmt.Errorf("plugin %s: init trapped: %w", g.name, err)
		}
	}
	stack := []uint64{uint64(len(input))}
	if err := inst.invokeOnce(mod.ExportedFunction(abi.ExportInit), stack); err != nil {
		inst.close()
		return nil, nil, fmt.Errorf("plugin %s: init trapped: %w", g.name, err)
	}
	if status := int32(stack[0]); status != 0 {
		inst.close()
		if cs.rejectMsg != "" {
			return nil, nil, fmt.Errorf("plugin %s: init failed with status %d: %s", g.name, status, cs.rejectMsg)
		}
		return nil, nil, fmt.Errorf("plugin %s: init failed with status %d", g.name, status)
	}
	if cs.decl == nil {
		cs.decl = &abi.Declaration{}
	}
	return inst, cs.decl, nil
}

// invoke calls f with the instance's reusable call context and deadline
// (see callCtx), turning a panic into an error; ok is false when the
// deadline fired, even after a normal return.
func (inst *instance) invoke(f api.Function, stack []uint64) (ok bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("host panic: %v", v)
		}
	}()
	inst.ctx.arm(inst.g.set.CallTimeout)
	err = f.CallWithStack(&inst.ctx, stack)
	ok = inst.ctx.disarm()
	if err != nil && inst.ctx.fired.Load() {
		err = inst.deadlineError()
	}
	return ok, err
}

// errCallDeadline stops an instrumented guest that yields past its deadline.
var errCallDeadline = errors.New("call ran past its deadline")

// deadlineError is the error of a call of inst that ran past its deadline.
func (inst *instance) deadlineError() error {
	return fmt.Errorf("%w (call_timeout_ms %d): %w", errCallDeadline, inst.g.set.CallTimeout.Milliseconds(), context.DeadlineExceeded)
}

// invokeOnce is invoke for the init calls: a deadline that fired is an
// error even when the call returned.
func (inst *instance) invokeOnce(f api.Function, stack []uint64) error {
	ok, err := inst.invoke(f, stack)
	if err == nil && !ok {
		err = inst.deadlineError()
	}
	return err
}

// run calls edged_on; see invoke.
func (inst *instance) run() (ok bool, err error) { return inst.invoke(inst.on, inst.stack[:]) }

func (inst *instance) close() {
	if inst.ctx.timer != nil {
		inst.ctx.timer.Stop()
	}
	_ = inst.mod.Close(context.Background())
}

// get returns an idle instance or starts a new one, waiting while the pool is
// at its bound.
func (g *generation) get(ctx context.Context) (*instance, error) {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	if n := len(g.idle); n > 0 {
		inst := g.idle[n-1]
		g.idle = g.idle[:n-1]
		g.mu.Unlock()
		return inst, nil
	}
	g.mu.Unlock()
	if err := g.backoff(ctx); err != nil {
		<-g.sem
		return nil, err
	}
	inst, _, err := g.newInstance(context.Background())
	if err != nil {
		<-g.sem
		g.fault()
		return nil, err
	}
	return inst, nil
}

// backoff delays a new instance after repeated faults: 10ms doubling per
// consecutive crash, at most 1s.
func (g *generation) backoff(ctx context.Context) error {
	n := g.crashes.Load()
	if n < 3 {
		return nil
	}
	d := min(10*time.Millisecond<<min(n-3, 7), time.Second)
	wait := time.Until(time.Unix(0, g.lastBad.Load()).Add(d))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *generation) fault() {
	g.crashes.Add(1)
	g.lastBad.Store(time.Now().UnixNano())
}

// put returns a healthy instance to the pool.
func (g *generation) put(inst *instance) {
	g.mu.Lock()
	g.idle = append(g.idle, inst)
	g.mu.Unlock()
	<-g.sem
}

// discard closes a faulty instance; a fresh one replaces it on demand.
func (g *generation) discard(inst *instance) {
	inst.close()
	<-g.sem
}

func (g *generation) acquire() bool {
	for {
		n := g.refs.Load()
		if n <= 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (g *generation) release() {
	if g.refs.Add(-1) == 0 {
		g.close()
	}
}

func (g *generation) close() {
	g.mu.Lock()
	idle := g.idle
	g.idle = nil
	g.mu.Unlock()
	for _, inst := range idle {
		inst.close()
	}
	_ = g.rt.Close(context.Background())
	g.log.Debug("plugin version closed")
}

// errPluginFault is the text a client sees for a trapped or timed-out call.
const errPluginFault = "plugin error"

// call runs edged_on(kind) with the call state's input on a pooled instance.
// A trap, deadline or memory exhaustion returns an error and discards the
// instance.
func (g *generation) call(cs *callState) (abi.Status, error) {
	obs := g.m.opts.Observer
	var start time.Time
	if obs != nil {
		start = time.Now()
	}
	inst, err := g.get(context.Background())
	if err != nil {
		g.log.Error("plugin call failed", "kind", int32(cs.kind), "err", err)
		if obs != nil {
			g.observe(obs, cs.kind, start, OutcomeError)
		}
		return abi.StatusError, err
	}
	inst.cs = cs
	inst.stack[0] = uint64(uint32(cs.kind))
	inst.stack[1] = uint64(len(cs.input))
	ok, err := inst.run()
	inst.cs = nil
	if err == nil && !ok {
		// the deadline fired as the call returned: its result stands, but
		// the instance's context is spent
		g.discard(inst)
		if obs != nil {
			g.observe(obs, cs.kind, start, statusOutcome(abi.Status(int32(inst.stack[0]))))
		}
		return abi.Status(int32(inst.stack[0])), nil
	}
	if err != nil {
		outcome := ""
		if obs != nil {
			outcome = g.faultOutcome(inst, err)
		}
		g.discard(inst)
		g.fault()
		g.log.Error("plugin call failed", "kind", int32(cs.kind), "err", err)
		if obs != nil {
			g.observe(obs, cs.kind, start, outcome)
		}
		return abi.StatusError, err
	}
	status := abi.Status(int32(inst.stack[0]))
	g.crashes.Store(0)
	g.put(inst)
	if obs != nil {
		g.observe(obs, cs.kind, start, statusOutcome(status))
	}
	return status, nil
}

// guestWriter logs a guest's stdout/stderr at debug level.
type guestWriter struct{ log *slog.Logger }

func (w *guestWriter) Write(p []byte) (int, error) {
	w.log.Debug("plugin output", "text", string(trimOutput(p)))
	return len(p), nil
}

func trimOutput(p []byte) []byte {
	const max = 4096
	if len(p) > max {
		p = p[:max]
	}
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
