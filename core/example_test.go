package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/edged-io/edged/core"
)

// A chat handler: the server acknowledges each message and relays it to the
// sender's room. The client here speaks raw protocol frames to show the wire.
func ExampleNewServer() {
	srv := core.NewServer(core.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv.OnConnection(func(s *core.Socket) {
		s.Join("lobby")
		s.On("chat", func(e *core.Event) {
			var text string
			if err := e.Args.Bind(&text); err != nil {
				_ = e.Ack("error: text expected")
				return
			}
			_ = s.To("lobby").Emit("chat", text)
			_ = e.Ack("delivered")
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.CloseNow()
	read := func() string { _, b, _ := conn.Read(ctx); return string(b) }
	read()                                                   // Engine.IO open packet
	_ = conn.Write(ctx, websocket.MessageText, []byte("40")) // connect to "/"
	read()                                                   // CONNECT reply with the socket id
	_ = conn.Write(ctx, websocket.MessageText, []byte(`421["chat","hello"]`))
	fmt.Println(read())
	_ = srv.Close(ctx)
	// Output: 431["delivered"]
}

func ExamplePayload_Bind() {
	p, _ := core.NewPayload("ann", 42, []byte{1, 2})
	var name string
	var age int
	var avatar []byte
	if err := p.Bind(&name, &age, &avatar); err != nil {
		fmt.Println(err)
	}
	fmt.Println(name, age, avatar, string(p.Data))
	// Output: ann 42 [1 2] ["ann",42,{"_placeholder":true,"num":0}]
}
