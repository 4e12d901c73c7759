package plugins

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edged-io/edged/core"

	"github.com/edged-io/edged/internal/wiretest"
)

// fixtures holds the compiled WAT fixtures of test/fixtures, by name.
var fixtures = map[string][]byte{}

// cacheDir is a compilation cache shared by the tests.
var cacheDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "edged-plugins-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	cacheDir = filepath.Join(tmp, "cache")
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		fmt.Fprintln(os.Stderr, "plugins tests need wat2wasm (Debian wabt): run `make toolchains`")
		return 1
	}
	wats, _ := filepath.Glob("../test/fixtures/*.wat")
	for _, w := range wats {
		name := strings.TrimSuffix(filepath.Base(w), ".wat")
		src, err := os.ReadFile(w)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		b, err := wat2wasm(tmp, string(src))
		if err != nil {
			fmt.Fprintf(os.Stderr, "fixture %s: %v\n", name, err)
			return 1
		}
		fixtures[name] = b
	}
	return m.Run()
}

// wat2wasm compiles WebAssembly text.
func wat2wasm(dir, src string) ([]byte, error) {
	f, err := os.CreateTemp(dir, "*.wat")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(src); err != nil {
		return nil, err
	}
	f.Close()
	out := strings.TrimSuffix(f.Name(), ".wat") + ".wasm"
	defer os.Remove(out)
	if msg, err := exec.Command("wat2wasm", f.Name(), "-o", out).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wat2wasm: %v: %s", err, msg)
	}
	return os.ReadFile(out)
}

func mustWAT(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wat2wasm(t.TempDir(), src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := fixtures[name]
	if !ok {
		t.Fatalf("fixture %s missing from test/fixtures", name)
	}
	return b
}

// watString escapes s for a WAT string literal.
func watString(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%02x", c)
		}
	}
	return b.String()
}

// guest describes a small scripted plugin generated as WAT.
type guest struct {
	decl        string // OP_DECLARE request; empty: none
	initStatus  int
	initReject  string // OP_REJECT during init
	initTrap    bool
	connReject  string // KIND_CONNECT: OP_REJECT request, then STATUS_REJECT
	welcome     string // KIND_CONNECTION: OP_EMIT request
	emit        string // KIND_EVENT: OP_EMIT request
	ack         string // KIND_EVENT: OP_ACK request
	eventReject string // KIND_EVENT: OP_REJECT request
	eventStatus int
	noMarker    bool
	dumpKinds   []int  // these kinds emit "input" to the current socket with the input as argument
	extra       string // more module fields (imports go first)
	imports     string
}

