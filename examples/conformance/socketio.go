package main

import (
	"log/slog"
	"time"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/host"
)

// newSocketIOServer returns the server the official Socket.IO v5 test suite
// expects at /socket.io/: namespaces "/" and "/custom" that send the auth
// payload back on connection, echo "message" as "message-back" and answer
// "message-with-ack" with the same arguments.
func newSocketIOServer(log *slog.Logger) *core.Server {
	srv := core.NewServer(core.Options{
		Engine: host.Options{
			Path:         "/socket.io/",
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			CORS:         &host.CORSOptions{Origins: []string{"*"}},
		},
		ConnectTimeout: time.Second,
		Logger:         log,
	})
	for _, name := range []string{"/", "/custom"} {
		srv.Of(name).OnConnection(func(s *core.Socket) {
			_ = s.Emit("auth", s.Handshake().Auth)
			s.On("message", func(e *core.Event) { _ = s.EmitPayload("message-back", e.Args) })
			s.On("message-with-ack", func(e *core.Event) { _ = e.AckPayload(e.Args) })
		})
	}
	return srv
}
