// Command conformance serves the endpoints the official protocol test
// suites talk to: the raw Engine.IO echo server at /engine.io/ (for the
// engine.io-protocol v4 suite) and, once the core is wired in, the Socket.IO
// server at /socket.io/ (for the socket.io-protocol v5 suite).
//
// Run it with test/conformance/run.sh, or by hand:
//
//	go run ./examples/conformance -addr 127.0.0.1:3000
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edged-io/edged/host"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mux := http.NewServeMux()

	// The raw Engine.IO server, configured as the suite's README asks:
	// pingInterval 300ms, pingTimeout 200ms, maxPayload 1e6, cors origin "*",
	// and every message echoed back.
	engine := host.NewServer(host.Options{
		Path:              "/engine.io/",
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		CORS:              &host.CORSOptions{Origins: []string{"*"}},
		Logger:            logger,
		OnConnection: func(c *host.Conn) {
			c.SetHandler(echo{c})
		},
	})
	mux.Handle("/engine.io/", engine)

	// The Socket.IO server for the socket.io-protocol v5 suite, on the same mux.
	sio := newSocketIOServer(logger)
	mux.Handle("/socket.io/", sio)

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Close(shutdownCtx)
		_ = engine.Shutdown(shutdownCtx)
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("conformance server listening on http://%s", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// echo sends every message of a session back to it.
type echo struct{ c *host.Conn }

func (e echo) OnMessage(data []byte, binary bool) {
	_ = e.c.Send(host.Message{Data: data, Binary: binary})
}

func (e echo) OnClose(string, error) {}
