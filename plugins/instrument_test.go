package plugins

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// rawModule assembles a module of one function of type () -> () with the
// given body (locals vector included) and optional extra sections.
func rawModule(body []byte, extra ...[]byte) []byte {
	sec := func(id byte, content []byte) []byte {
		return append(appendU32([]byte{id}, uint32(len(content))), content...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, []byte{1, 0x60, 0, 0})...) // type: () -> ()
	m = append(m, sec(3, []byte{1, 0})...)          // one function of type 0
	for _, e := range extra {
		m = append(m, e...)
	}
	code := appendU32([]byte{1}, uint32(len(body)))
	return append(m, sec(10, append(code, body...))...)
}

func TestInstrumentRefuses(t *testing.T) {
	tests := []struct {
		name       string
		wasm       []byte
		fallback   bool // errNotInstrumentable: compiled as is, with wazero's deadline
		errPresent bool
	}{
		{"not wasm", []byte("hello world"), false, true},
		{"truncated section", []byte("\x00asm\x01\x00\x00\x00\x01\x10\x01"), false, true},
		{"truncated body", rawModule([]byte{0, 0x03, 0x40, 0x41}), false, true},
		{"atomics", rawModule([]byte{0, 0xFE, 0x03, 0x00, 0x0B}), true, true},
		{"legacy try", rawModule([]byte{0, 0x06, 0x40, 0x0B, 0x0B}), true, true},
		{"global index beyond the module", rawModule([]byte{0, 0x23, 0x00, 0x1A, 0x0B}), false, true},
		{"imports the yield module itself", mustWAT(t, `(module (import "edged_internal" "yield" (func (result i32))) (func))`), true, true},
		{"plain", rawModule([]byte{0, 0x03, 0x40, 0x0B, 0x0B}), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := instrument(tt.wasm)
			if (err != nil) != tt.errPresent {
				t.Fatalf("err = %v, want error %v", err, tt.errPresent)
			}
			if got := errors.Is(err, errNotInstrumentable); got != tt.fallback {
				t.Fatalf("errors.Is(%v, errNotInstrumentable) = %v, want %v", err, got, tt.fallback)
			}
		})
	}
}

