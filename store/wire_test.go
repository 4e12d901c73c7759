package store

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/core"
)

// quietLog discards the log of servers and stores under test.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// wireClient speaks raw Engine.IO/Socket.IO frames over a WebSocket (as in
// core's tests), so a test can present a pid and offset and see the exact
// packets replayed.
type wireClient struct {
	t    testing.TB
	conn *websocket.Conn
}

func startServer(t testing.TB, opts core.Options) (*core.Server, string, func()) {
	t.Helper()
	opts.Logger = quietLog
	srv := core.NewServer(opts)
	ts := httptest.NewServer(srv)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.Close()
	}
	t.Cleanup(stop)
	return srv, "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket", stop
}

func dial(t testing.TB, url string) *wireClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wireClient{t: t, conn: conn}
	if open := c.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("first frame %q is not an open packet", open)
	}
	return c
}

func (c *wireClient) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("write %q: %v", frame, err)
	}
}

// read returns the next frame that is not a ping (pings are answered).
func (c *wireClient) read() string {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		typ, data, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if typ == websocket.MessageText && string(data) == "2" {
			c.send("3")
			continue
		}
		return string(data)
	}
}

// connect joins "/" presenting pid and offset (none when empty) and returns
// the sid and pid of the CONNECT reply.
func (c *wireClient) connect(pid, offset string) (sid, newPID string) {
	c.t.Helper()
	if pid == "" {
		c.send("40")
	} else {
		c.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	}
	reply := c.read()
	if !strings.HasPrefix(reply, "40{") {
		c.t.Fatalf("connect: got %q", reply)
	}
	return between(reply, `"sid":"`, `"`), between(reply, `"pid":"`, `"`)
}

func between(s, start, end string) string {
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

// lastArg returns the last string argument of an EVENT frame: its offset.
func lastArg(frame string) string {
	i := strings.LastIndex(frame, `,"`)
	return strings.TrimSuffix(frame[i+2:], `"]`)
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for the server")
		var zero T
		return zero
	}
}