func (g guest) wat() string {
	var b strings.Builder
	b.WriteString("(module\n")
	b.WriteString(`(import "edged_v1" "call" (func $call (param i32 i32 i32) (result i32)))` + "\n")
	b.WriteString(`(import "edged_v1" "input_read" (func $input_read (param i32 i32) (result i32)))` + "\n")
	b.WriteString(g.imports)
	b.WriteString("(memory (export \"memory\") 2)\n")
	seg := func(off int, s string) string {
		if s == "" {
			return ""
		}
		fmt.Fprintf(&b, "(data (i32.const %d) \"%s\")\n", off, watString(s))
		return ""
	}
	seg(0, g.decl)
	seg(4096, g.initReject)
	seg(8192, g.connReject)
	seg(12288, g.welcome)
	seg(16384, g.emit)
	seg(20480, g.ack)
	seg(24576, g.eventReject)
	const dumpPrefix = `{"event":"input","args":[`
	seg(32768-len(dumpPrefix), dumpPrefix)
	seg(28672, "]}")
	callOp := func(op, off int, s string) string {
		if s == "" {
			return ""
		}
		return fmt.Sprintf("(drop (call $call (i32.const %d) (i32.const %d) (i32.const %d)))\n", op, off, len(s))
	}
	if !g.noMarker {
		b.WriteString("(func (export \"edged_abi_v1\"))\n")
	}
	b.WriteString("(func (export \"edged_init\") (param i32) (result i32)\n")
	if g.initTrap {
		b.WriteString("unreachable\n")
	}
	b.WriteString(callOp(1, 0, g.decl))
	b.WriteString(callOp(2, 4096, g.initReject))
	fmt.Fprintf(&b, "(i32.const %d))\n", g.initStatus)
	b.WriteString("(func (export \"edged_on\") (param $kind i32) (param $len i32) (result i32)\n")
	for _, k := range g.dumpKinds {
		// input at 32768 (at most 64 KiB), the prefix just before it, "]}" after it
		fmt.Fprintf(&b, `(if (i32.eq (local.get $kind) (i32.const %d)) (then
			(drop (call $input_read (i32.const 32768) (i32.const 32000)))
			(memory.copy (i32.add (i32.const 32768) (local.get $len)) (i32.const 28672) (i32.const 2))
			(drop (call $call (i32.const 3) (i32.const %d) (i32.add (local.get $len) (i32.const %d))))
			(return (i32.const 0))))
`, k, 32768-len(dumpPrefix), len(dumpPrefix)+2)
	}
	if g.connReject != "" {
		fmt.Fprintf(&b, "(if (i32.eq (local.get $kind) (i32.const 1)) (then %s (return (i32.const 1))))\n", callOp(2, 8192, g.connReject))
	}
	if g.welcome != "" {
		fmt.Fprintf(&b, "(if (i32.eq (local.get $kind) (i32.const 2)) (then %s (return (i32.const 0))))\n", callOp(3, 12288, g.welcome))
	}
	fmt.Fprintf(&b, "(if (i32.eq (local.get $kind) (i32.const 3)) (then %s %s %s (return (i32.const %d))))\n",
		callOp(3, 16384, g.emit), callOp(4, 20480, g.ack), callOp(2, 24576, g.eventReject), g.eventStatus)
	b.WriteString("(i32.const -2))\n")
	b.WriteString(g.extra)
	b.WriteString(")\n")
	return b.String()
}

func (g guest) build(t testing.TB) []byte { t.Helper(); return mustWAT(t, g.wat()) }

// env is a core server with a plugin manager on a directory.
type env struct {
	srv     *core.Server
	m       *Manager
	dir     string
	url     string
	reloads chan reloadEvent
}

type reloadEvent struct {
	name, version string
	err           error
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// writeFiles writes plugin files into dir.
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newEnv starts a server whose plugins are files; Load must succeed.
func newEnv(t testing.TB, files map[string][]byte) *env {
	t.Helper()
	e, err := startEnv(t, files)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return e
}

func startEnv(t testing.TB, files map[string][]byte) (*env, error) {
	t.Helper()
	return startEnvOpts(t, files, nil)
}

// startEnvOpts is startEnv with a hook that adjusts the manager's options.
func startEnvOpts(t testing.TB, files map[string][]byte, adjust func(*Options)) (*env, error) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	log := testLogger(t)
	srv := core.NewServer(core.Options{Logger: log, ReserveHandlerStack: true}) // as cmd/edged
	ts := httptest.NewServer(srv)
	e := &env{srv: srv, dir: dir, reloads: make(chan reloadEvent, 16),
		url: "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"}
	opts := Options{Dir: dir, CacheDir: cacheDir, Logger: log, Debounce: 20 * time.Millisecond,
		OnReload: func(name, version string, err error) { e.reloads <- reloadEvent{name, version, err} }}
	if adjust != nil {
		adjust(&opts)
	}
	m, err := New(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.Close()
		_ = m.Close()
	})
	return e, m.Load(context.Background())
}

func (e *env) dial(t testing.TB) *wiretest.Client { return wiretest.Dial(t, e.url) }

// connect joins nsp and returns the CONNECT reply.
func connect(t testing.TB, c *wiretest.Client, nsp string) string {
	t.Helper()
	c.Send("40" + nsp + ",")
	reply := c.Read()
	if !strings.HasPrefix(reply, "40"+nsp+",{\"sid\"") {
		t.Fatalf("connect %s: got %q", nsp, reply)
	}
	return reply
}

// waitReload returns the next reload attempt of plugin name.
func (e *env) waitReload(t testing.TB, name string) reloadEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-e.reloads:
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no reload of %s", name)
		}
	}
}