// instrumentedRuntime returns a runtime with the instrumented module wat
// instantiated, its imports ("env" and the yield function) provided; the
// yield traps once *stop is set.
func instrumentedRuntime(t *testing.T, wat string, stop *atomic.Bool, yields *atomic.Int64) api.Module {
	t.Helper()
	ctx := context.Background()
	wasm, err := instrument(mustWAT(t, wat))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	env, err := rt.CompileModule(ctx, mustWAT(t, `(module
		(global (export "base") i64 (i64.const 7))
		(func (export "f") (result i32) (i32.const 100)))`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.InstantiateModule(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.NewHostModuleBuilder(yieldModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, s []uint64) {
			yields.Add(1)
			if stop.Load() {
				panic(errors.New("stopped"))
			}
			s[0] = yieldFuel
		}), nil, []api.ValueType{api.ValueTypeI32}).Export(yieldName).Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("instrumented module does not compile: %v", err)
	}
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// TestInstrumentKeepsBehaviour: with the yield import added, the module's
// own functions are renumbered everywhere they are referred to, and compute
// what the original computes.
func TestInstrumentKeepsBehaviour(t *testing.T) {
	var stop atomic.Bool
	var yields atomic.Int64
	mod := instrumentedRuntime(t, `(module
		(import "env" "base" (global $base i64))
		(import "env" "f" (func $imp (result i32)))
		(type $t (func (result i32)))
		(table 3 funcref)
		(elem (i32.const 0) $a $b)
		(elem (i32.const 2) funcref (ref.func $c))
		(global $g (mut i32) (i32.const 0))
		(global $fr funcref (ref.func $b))
		(func $a (result i32) (i32.const 40))
		(func $b (result i32) (i32.add (call $a) (i32.const 2)))
		(func $c (result i32) (i32.const 5))
		(func $init (global.set $g (i32.const 7)))
		(start $init)
		(func (export "viaTable") (result i32) (call_indirect (type $t) (i32.const 1)))
		(func (export "viaExpr") (result i32) (call_indirect (type $t) (i32.const 2)))
		(func (export "direct") (result i32) (i32.add (call $b) (call $imp)))
		(func (export "started") (result i32) (global.get $g))
		(func (export "sum") (result i32) (local $i i32) (local $s i32)
			(loop $l
				(local.set $i (i32.add (local.get $i) (i32.const 1)))
				(local.set $s (i32.add (local.get $s) (local.get $i)))
				(br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
			(i32.wrap_i64 (i64.add (i64.extend_i32_u (local.get $s)) (global.get $base)))))`, &stop, &yields)
	tests := []struct {
		export string
		want   uint32
	}{
		{"viaTable", 42},
		{"viaExpr", 5},
		{"direct", 142},
		{"started", 7},
		{"sum", uint32(5000050000%(1<<32)) + 7},
	}
	for _, tt := range tests {
		res, err := mod.ExportedFunction(tt.export).Call(context.Background())
		if err != nil || uint32(res[0]) != tt.want {
			t.Errorf("%s = %v, %v; want %d", tt.export, res, err, tt.want)
		}
	}
	// 100000 loop iterations and a few calls: the guest yielded about 100000/yieldFuel times
	if got := yields.Load(); got < 100000/yieldFuel || got > 100000/yieldFuel+5 {
		t.Errorf("yields = %d, want about %d", got, 100000/yieldFuel)
	}
}

// TestInstrumentStops: a guest that loops forever, or calls without loops,
// yields to the host, which can stop it.
func TestInstrumentStops(t *testing.T) {
	tests := []struct{ name, wat string }{
		{"loop", `(module (func (export "spin") (loop $l (br $l))))`},
		{"loop touching globals", `(module
			(import "env" "base" (global $base i64))
			(global $n (mut i64) (i64.const 0))
			(func (export "spin") (loop $l (global.set $n (i64.add (global.get $n) (global.get $base))) (br $l))))`},
		{"recursion without loops", `(module
			(func $f (param i32)
				(if (i32.gt_u (local.get 0) (i32.const 0)) (then
					(call $f (i32.sub (local.get 0) (i32.const 1)))
					(call $f (i32.sub (local.get 0) (i32.const 1))))))
			(func (export "spin") (call $f (i32.const 60))))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stop atomic.Bool
			var yields atomic.Int64
			mod := instrumentedRuntime(t, tt.wat, &stop, &yields)
			done := make(chan error, 1)
			go func() {
				_, err := mod.ExportedFunction("spin").Call(context.Background())
				done <- err
			}()
			// the guest keeps yielding while it runs
			for yields.Load() < 10 {
				select {
				case err := <-done:
					t.Fatalf("spin returned: %v", err)
				default:
					runtime.Gosched()
				}
			}
			// a garbage collection stops the world: it must not wait for
			// the spinning guest, which leaves native code when it yields
			gcDone := make(chan struct{})
			go func() {
				runtime.GC()
				close(gcDone)
			}()
			select {
			case <-gcDone:
			case <-time.After(5 * time.Second):
				t.Fatal("a garbage collection waited 5s for the spinning guest")
			}
			stop.Store(true)
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("spin returned without trapping")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("spin not stopped 5s after the yield started trapping")
			}
		})
	}
}

// TestInstrumentExamplePlugins checks that the shipped plugins (Go SDK and
// C) take the instrumented path, not the slower fallback.
func TestInstrumentExamplePlugins(t *testing.T) {
	for _, name := range []string{"echo", "chat", "cecho"} {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join("..", "build", "plugins", name+".wasm"))
			if err != nil {
				t.Fatalf("%s.wasm not built (run make plugins): %v", name, err)
			}
			out, err := instrument(wasm)
			if err != nil {
				t.Fatalf("instrument: %v", err)
			}
			rt := wazero.NewRuntime(context.Background())
			defer rt.Close(context.Background())
			if _, err := rt.CompileModule(context.Background(), out); err != nil {
				t.Fatalf("instrumented %s does not compile: %v", name, err)
			}
		})
	}
}

// FuzzInstrument: arbitrary bytes never panic the instrumenter, and a module
// that compiles still compiles once instrumented.
func FuzzInstrument(f *testing.F) {
	for _, b := range fixtures {
		f.Add(b)
	}
	f.Add(rawModule([]byte{0, 0x03, 0x40, 0x0B, 0x0B}))
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := instrument(wasm)
		if err != nil {
			return
		}
		if _, err := rt.CompileModule(context.Background(), wasm); err != nil {
			return
		}
		if _, err := rt.CompileModule(context.Background(), out); err != nil {
			t.Fatalf("compiles before instrumentation, not after: %v", err)
		}
	})
}
