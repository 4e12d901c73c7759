package store

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/internal/wiretest"
)

// quietLog discards the log of servers and stores under test.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

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

// connect joins "/" presenting pid and offset (none when empty) and returns
// the sid and pid of the CONNECT reply.
func connect(t testing.TB, c *wiretest.Client, pid, offset string) (sid, newPID string) {
	t.Helper()
	if pid == "" {
		c.Send("40")
	} else {
		c.Send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	}
	reply := c.Read()
	if !strings.HasPrefix(reply, "40{") {
		t.Fatalf("connect: got %q", reply)
	}
	return wiretest.Between(reply, `"sid":"`, `"`), wiretest.Between(reply, `"pid":"`, `"`)
}

// lastArg returns the last string argument of an EVENT frame: its offset.
func lastArg(frame string) string {
	i := strings.LastIndex(frame, `,"`)
	return strings.TrimSuffix(frame[i+2:], `"]`)
}
