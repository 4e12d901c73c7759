// Command server is the Socket.IO server that the interop suite under test/
// drives with the official socket.io-client. It is built on package core and
// serves the scenarios of scenarios.go; the flags set what a suite varies.
//
// It prints "LISTENING 127.0.0.1:PORT" as its first line on stdout once it
// accepts connections, then one "DISCONNECT {json}" line per socket that
// disconnects. On SIGTERM or SIGINT it closes the Socket.IO server gracefully
// (every socket is disconnected with "server shutting down"), prints "CLOSED"
// and exits 0.
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
	"strings"
	"syscall"
	"time"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/host"
)

type config struct {
	addr              string
	recovery          bool
	maxHTTPBufferSize int64
	pingInterval      time.Duration
	pingTimeout       time.Duration
	connectTimeout    time.Duration
	corsOrigins       string
	corsCredentials   bool
	transports        string
	denyHeader        string
	handlerDelay      time.Duration
	logLevel          string
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	flag.BoolVar(&c.recovery, "recovery", false, "enable connection state recovery with the default options")
	flag.Int64Var(&c.maxHTTPBufferSize, "max-http-buffer-size", 0, "largest accepted message in bytes (0: default 1e6)")
	flag.DurationVar(&c.pingInterval, "ping-interval", 0, "server ping period (0: default 25s)")
	flag.DurationVar(&c.pingTimeout, "ping-timeout", 0, "wait for pong (0: default 20s)")
	flag.DurationVar(&c.connectTimeout, "connect-timeout", 0, "close a connection that joins no namespace in this time (0: default 45s)")
	flag.StringVar(&c.corsOrigins, "cors-origin", "", "comma-separated allowed CORS origins (empty: CORS off)")
	flag.BoolVar(&c.corsCredentials, "cors-credentials", false, "answer Access-Control-Allow-Credentials: true")
	flag.StringVar(&c.transports, "transports", "polling,websocket", "comma-separated enabled transports")
	flag.StringVar(&c.denyHeader, "allow-request-deny-header", "x-deny",
		"a handshake carrying this header is refused by allowRequest (403, code 4) with the header value as message, or \"Forbidden\" when empty")
	flag.DurationVar(&c.handlerDelay, "disconnect-handler-delay", 0,
		"make every disconnect handler work this long before it reports (a slow handler that Server.Close must wait for)")
	flag.StringVar(&c.logLevel, "log-level", "warn", "debug, info, warn or error (logs go to stderr)")
	flag.Parse()
	return c
}

func (c config) options(logger *slog.Logger) core.Options {
	opts := core.Options{
		Engine: host.Options{
			PingInterval:      c.pingInterval,
			PingTimeout:       c.pingTimeout,
			MaxHTTPBufferSize: c.maxHTTPBufferSize,
			Transports:        splitList(c.transports),
		},
		ConnectTimeout: c.connectTimeout,
		Logger:         logger,
	}
	if c.recovery {
		opts.ConnectionStateRecovery = core.DefaultRecoveryOptions()
	}
	if c.corsOrigins != "" {
		opts.Engine.CORS = &host.CORSOptions{Origins: splitList(c.corsOrigins), Credentials: c.corsCredentials}
	}
	if c.denyHeader != "" {
		header := c.denyHeader
		opts.Engine.AllowRequest = func(r *http.Request) error {
			values, ok := r.Header[http.CanonicalHeaderKey(header)]
			if !ok {
				return nil
			}
			if len(values) == 0 || values[0] == "" {
				return errors.New("Forbidden")
			}
			return errors.New(values[0])
		}
	}
	return opts
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func main() {
	cfg := parseFlags()
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "bad -log-level:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	srv := core.NewServer(cfg.options(logger))
	sc := newScenarios(srv, os.Stdout)
	sc.handlerDelay = cfg.handlerDelay
	sc.install()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	httpServer := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	fmt.Printf("LISTENING %s\n", ln.Addr())

	select {
	case err := <-served:
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
	}
	if err := httpServer.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
	}
	fmt.Println("CLOSED")
}
