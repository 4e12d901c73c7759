// Command edged runs the edged Socket.IO server.
//
// This first version serves the Socket.IO core with its Engine.IO options
// from flags; plugins, persistence and the full configuration arrive with
// their issues.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/host"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "edged:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("edged", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:3000", "address to listen on")
	path := fs.String("path", "/socket.io/", "URL prefix of the Socket.IO endpoint")
	pingInterval := fs.Duration("ping-interval", 25*time.Second, "server ping period")
	pingTimeout := fs.Duration("ping-timeout", 20*time.Second, "wait for pong before closing with \"ping timeout\"")
	connectTimeout := fs.Duration("connect-timeout", 45*time.Second, "close a client that joins no namespace in this time")
	maxBuffer := fs.Int64("max-http-buffer-size", 1e6, "largest message in bytes")
	recovery := fs.Bool("connection-state-recovery", false, "keep sessions for connection state recovery")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (enables HTTPS and HTTP/2)")
	tlsKey := fs.String("tls-key", "", "TLS key file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := core.Options{
		Engine: host.Options{
			Path:              *path,
			PingInterval:      *pingInterval,
			PingTimeout:       *pingTimeout,
			MaxHTTPBufferSize: *maxBuffer,
		},
		ConnectTimeout: *connectTimeout,
		Logger:         log,
	}
	if *recovery {
		opts.ConnectionStateRecovery = core.DefaultRecoveryOptions()
	}
	srv := core.NewServer(opts)

	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- httpSrv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- httpSrv.Serve(ln)
		}
	}()
	log.Info("edged listening", "addr", ln.Addr().String(), "path", srv.Path())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(shutdownCtx); err != nil {
		log.Warn("close", "err", err)
	}
	return httpSrv.Shutdown(shutdownCtx)
}
