package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const declApp = `{"namespaces":["/app"],"events":["hello"],"connect":true,"connection":true}`

func TestLoadErrors(t *testing.T) {
	ok := guest{decl: `{"namespaces":["/a"],"events":["x"]}`}
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"not wasm", map[string][]byte{"junk.wasm": []byte("hello")}, "plugin junk: not a WebAssembly module: "},
		{"missing marker", map[string][]byte{"p.wasm": guest{decl: ok.decl, noMarker: true}.build(t)},
			`plugin p: missing export "edged_abi_v1" (not an edged plugin, or built for another ABI version)`},
		{"missing edged_on", map[string][]byte{"noexports.wasm": fixture(t, "noexports")}, `plugin noexports: missing export "edged_on"`},
		{"wrong abi", map[string][]byte{"wrongabi.wasm": fixture(t, "wrongabi")}, "plugin wrongabi: speaks ABI edged_v2, this host speaks edged_v1"},
		{"bad signature", map[string][]byte{"badsig.wasm": fixture(t, "badsig")},
			`plugin badsig: export "edged_on" has signature (i32) -> i32, want (i32, i32) -> i32`},
		{"init failed", map[string][]byte{"initfail.wasm": fixture(t, "initfail")}, "plugin initfail: init failed with status -1: init refused"},
		{"init status without text", map[string][]byte{"p.wasm": guest{decl: ok.decl, initStatus: 7}.build(t)}, "plugin p: init failed with status 7"},
		{"init trapped", map[string][]byte{"p.wasm": guest{initTrap: true}.build(t)}, "plugin p: init trapped: "},
		{"no namespace", map[string][]byte{"p.wasm": guest{decl: `{"events":["x"]}`}.build(t)}, "plugin p: declares no namespace"},
		{"unknown host function", map[string][]byte{"p.wasm": guest{decl: ok.decl,
			imports: `(import "edged_v1" "teleport" (func (param i32)))`}.build(t)}, "plugin p: imports unknown function edged_v1.teleport"},
		{"host function signature", map[string][]byte{"p.wasm": guest{decl: ok.decl,
			imports: `(import "edged_v1" "log" (func (param i32) (result i32)))`}.build(t)},
			"plugin p: imports function edged_v1.log has signature (i32) -> i32, want (i32, i32, i32) -> ()"},
		{"unknown module", map[string][]byte{"p.wasm": guest{decl: ok.decl,
			imports: `(import "env" "f" (func))`}.build(t)}, `plugin p: imports module "env", which is not available`},
		{"imports the host's internal module", map[string][]byte{"p.wasm": guest{decl: ok.decl,
			imports: `(import "edged_internal" "yield" (func (result i32)))`}.build(t)}, `plugin p: imports module "edged_internal", which is not available`},
		{"namespace claimed twice", map[string][]byte{"one.wasm": ok.build(t), "two.wasm": ok.build(t)},
			`plugins one and two both declare namespace "/a"`},
		{"pattern claimed twice", map[string][]byte{
			"one.wasm": guest{decl: `{"namespace_patterns":["^/r-\\d+$"]}`}.build(t),
			"two.wasm": guest{decl: `{"namespace_patterns":["^/r-\\d+$"]}`}.build(t)},
			`plugins one and two both declare namespace pattern "^/r-\\d+$"`},
		{"bad settings", map[string][]byte{"p.wasm": ok.build(t), "p.json": []byte(`{"pool_size": 0}`)},
			"plugin p: settings file p.json: pool_size must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := startEnv(t, tt.files)
			if err == nil {
				t.Fatal("load succeeded")
			}
			if got := err.Error(); got != tt.want && !(strings.HasSuffix(tt.want, ": ") && strings.HasPrefix(got, tt.want)) {
				t.Fatalf("error\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestConnectMiddleware(t *testing.T) {
	e := newEnv(t, map[string][]byte{
		"app.wasm": guest{decl: declApp, connReject: `{"message":"unauthorized","data":{"code":42}}`}.build(t),
		"ok.wasm":  guest{decl: `{"namespaces":["/ok"],"connect":true,"connection":true}`, welcome: `{"event":"welcome","args":["hi"]}`}.build(t),
	})
	c := e.dial(t)
	c.Send("40/app,")
	c.Expect(`44/app,{"data":{"code":42},"message":"unauthorized"}`)
	c.Send("40/nowhere,")
	c.Expect(`44/nowhere,{"message":"Invalid namespace"}`)
	connect(t, c, "/ok")
	c.Expect(`42/ok,["welcome","hi"]`)
}

func TestEventAck(t *testing.T) {
	e := newEnv(t, map[string][]byte{
		"okwat.wasm": fixture(t, "okwat"),
		"app.wasm": guest{decl: `{"namespaces":["/app"],"events":["hello","fail"]}`,
			emit: `{"event":"greeting","args":["world",1]}`, ack: `{"args":[{"ok":true}]}`}.build(t),
		"bad.wasm": guest{decl: `{"namespaces":["/bad"],"events":["fail"]}`,
			eventReject: `{"message":"no such thing"}`, eventStatus: -1}.build(t),
	})
	c := e.dial(t)
	connect(t, c, "/wat")
	c.Send(`42/wat,1["echo",{"a":[1,2]},"x"]`)
	c.Expect(`43/wat,1[{"a":[1,2]},"x"]`)
	// binary round trip through attachment_read and attach
	c.Send(`451-/wat,2["echo",{"_placeholder":true,"num":0}]`)
	c.SendBinary([]byte{1, 2, 3})
	c.Expect(`461-/wat,2[{"_placeholder":true,"num":0}]`)
	c.Expect("bin:\x01\x02\x03")

	connect(t, c, "/app")
	c.Send(`42/app,5["hello"]`)
	c.Expect(`42/app,["greeting","world",1]`)
	c.Expect(`43/app,5[{"ok":true}]`)
	// an undeclared event is not dispatched
	c.Send(`42/app,6["other"]`)
	connect(t, c, "/bad")
	c.Send(`42/bad,7["fail"]`)
	c.Expect(`43/bad,7[{"error":"no such thing"}]`)
}

func TestFaults(t *testing.T) {
	e := newEnv(t, map[string][]byte{
		"okwat.wasm":      fixture(t, "okwat"),
		"spin.wasm":       fixture(t, "spin"),
		"spin.json":       []byte(`{"call_timeout_ms": 100}`),
		"trap.wasm":       fixture(t, "trap"),
		"membomb.wasm":    fixture(t, "membomb"),
		"membomb.json":    []byte(`{"memory_pages": 64}`),
		"hugeoutput.wasm": fixture(t, "hugeoutput"),
	})
	tests := []struct{ name, want string }{
		{"spin", `{"error":"plugin error"}`},
		{"trap", `{"error":"plugin error"}`},
		{"membomb", `{"error":"plugin error"}`},
		{"hugeoutput", `{"error":"hugeoutput: refused as too large"}`},
	}
	c := e.dial(t)
	connect(t, c, "/wat")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := e.dial(t)
			nsp := "/hostile-" + tt.name
			connect(t, h, nsp)
			// twice: the second call runs on a fresh instance
			for i := 1; i <= 2; i++ {
				h.Send("42" + nsp + "," + string(rune('0'+i)) + `["go"]`)
				h.Expect("43" + nsp + "," + string(rune('0'+i)) + "[" + tt.want + "]")
			}
			// other plugins keep working
			c.Send(`42/wat,9["echo","still"]`)
			c.Expect(`43/wat,9["still"]`)
		})
	}
}

