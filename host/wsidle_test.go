package host

import (
	"bufio"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// recorder collects what one session receives.
type recorder struct {
	msgs   chan string
	closed chan string
}

func (r *recorder) OnMessage(data []byte, _ bool)  { r.msgs <- string(data) }
func (r *recorder) OnClose(reason string, _ error) { r.closed <- reason }

// clientFrame encodes a masked text frame (mask key zero) as a client sends it.
func clientFrame(payload string) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, payload...)
}

// TestIdleSessionWakes: after its first message a session waits for the
// next in a fresh goroutine (idleReader); whatever arrives then, in one burst
// of several frames or one frame larger than the read buffer, is delivered
// whole and in order, and a client that goes away is noticed.
func TestIdleSessionWakes(t *testing.T) {
	long := "a" + strings.Repeat("x", 3*wsReadBufferSize)
	tests := []struct {
		name  string
		burst []string
	}{
		{"one message", []string{"second"}},
		{"several in one write", []string{"2", "3", "4", "5", "6", "7", "8", "9"}},
		{"larger than the read buffer, then a small one", []string{long, "after"}},
		{"small, then larger than the read buffer", []string{"before", long}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{msgs: make(chan string, 64), closed: make(chan string, 1)}
			s := NewServer(Options{
				Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
				OnConnection: func(c *Conn) { c.SetHandler(rec) },
			})
			ts := httptest.NewServer(s)
			defer ts.Close()
			defer s.Close()
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
				"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			if _, err := conn.Write(clientFrame("4first")); err != nil {
				t.Fatal(err)
			}
			expectRecorded(t, rec.msgs, "first")
			var burst []byte
			for _, m := range tt.burst {
				burst = append(burst, clientFrame("4"+m)...)
			}
			if _, err := conn.Write(burst); err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.burst {
				expectRecorded(t, rec.msgs, m)
			}
			conn.Close()
			select {
			case reason := <-rec.closed:
				if reason != ReasonTransportClose {
					t.Fatalf("closed with %q, want %q", reason, ReasonTransportClose)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the client's disconnect was not noticed")
			}
		})
	}
}

func expectRecorded(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("received %.40q, want %.40q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%.40q not received within 5s", want)
	}
}
