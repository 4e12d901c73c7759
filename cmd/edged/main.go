// Command edged runs the edged Socket.IO server.
//
// It serves the Socket.IO core with its Engine.IO options from flags, and
// the WebAssembly plugins of --plugins DIR (hot-reloaded when the directory
// changes, or on SIGHUP). With --data DIR (default ./data) sessions, rooms,
// socket.data, recovery packets and the plugins' key-value data live in a
// Badger database in DIR and survive a restart; --data "" keeps them in
// memory. See docs/OPERATIONS.md.
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
	"github.com/edged-io/edged/plugins"
	"github.com/edged-io/edged/store"
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
	maxDisconnection := fs.Duration("max-disconnection-duration", 2*time.Minute, "how long a disconnected session can be recovered (with --connection-state-recovery)")
	skipMiddlewares := fs.Bool("recovery-skip-middlewares", true, "a recovered socket skips the namespace middleware")
	dataDir := fs.String("data", "./data", "data directory (Badger): sessions, recovery packets, plugin key-value data; \"\": in memory only")
	gcInterval := fs.Duration("data-gc-interval", 5*time.Minute, "how often the data directory's value log is garbage-collected")
	flushInterval := fs.Duration("data-flush-interval", 50*time.Millisecond, "how often session and packet writes are flushed to the data directory (the durability window)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (enables HTTPS and HTTP/2)")
	tlsKey := fs.String("tls-key", "", "TLS key file")
	pluginDir := fs.String("plugins", "", "directory of WebAssembly plugins (NAME.wasm, NAME.json); empty: no plugins")
	staticDir := fs.String("static", "", "directory of static files served at / (e.g. web/chat); empty: none")
	pluginCache := fs.String("plugin-cache", "", "compilation cache directory for plugins (default: under the user cache dir)")
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
		rec := core.DefaultRecoveryOptions()
		rec.MaxDisconnectionDuration = *maxDisconnection
		rec.SkipMiddlewares = *skipMiddlewares
		opts.ConnectionStateRecovery = rec
	}
	var kv store.KV
	var db *store.DB
	if *dataDir != "" {
		var err error
		db, err = store.Open(*dataDir, store.Options{FlushInterval: *flushInterval, GCInterval: *gcInterval, Logger: log})
		if err != nil {
			return err
		}
		// closed last: after the server persisted the sessions of its sockets
		defer func() {
			if err := db.Close(); err != nil {
				log.Error("close data directory", "err", err)
			}
		}()
		kv = db.KV()
		if opts.ConnectionStateRecovery != nil {
			opts.RecoveryStore = db.RecoveryStore(opts.ConnectionStateRecovery)
		}
	} else {
		kv = store.NewMemoryKV()
		log.Info("no data directory: sessions and plugin data are kept in memory only")
	}
	srv := core.NewServer(opts)
	if *pluginDir != "" {
		pm, err := startPlugins(srv, *pluginDir, *pluginCache, kv, log)
		if err != nil {
			return err
		}
		defer pm.Close()
	}

	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	if *staticDir != "" {
		h, err := staticHandler(*staticDir)
		if err != nil {
			return err
		}
		mux.Handle("/", h) // the longer Socket.IO path keeps priority
	}
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

// startPlugins loads the plugins of dir, watches it and reloads on SIGHUP.
func startPlugins(srv *core.Server, dir, cache string, kv store.KV, log *slog.Logger) (*plugins.Manager, error) {
	pm, err := plugins.New(srv, plugins.Options{Dir: dir, CacheDir: cache, KV: kv, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := pm.Load(context.Background()); err != nil {
		_ = pm.Close()
		return nil, err
	}
	if err := pm.Watch(); err != nil {
		_ = pm.Close()
		return nil, err
	}
	// each plugin was logged as "plugin loaded" with its version and namespaces
	log.Info("plugins ready", "dir", dir, "count", len(pm.Plugins()))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := pm.Reload(context.Background()); err != nil {
				log.Error("plugin reload failed", "err", err)
			}
		}
	}()
	return pm, nil
}
