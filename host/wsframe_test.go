package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// acceptPair starts a server that accepts one WebSocket with
// acceptWebSocket and returns that transport and a real client connected
// to it. Both are closed when the test ends.
func acceptPair(tb testing.TB, opts Options) (*wsTransport, *websocket.Conn) {
	tb.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s := NewServer(opts)
	accepted := make(chan *wsTransport, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.acceptWebSocket(w, r)
		if err != nil {
			tb.Errorf("accept: %v", err)
			close(accepted)
			return
		}
		accepted <- t
	}))
	tb.Cleanup(ts.Close)
	dopts := &websocket.DialOptions{}
	if opts.PerMessageDeflate {
		dopts.CompressionMode = websocket.CompressionNoContextTakeover
	}
	client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(ts.URL, "http"), dopts)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	client.SetReadLimit(1 << 30)
	tb.Cleanup(func() { client.CloseNow() })
	t := <-accepted
	if t == nil {
		tb.FailNow()
	}
	tb.Cleanup(func() { t.conn.CloseNow() })
	return t, client
}

// BenchmarkWriteBatch measures writeBatch of 16 small text packets. On
// "loopback" a client on a real TCP connection drains the bytes (without
// parsing frames); on "discard" the socket writes go nowhere, which leaves
// only the framing and batching work.
func BenchmarkWriteBatch(b *testing.B) {
	pkts := make([]packet, 16)
	for i := range pkts {
		pkts[i] = packet{typ: packetMessage, data: []byte(`2["chat",{"from":"alice","text":"hello, world"}]`)}
	}
	perOp := int64(len(pkts) * (2 + 1 + len(pkts[0].data)))
	b.Run("loopback", func(b *testing.B) {
		t, conn := acceptRaw(b)
		done := make(chan error, 1)
		go func() {
			_, err := io.CopyN(io.Discard, conn, perOp*int64(b.N))
			done <- err
		}()
		benchWriteBatch(b, t, pkts)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
	b.Run("discard", func(b *testing.B) {
		t, _ := acceptRaw(b)
		t.out.conn = discardConn{}
		benchWriteBatch(b, t, pkts)
	})
}

func benchWriteBatch(b *testing.B, t *wsTransport, pkts []packet) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := t.writeBatch(pkts); err != nil {
			b.Fatal(err)
		}
	}
}

// discardConn is a connection whose writes succeed and go nowhere.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// acceptRaw is acceptPair with a client that does the WebSocket handshake
// by hand and returns the bare TCP connection, positioned after the
// response headers.
func acceptRaw(tb testing.TB) (*wsTransport, io.Reader) {
	tb.Helper()
	s := NewServer(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	accepted := make(chan *wsTransport, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.acceptWebSocket(w, r)
		if err != nil {
			tb.Errorf("accept: %v", err)
			close(accepted)
			return
		}
		accepted <- t
	}))
	tb.Cleanup(ts.Close)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("handshake: %v %v", resp, err)
	}
	t := <-accepted
	if t == nil {
		tb.FailNow()
	}
	tb.Cleanup(func() { t.conn.CloseNow() })
	return t, br
}