// TestStartFunctionDeadline: a module whose start function (run by the
// instantiation, before any edged call) never returns fails to load at the
// call deadline, instead of hanging the load.
func TestStartFunctionDeadline(t *testing.T) {
	g := guest{decl: `{"namespaces":["/a"],"events":["x"]}`, extra: `(func $spin (loop $l (br $l))) (start $spin)`}
	_, err := startEnv(t, map[string][]byte{"p.wasm": g.build(t), "p.json": []byte(`{"call_timeout_ms": 100}`)})
	if err == nil {
		t.Fatal("load succeeded")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "plugin p: instantiate: ") || !strings.Contains(msg, errCallDeadline.Error()) {
		t.Fatalf("error %q, want the instantiation stopped at its deadline", msg)
	}
}

// replaceFile writes a file atomically, as a deploy would.
func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestHotReload(t *testing.T) {
	v1 := guest{decl: `{"namespaces":["/app"],"events":["v"]}`, ack: `{"args":["v1"]}`}
	v2 := guest{decl: `{"namespaces":["/app","/new"],"events":["v","extra"]}`, ack: `{"args":["v2"]}`}
	e := newEnv(t, map[string][]byte{"app.wasm": v1.build(t)})
	if err := e.m.Watch(); err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	connect(t, c, "/app")
	c.Send(`42/app,1["v"]`)
	c.Expect(`43/app,1["v1"]`)

	replaceFile(t, filepath.Join(e.dir, "app.wasm"), v2.build(t))
	if ev := e.waitReload(t, "app"); ev.err != nil || ev.version == "" {
		t.Fatalf("reload: %+v", ev)
	}
	c.Send(`42/app,2["v"]`)
	c.Expect(`43/app,2["v2"]`)
	c.Send(`42/app,3["extra"]`) // declared only by the new version
	c.Expect(`43/app,3["v2"]`)
	connect(t, c, "/new")

	// a broken file keeps the old version
	replaceFile(t, filepath.Join(e.dir, "app.wasm"), []byte("garbage"))
	if ev := e.waitReload(t, "app"); ev.err == nil || !strings.Contains(ev.err.Error(), "not a WebAssembly module") {
		t.Fatalf("broken reload: %+v", ev)
	}
	c.Send(`42/app,4["v"]`)
	c.Expect(`43/app,4["v2"]`)

	// a removed plugin stops serving: events are ignored, new connections refused
	if err := os.Remove(filepath.Join(e.dir, "app.wasm")); err != nil {
		t.Fatal(err)
	}
	if ev := e.waitReload(t, "app"); ev.err != nil || ev.version != "" {
		t.Fatalf("remove: %+v", ev)
	}
	c.Send(`42/app,5["v"]`)
	c2 := e.dial(t)
	c2.Send("40/app,")
	c2.Expect(`44/app,{"message":"Invalid namespace"}`)
	// the connected socket stays connected: its other namespace still answers
	c.Send(`42/app,6["v"]`)
	c.Send("40")
	if got := c.Read(); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("connect /: got %q", got)
	}
	if n := len(e.m.Plugins()); n != 0 {
		t.Fatalf("%d plugins still served", n)
	}
}

