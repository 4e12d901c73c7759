package host

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkIdleWebSocketMemory opens 1000 WebSocket sessions, leaves them
// idle and reports the heap and stack in use per session
// ((HeapInuse+StackInuse)/N after GC, server and client together). With
// "raw" each client is a TCP connection that did the WebSocket handshake by
// hand and sent one message, as a live client sends a pong every
// PingInterval (a few hundred bytes of its own); with "coder" it is a
// coder/websocket client, whose own buffers count too. Run it with
// -benchtime 1x.
func BenchmarkIdleWebSocketMemory(b *testing.B) {
	for _, client := range []string{"raw", "coder"} {
		b.Run(client, func(b *testing.B) {
			const n = 1000
			// Warm up: later rounds reuse the goroutine descriptors and the
			// runtime's other one-off growth, so that rounds compare.
			idleSessionMemory(b, n, client == "coder")
			var heap, stack float64
			for range b.N {
				h, s := idleSessionMemory(b, n, client == "coder")
				heap, stack = heap+h, stack+s
			}
			b.ReportMetric((heap+stack)/float64(b.N), "B/session")
			b.ReportMetric(heap/float64(b.N), "heap-B/session")
			b.ReportMetric(stack/float64(b.N), "stack-B/session")
		})
	}
}

// idleSessionMemory opens n idle sessions and returns the heap and the
// stack memory in use per session, measured before they are closed.
func idleSessionMemory(b *testing.B, n int, coder bool) (heap, stack float64) {
	b.Helper()
	s := NewServer(Options{
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnConnection: func(c *Conn) { c.SetHandler(nopHandler{}) },
	})
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	addr := ts.Listener.Addr().String()
	header := "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\nCache-Control: no-cache\r\n" +
		"Origin: http://" + addr + "\r\nCookie: session=0123456789abcdef; theme=dark\r\n\r\n"

	goroutines := runtime.NumGoroutine()
	heap0, stack0 := memInUse()
	closers := make([]io.Closer, 0, n)
	defer func() {
		// Leave nothing behind that the next measurement would count.
		for _, c := range closers {
			c.Close()
		}
		s.Close()
		ts.Close()
		for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	for range n {
		if coder {
			h := http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}}
			ws, _, err := websocket.Dial(context.Background(), "ws://"+addr+"/engine.io/?EIO=4&transport=websocket", &websocket.DialOptions{HTTPHeader: h})
			if err != nil {
				b.Fatal(err)
			}
			closers = append(closers, closerFunc(ws.CloseNow))
			continue
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, conn)
		if _, err := io.WriteString(conn, header); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			b.Fatalf("handshake: %v %v", resp, err)
		}
		// One message (masked with a zero key), as a live client sends pongs.
		if _, err := conn.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', 'x'}); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); s.ClientsCount() < n; {
		if time.Now().After(deadline) {
			b.Fatalf("%d sessions open, want %d", s.ClientsCount(), n)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // every read loop blocks
	heap1, stack1 := memInUse()
	return float64(heap1-heap0) / float64(n), float64(stack1-stack0) / float64(n)
}

// memInUse returns HeapInuse and StackInuse after a full collection.
func memInUse() (heap, stack int64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse), int64(m.StackInuse)
}

type nopHandler struct{}

func (nopHandler) OnMessage([]byte, bool) {}
func (nopHandler) OnClose(string, error)  {}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
