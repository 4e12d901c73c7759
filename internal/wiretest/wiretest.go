// Package wiretest is a raw Socket.IO-over-WebSocket client for tests: it
// sends and reads protocol frames as strings, answering the server's pings,
// so a test can assert the exact bytes a client receives.
package wiretest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Client is one raw WebSocket connection to a Socket.IO server.
type Client struct {
	// Conn is the underlying connection, for tests that close or write to it directly.
	Conn *websocket.Conn
	t    testing.TB
}

// Dial connects to url (a ws:// URL with EIO=4&transport=websocket) and reads
// the Engine.IO open packet. The connection is closed when the test ends.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	c := &Client{Conn: conn, t: t}
	if open := c.Read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("first frame %q is not an open packet", open)
	}
	return c
}

// Send writes one text frame.
func (c *Client) Send(frame string) { c.write(websocket.MessageText, []byte(frame)) }

// SendBinary writes one binary frame.
func (c *Client) SendBinary(b []byte) { c.write(websocket.MessageBinary, b) }

func (c *Client) write(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Conn.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("write %q: %v", b, err)
	}
}

// Read returns the next frame that is not a ping (pings are answered); a
// binary frame is returned as "bin:" followed by its bytes.
func (c *Client) Read() string {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		typ, data, err := c.Conn.Read(ctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.t.Fatal("read: no frame in 10s")
			}
			c.t.Fatalf("read: %v", err)
		}
		if typ == websocket.MessageText && string(data) == "2" {
			c.Send("3")
			continue
		}
		if typ == websocket.MessageBinary {
			return "bin:" + string(data)
		}
		return string(data)
	}
}

// Expect reads the next frame and fails the test unless it is want.
func (c *Client) Expect(want string) {
	c.t.Helper()
	if got := c.Read(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// ExpectClosed waits until the server closes the connection.
func (c *Client) ExpectClosed() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Conn.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.t.Fatal("connection was not closed")
			}
			return
		}
	}
}

// Between returns the text of s between the first start and the next end.
func Between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

// Recv returns the next value of ch, failing the test after 5 s.
func Recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a server-side event")
		var zero T
		return zero
	}
}