func TestReloadExplicit(t *testing.T) {
	e := newEnv(t, map[string][]byte{"app.wasm": guest{decl: `{"namespaces":["/app"],"events":["v"]}`, ack: `{"args":["v1"]}`}.build(t)})
	before := e.m.Plugins()[0].Version
	// unchanged: nothing happens
	if err := e.m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.m.Plugins()[0].Version; got != before {
		t.Fatalf("version changed to %s", got)
	}
	// a second plugin claiming the namespace is refused; the first keeps serving
	writeFiles(t, e.dir, map[string][]byte{"dup.wasm": guest{decl: `{"namespaces":["/app"]}`}.build(t)})
	err := e.m.Reload(context.Background())
	if err == nil || err.Error() != `plugins app and dup both declare namespace "/app"` {
		t.Fatalf("reload: %v", err)
	}
	c := e.dial(t)
	connect(t, c, "/app")
	c.Send(`42/app,1["v"]`)
	c.Expect(`43/app,1["v1"]`)
}

// inputArg decodes the argument of an "input" event a dumping guest emits.
func inputArg(t *testing.T, frame, nsp string) map[string]any {
	t.Helper()
	prefix := "42" + nsp + ","
	if !strings.HasPrefix(frame, prefix) {
		t.Fatalf("frame %q", frame)
	}
	var args []any
	if err := json.Unmarshal([]byte(frame[len(prefix):]), &args); err != nil || len(args) != 2 || args[0] != "input" {
		t.Fatalf("frame %q: %v", frame, err)
	}
	return args[1].(map[string]any)
}

