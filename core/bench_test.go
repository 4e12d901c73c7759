package core

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edged-io/edged/host"
)

// pollClient drives one Engine.IO polling session through Server.ServeHTTP
// in-process: no listener, no network, so the benchmarks measure the server.
type pollClient struct {
	srv *Server
	sid string
}

// browserHeader is the request header of a typical browser handshake, so
// that the handshake data kept per socket has a realistic size.
func browserHeader() http.Header {
	return http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"},
		"Accept":          {"*/*"},
		"Accept-Language": {"en-US,en;q=0.5"},
		"Accept-Encoding": {"gzip, deflate, br, zstd"},
		"Origin":          {"https://app.example.com"},
		"Referer":         {"https://app.example.com/"},
		"Cookie":          {"theme=dark", "lang=en"},
		"Connection":      {"keep-alive"},
	}
}

func (p *pollClient) do(tb testing.TB, method, query, body string) string {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "/socket.io/?EIO=4&transport=polling"+query, r)
	req.Header = browserHeader()
	w := httptest.NewRecorder()
	p.srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		tb.Fatalf("%s %s: status %d: %s", method, query, w.Code, w.Body.String())
	}
	return w.Body.String()
}

// dialPolling opens a polling session and connects it to the main namespace.
func dialPolling(tb testing.TB, srv *Server) *pollClient {
	tb.Helper()
	p := &pollClient{srv: srv}
	open := p.do(tb, http.MethodGet, "", "")
	_, rest, ok := strings.Cut(open, `"sid":"`)
	if !ok {
		tb.Fatalf("no sid in open packet %q", open)
	}
	p.sid, _, _ = strings.Cut(rest, `"`)
	p.do(tb, http.MethodPost, "&sid="+p.sid, "40")
	if reply := p.poll(tb); !strings.HasPrefix(reply, "40{") {
		tb.Fatalf("connect reply %q", reply)
	}
	return p
}

// poll takes what is queued for the session, waiting until there is something.
func (p *pollClient) poll(tb testing.TB) string {
	return p.do(tb, http.MethodGet, "&sid="+p.sid, "")
}

// newBenchServer is a server whose polling sessions stay open without polls
// for the length of a benchmark.
func newBenchServer(tb testing.TB) *Server {
	srv := NewServer(Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Engine: host.Options{PingInterval: time.Hour, PingTimeout: time.Hour, MaxQueuedMessages: 1 << 20, MaxQueuedBytes: 1 << 30},
	})
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIdleSocketMemory reports the live heap per idle connection (engine
// session plus socket of "/", with its own-id room), measured after GC.
func BenchmarkIdleSocketMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		b.StopTimer()
		srv := newBenchServer(b)
		srv.OnConnection(func(*Socket) {})
		dialPolling(b, srv) // warm up: namespace, adapter, pools
		before := heapInUse()
		b.StartTimer()
		clients := make([]*pollClient, n)
		for i := range clients {
			clients[i] = dialPolling(b, srv)
		}
		b.StopTimer()
		after := heapInUse()
		b.ReportMetric(float64(after-before)/n, "heapB/socket")
		runtime.KeepAlive(clients)
		b.StartTimer()
	}
}

// BenchmarkBroadcast emits to a room of 1000 sockets and reports the cost per
// delivery (one queued packet per recipient); each session's queue is
// drained, untimed, now and then.
func BenchmarkBroadcast(b *testing.B) {
	for _, tc := range []struct {
		name       string
		recipients int
		emit       func(srv *Server) error
	}{
		{"room", 1000, func(srv *Server) error { return srv.To("room").Emit("tick", 1, "x") }},
		{"room-except", 500, func(srv *Server) error { return srv.To("room").Except("odd").Emit("tick", 1, "x") }},
		{"all", 1000, func(srv *Server) error { return srv.Emit("tick", 1, "x") }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 1000
			srv := newBenchServer(b)
			clients := make([]*pollClient, n)
			for i := range clients {
				clients[i] = dialPolling(b, srv)
			}
			for i, s := range srv.Of("/").Sockets() {
				s.Join("room")
				if i%2 == 1 {
					s.Join("odd")
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := tc.emit(srv); err != nil {
					b.Fatal(err)
				}
				if i%256 == 255 {
					b.StopTimer()
					// something for every session, so that no poll waits
					if err := srv.Emit("flush"); err != nil {
						b.Fatal(err)
					}
					for _, c := range clients {
						c.poll(b)
					}
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tc.recipients), "ns/delivery")
		})
	}
}

// BenchmarkBroadcastSelect measures the adapter's part of a broadcast alone:
// finding the recipients among 1000 sockets, without writing to them.
func BenchmarkBroadcastSelect(b *testing.B) {
	const n = 1000
	srv := newBenchServer(b)
	for range n {
		dialPolling(b, srv)
	}
	for i, s := range srv.Of("/").Sockets() {
		s.Join("room")
		if i%2 == 1 {
			s.Join("odd")
		}
	}
	a := srv.Of("/").Adapter().(*MemoryAdapter)
	for _, tc := range []struct {
		name       string
		recipients int
		opts       BroadcastOptions
	}{
		{"room", n, BroadcastOptions{Rooms: []string{"room"}}},
		{"room-except", n / 2, BroadcastOptions{Rooms: []string{"room"}, Except: []string{"odd"}}},
		{"all", n, BroadcastOptions{}},
		{"two-rooms", n, BroadcastOptions{Rooms: []string{"odd", "room"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			got := 0
			for range b.N {
				got = 0
				a.apply(tc.opts, func(*Socket) { got++ })
			}
			if got != tc.recipients {
				b.Fatalf("%d recipients, want %d", got, tc.recipients)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tc.recipients), "ns/delivery")
		})
	}
}
