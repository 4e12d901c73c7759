// Command native serves the benchmark's echo contract (namespace "/") with
// Go handlers on package core instead of the echo WASM plugin, so the
// plugin's share of edged's cost is visible. See bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edged-io/edged/core"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:3100", "listen address")
	pprofAddr := flag.String("pprof-addr", "", "serve net/http/pprof on this address (for profiling the benchmark)")
	flag.Parse()
	if *pprofAddr != "" {
		go func() { log.Println(http.ListenAndServe(*pprofAddr, nil)) }()
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := core.NewServer(core.Options{Logger: logger, DisableServeClient: true})
	ns := srv.Sockets()
	srv.OnConnection(func(s *core.Socket) {
		s.On("echo", func(e *core.Event) {
			if e.HasAck() {
				_ = e.AckPayload(e.Args)
				return
			}
			_ = s.EmitPayload("echo", e.Args)
		})
		s.On("join", func(e *core.Event) {
			var room string
			if err := e.Args.Bind(&room); err != nil || room == "" {
				return
			}
			s.Join(room)
			_ = e.AckPayload(core.Payload{Data: json.RawMessage("[]")})
		})
		s.On("broadcast", func(e *core.Event) {
			var args []json.RawMessage
			if err := json.Unmarshal(e.Args.Data, &args); err != nil || len(args) < 2 {
				return
			}
			var room string
			if err := json.Unmarshal(args[0], &room); err != nil || room == "" {
				return
			}
			data := make(json.RawMessage, 0, len(args[1])+2)
			data = append(append(append(data, '['), args[1]...), ']')
			_ = ns.To(room).EmitPayload("msg", core.Payload{Data: data, Attachments: e.Args.Attachments})
			_ = e.AckPayload(core.Payload{Data: json.RawMessage("[]")})
		})
	})

	hs := &http.Server{Addr: *listen, Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		_ = hs.Shutdown(ctx)
	}()
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