func TestEmitWithAckToken(t *testing.T) {
	e := newEnv(t, map[string][]byte{
		"app.wasm": guest{decl: `{"namespaces":["/app"],"events":["ask","askfast"],"disconnect":true}`,
			emit: `{"event":"question","args":[1],"ack_token":7,"timeout_ms":300}`, dumpKinds: []int{7}}.build(t),
	})
	c := e.dial(t)
	sid := connect(t, c, "/app")
	c.Send(`42/app,["ask"]`)
	q := c.Read()
	id, ok := strings.CutPrefix(q, `42/app,`)
	if !ok || !strings.HasSuffix(id, `["question",1]`) {
		t.Fatalf("question: %q", q)
	}
	id = strings.TrimSuffix(id, `["question",1]`)
	c.Send(`43/app,` + id + `["answer",{"x":true}]`)
	in := inputArg(t, c.Read(), "/app")
	if in["token"] != float64(7) || fmt.Sprint(in["args"]) != "[answer map[x:true]]" || in["error"] != nil {
		t.Fatalf("ack result input %v", in)
	}
	if s := in["socket"].(map[string]any); !strings.Contains(sid, s["id"].(string)) || s["namespace"] != "/app" {
		t.Fatalf("socket %v, connect reply %s", s, sid)
	}
	// unanswered: the timeout arrives as the error
	c.Send(`42/app,["ask"]`)
	c.Read()
	in = inputArg(t, c.Read(), "/app")
	if in["token"] != float64(7) || in["error"] != "operation has timed out" {
		t.Fatalf("timeout input %v", in)
	}
}

// TestHostileHostCalls checks that bad pointers and lengths from a guest are
// error returns, never host panics.
func TestHostileHostCalls(t *testing.T) {
	src := `(module
  (import "edged_v1" "call" (func $call (param i32 i32 i32) (result i32)))
  (import "edged_v1" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "edged_v1" "attach" (func $attach (param i32 i32) (result i32)))
  (import "edged_v1" "attachment_read" (func $attachment_read (param i32 i32 i32) (result i32)))
  (import "edged_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "edged_v1" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"namespaces\":[\"/h\"],\"events\":[\"go\"]}")
  (data (i32.const 100) "{\"args\":[\"survived\"]}")
  (data (i32.const 200) "{\"args\":[\"broken\"]}")
  (data (i32.const 300) "not json")
  (func (export "edged_abi_v1"))
  (func (export "edged_init") (param i32) (result i32)
    (drop (call $call (i32.const 1) (i32.const 0) (i32.const 37)))
    (i32.const 0))
  (func (export "edged_on") (param $kind i32) (param $len i32) (result i32)
    (local $bad i32)
    ;; every call below must fail cleanly; $bad counts the ones that did not
    (if (i32.ne (call $call (i32.const 3) (i32.const 0xfffffff0) (i32.const 100)) (i32.const -1))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (if (i32.ne (call $call (i32.const 3) (i32.const 300) (i32.const 8)) (i32.const -1))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (if (i32.ne (call $call (i32.const 99) (i32.const 100) (i32.const 21)) (i32.const -2))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (if (i32.ne (call $call (i32.const 3) (i32.const 100) (i32.const 0x7fffffff)) (i32.const -5))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (if (i32.ne (call $input_read (i32.const 0xffffff00) (i32.const 0x7fffffff)) (i32.const -1))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (if (i32.ne (call $attach (i32.const 0xffffff00) (i32.const 1000)) (i32.const -1))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (if (i32.ne (call $attachment_read (i32.const 5) (i32.const 0) (i32.const 10)) (i32.const -1))
      (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
    (drop (call $result_read (i32.const 0xffffff00) (i32.const 0x7fffffff)))
    (call $log (i32.const 7) (i32.const 0xffffff00) (i32.const 1000))
    (if (i32.eqz (local.get $bad))
      (then (drop (call $call (i32.const 4) (i32.const 100) (i32.const 21))))
      (else (drop (call $call (i32.const 4) (i32.const 200) (i32.const 19)))))
    (i32.const 0)))`
	e := newEnv(t, map[string][]byte{"h.wasm": mustWAT(t, src)})
	c := e.dial(t)
	connect(t, c, "/h")
	c.Send(`42/h,1["go"]`)
	c.Expect(`43/h,1["survived"]`)
}
