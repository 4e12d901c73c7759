package plugins

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
	exportsStop := append(appendU32([]byte{7}, uint32(len(appendName(nil, stopExport))+3)), 1)
	exportsStop = append(appendName(exportsStop, stopExport), 0, 0)
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
		{"export name taken", rawModule([]byte{0, 0x0B}, exportsStop), true, true},
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

// TestInstrumentStops runs instrumented modules: they compute what the
// original computes while the flag is clear, and trap soon after it is set,
// in a loop or in calls without loops.
func TestInstrumentStops(t *testing.T) {
	tests := []struct {
		name string
		wat  string
		want uint64 // result of "sum" (the module's own work, flag clear)
	}{
		{"no globals, no memory", `(module
			(func (export "spin") (loop $l (br $l)))
			(func (export "sum") (result i64) (local $i i64) (local $s i64)
				(loop $l
					(local.set $i (i64.add (local.get $i) (i64.const 1)))
					(local.set $s (i64.add (local.get $s) (local.get $i)))
					(br_if $l (i64.lt_u (local.get $i) (i64.const 1000))))
				(local.get $s)))`, 500500},
		{"imported and defined globals", `(module
			(import "env" "base" (global $base i64))
			(global $n (mut i64) (i64.const 0))
			(func (export "spin") (loop $l (global.set $n (i64.add (global.get $n) (i64.const 1))) (br $l)))
			(func (export "sum") (result i64)
				(global.set $n (i64.const 0))
				(loop $l (global.set $n (i64.add (global.get $n) (i64.const 2)))
					(br_if $l (i64.lt_u (global.get $n) (i64.const 100))))
				(i64.add (global.get $n) (global.get $base))))`, 107},
		{"recursion without loops", `(module
			(func $f (param i32)
				(if (i32.gt_u (local.get 0) (i32.const 0)) (then
					(call $f (i32.sub (local.get 0) (i32.const 1)))
					(call $f (i32.sub (local.get 0) (i32.const 1))))))
			(func (export "spin") (call $f (i32.const 60)))
			(func (export "sum") (result i64) (call $f (i32.const 3)) (i64.const 42)))`, 42},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm, err := instrument(mustWAT(t, tt.wat))
			if err != nil {
				t.Fatal(err)
			}
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			env, err := rt.CompileModule(ctx, mustWAT(t, `(module (global (export "base") i64 (i64.const 7)))`))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rt.InstantiateModule(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
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
			stop, ok := mod.ExportedGlobal(stopExport).(api.MutableGlobal)
			if !ok {
				t.Fatal("no mutable stop global exported")
			}
			res, err := mod.ExportedFunction("sum").Call(ctx)
			if err != nil || res[0] != tt.want {
				t.Fatalf("sum = %v, %v; want %d", res, err, tt.want)
			}
			done := make(chan error, 1)
			go func() {
				_, err := mod.ExportedFunction("spin").Call(ctx)
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("spin returned before the flag was set: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
			stop.Set(1)
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("spin returned without trapping")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("spin not stopped 5s after the flag was set")
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
