package plugins

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/plugins/abi"
)

// benchPlugin loads a built plugin for a benchmark, or skips when `make
// plugins` did not build it.
func benchPlugin(b *testing.B, name string) []byte {
	wasm, err := os.ReadFile(filepath.Join("..", "build", "plugins", name+".wasm"))
	if err != nil {
		b.Skipf("%s.wasm not built (make plugins): %v", name, err)
	}
	return wasm
}

// BenchmarkEventDispatch measures one event with ack, sent by a raw
// WebSocket client and answered by the server, with the handler native Go or
// a plugin. The difference between the plugin and native rows is the cost of
// the plugin dispatch (the rest is the round trip, identical for both).
func BenchmarkEventDispatch(b *testing.B) {
	cases := []struct {
		name, nsp string
		files     func(b *testing.B) map[string][]byte
	}{
		{"native", "/native", nil},
		{"wat", "/wat", func(b *testing.B) map[string][]byte { return map[string][]byte{"okwat.wasm": fixture(b, "okwat")} }},
		{"c", "/c", func(b *testing.B) map[string][]byte { return map[string][]byte{"cecho.wasm": benchPlugin(b, "cecho")} }},
		{"go", "/", func(b *testing.B) map[string][]byte { return map[string][]byte{"echo.wasm": benchPlugin(b, "echo")} }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			files := map[string][]byte{}
			if tc.files != nil {
				files = tc.files(b)
			}
			e := newEnv(b, files)
			if tc.files == nil {
				e.srv.Of(tc.nsp).OnConnection(func(s *core.Socket) {
					s.On("echo", func(ev *core.Event) { _ = ev.AckPayload(ev.Args) })
				})
			}
			c := e.dial(b)
			prefix := "42" + tc.nsp + ","
			if tc.nsp == "/" {
				c.Send("40")
				c.Read()
				prefix = "42"
			} else {
				connect(b, c, tc.nsp)
			}
			req := prefix + `1["echo",{"text":"hello","n":42}]`
			want := "43" + prefix[2:] + `1[{"text":"hello","n":42}]`
			c.Send(req)
			c.Expect(want)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.Send(req)
				if got := c.Read(); got != want {
					b.Fatalf("got %q", got)
				}
			}
		})
	}
}

// BenchmarkGuestCall measures one edged_on call of a plugin alone (pool
// get, input copy, guest run, put), without the network and core.
func BenchmarkGuestCall(b *testing.B) {
	cases := []struct {
		name, file, nsp string
		settings        []byte
	}{
		{"wat", "", "/wat", nil},
		{"c", "cecho", "/c", nil},
		{"go", "echo", "/", nil},
		// trusted: no CPU deadline, the floor the deadline's cost is measured against
		{"go-trusted", "echo", "/", []byte(`{"trusted":true}`)},
	}
	input := []byte(`{"socket":{"id":"abc","namespace":"/","rooms":["abc"],"data":null,"recovered":false,"transport":"websocket"},"event":"echo","args":[{"text":"hello","n":42}],"ack":false}`)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var wasm []byte
			if tc.file == "" {
				wasm = fixture(b, "okwat")
			} else {
				wasm = benchPlugin(b, tc.file)
			}
			m, err := New(core.NewServer(core.Options{Logger: testLogger(b)}), Options{CacheDir: cacheDir, Logger: testLogger(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = m.Close() })
			g, err := m.loadGeneration(context.Background(), tc.name, wasm, tc.settings)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(g.release)
			b.ReportAllocs()
			for b.Loop() {
				cs := newCallState(g, abi.KindEvent, nil, nil)
				cs.input = append(cs.input, input...)
				if _, err := g.call(cs); err != nil {
					b.Fatal(err)
				}
				cs.free()
			}
		})
	}
}
