package host_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/host"
)

// BenchmarkWebSocketSend measures delivering messages over one WebSocket:
// queueing, batching, framing and the client's reading (in another
// goroutine). The queue bound is lifted so that the sender never waits.
func BenchmarkWebSocketSend(b *testing.B) {
	conns := make(chan *host.Conn, 1)
	srv := host.NewServer(host.Options{
		Logger:            quietLogger(),
		MaxQueuedMessages: b.N + 16,
		MaxQueuedBytes:    1 << 40,
		OnConnection: func(c *host.Conn) {
			c.SetHandler(handlerFunc(func([]byte) {}))
			conns <- c
		},
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	ws, _, err := websocket.Dial(context.Background(), "ws"+ts.URL[len("http"):]+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	c := <-conns
	if _, _, err := ws.Read(context.Background()); err != nil { // the open packet
		b.Fatal(err)
	}
	msg := host.Message{Data: []byte(`2["chat",{"from":"alice","text":"hello, world"}]`)}
	done := make(chan error, 1)
	go func() {
		for range b.N {
			if _, _, err := ws.Read(context.Background()); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Send(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