func TestAppendFrameHeader(t *testing.T) {
	tests := []struct {
		opcode byte
		n      int
		want   []byte
	}{
		{wsOpText, 0, []byte{0x81, 0}},
		{wsOpBinary, 125, []byte{0x82, 125}},
		{wsOpText, 126, []byte{0x81, 126, 0, 126}},
		{wsOpBinary, 65535, []byte{0x82, 126, 0xff, 0xff}},
		{wsOpText, 65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tt := range tests {
		if got := appendFrameHeader([]byte("x"), tt.opcode, tt.n); !bytes.Equal(got, append([]byte("x"), tt.want...)) {
			t.Errorf("appendFrameHeader(%#x, %d) = % x, want x then % x", tt.opcode, tt.n, got, tt.want)
		}
	}
}

// TestWriteBatchFrames writes a batch of text and binary packets of every
// length class and reads it back with a real client, with and without
// permessage-deflate.
func TestWriteBatchFrames(t *testing.T) {
	pkts := []packet{
		{typ: packetOpen, data: []byte(`{"sid":"x"}`)},
		{typ: packetPing},
		{typ: packetMessage, data: []byte{}, binary: true},
		{typ: packetMessage, data: bytes.Repeat([]byte("a"), 124)},
		{typ: packetMessage, data: bytes.Repeat([]byte("b"), 125)},
		{typ: packetMessage, data: bytes.Repeat([]byte{1}, 126), binary: true},
		{typ: packetMessage, data: bytes.Repeat([]byte("c"), 65535)},
		{typ: packetMessage, data: bytes.Repeat([]byte{2}, 65536), binary: true},
		{typ: packetMessage, data: bytes.Repeat([]byte("d"), 3*corkLimit)},
		{typ: packetMessage, data: []byte("tail")},
	}
	for _, tt := range []struct {
		name    string
		deflate bool
	}{{"frames", false}, {"deflate", true}} {
		t.Run(tt.name, func(t *testing.T) {
			tr, client := acceptPair(t, Options{PerMessageDeflate: tt.deflate})
			if tr.out.frames == tt.deflate {
				t.Fatalf("frames = %v with deflate %v", tr.out.frames, tt.deflate)
			}
			errc := make(chan error, 1)
			go func() { errc <- tr.writeBatch(pkts) }()
			for i, p := range pkts {
				typ, data, err := client.Read(context.Background())
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				want, wantTyp := append([]byte{p.typ}, p.data...), websocket.MessageText
				if p.binary {
					want, wantTyp = p.data, websocket.MessageBinary
				}
				if typ != wantTyp || !bytes.Equal(data, want) {
					t.Fatalf("frame %d: %v of %d bytes, want %v of %d bytes", i, typ, len(data), wantTyp, len(want))
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCorkWriterFrames checks that data frames written by writeFrames and
// control frames written by the library keep their order, and that no data
// frame follows a close frame.
func TestCorkWriterFrames(t *testing.T) {
	pong := []byte{0x8a, 1, 'p'}
	closeFrame := []byte{0x88, 2, 0x03, 0xe8}
	data := []byte{0x81, 2, '4', 'x'}
	tests := []struct {
		name    string
		control []byte // written by "the library" before the data frame
		corked  bool
		want    []byte
		wantErr error
	}{
		{"pong", pong, false, append(slices.Clone(pong), data...), nil},
		{"pong corked", pong, true, append(slices.Clone(pong), data...), nil},
		{"close", closeFrame, false, closeFrame, net.ErrClosed},
		{"close corked", closeFrame, true, closeFrame, net.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := &countingConn{}
			w := &corkWriter{conn: conn, frames: true}
			if tt.corked {
				w.cork()
			}
			if _, err := w.Write(tt.control); err != nil {
				t.Fatal(err)
			}
			err := w.writeFrames([]packet{{typ: packetMessage, data: []byte("x")}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("writeFrames: %v, want %v", err, tt.wantErr)
			}
			if err := w.uncork(); err != nil {
				t.Fatal(err)
			}
			if got := conn.data.Bytes(); !bytes.Equal(got, tt.want) {
				t.Fatalf("wrote % x, want % x", got, tt.want)
			}
		})
	}
}

// TestWriteBatchAfterClose closes a connection from the library's side and
// checks that the client sees the close frame and nothing after it.
func TestWriteBatchAfterClose(t *testing.T) {
	tr, client := acceptPair(t, Options{})
	go tr.conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.out.mu.Lock()
		closed := tr.out.closed
		tr.out.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no close frame written")
		}
		time.Sleep(time.Millisecond)
	}
	if err := tr.writeBatch([]packet{{typ: packetMessage, data: []byte("late")}}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writeBatch after close: %v, want net.ErrClosed", err)
	}
	if err := tr.writeText(packetPong, probe); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writeText after close: %v, want net.ErrClosed", err)
	}
	_, _, err := client.Read(context.Background())
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("client read %v, want the close frame", err)
	}
}
