// Command edged runs the edged Socket.IO server.
//
// Its options (config.go) come from flags, EDGED_* environment variables and
// a JSON config file, in that order of precedence; `edged --help` lists
// them. It serves the Socket.IO core and the WebAssembly plugins of
// --plugins DIR (hot-reloaded when the directory changes, or on SIGHUP,
// which also re-reads the configuration). With --data DIR (default ./data)
// sessions, rooms, socket.data, recovery packets and the plugins' key-value
// data live in a Badger database in DIR and survive a restart; --data ""
// keeps them in memory. SIGTERM and SIGINT shut down gracefully within
// --shutdown-timeout. See docs/OPERATIONS.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/plugins"
	"github.com/edged-io/edged/store"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is edged's whole life; it returns the exit code: 0 after a clean
// shutdown, 1 on a failure at start-up or shutdown, 2 on a bad configuration.
func run(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "version" {
		fmt.Fprintf(stdout, "edged %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	}
	cfg, err := loadConfig(args, lookupEnv, stdout)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "edged:", err)
		return 2
	}
	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel)
	log := newLogger(stderr, cfg.LogFormat, level)
	slog.SetDefault(log)
	d := &daemon{cfg: cfg, args: args, lookupEnv: lookupEnv, level: level, log: log}
	if err := d.serve(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			fmt.Fprintln(stderr, "edged:", err)
			return 2
		}
		fmt.Fprintln(stderr, "edged:", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// daemon is one running edged.
type daemon struct {
	cfg       *Config
	args      []string
	lookupEnv func(string) (string, bool)
	level     *slog.LevelVar
	log       *slog.Logger

	ready    atomic.Bool // plugins loaded, store open, listening; false again once shutting down
	srv      *core.Server
	pm       *plugins.Manager
	db       *store.DB
	http     *http.Server
	metrics  *http.Server
	closeFns []func()
}

func (d *daemon) serve() (err error) {
	cfg, log := d.cfg, d.log
	defer func() {
		// on a start-up failure, release what was opened
		if err != nil {
			for i := len(d.closeFns) - 1; i >= 0; i-- {
				d.closeFns[i]()
			}
		}
	}()
	m := newMetrics(cfg, log)
	opts := cfg.coreOptions(log)
	if m.Core != nil {
		m.Core(&opts)
	}
	var kv store.KV
	if cfg.Data != "" {
		sopts := store.Options{FlushInterval: cfg.DataFlush, GCInterval: cfg.DataGCInterval, Logger: log}
		if m.Store != nil {
			m.Store(&sopts)
		}
		db, err := store.Open(cfg.Data, sopts)
		if err != nil {
			return err
		}
		d.db = db
		d.closeFns = append(d.closeFns, func() { _ = db.Close() })
		kv = db.KV()
		if opts.ConnectionStateRecovery != nil {
			opts.RecoveryStore = db.RecoveryStore(opts.ConnectionStateRecovery)
		}
	} else {
		kv = store.NewMemoryKV()
		log.Info("no data directory: sessions and plugin data are kept in memory only")
	}
	d.srv = core.NewServer(opts)
	d.closeFns = append(d.closeFns, func() { _ = d.srv.Close(context.Background()) })
	if cfg.Plugins != "" {
		popts := plugins.Options{Dir: cfg.Plugins, CacheDir: cfg.PluginCache, KV: kv, Logger: log}
		if m.Plugins != nil {
			m.Plugins(&popts)
		}
		pm, err := startPlugins(d.srv, popts, log)
		if err != nil {
			return err
		}
		d.pm = pm
		d.closeFns = append(d.closeFns, func() { _ = pm.Close() })
	}

	mux := http.NewServeMux()
	mux.Handle(d.srv.Path(), d.srv)
	d.health(mux)
	if cfg.Static != "" {
		h, err := staticHandler(cfg.Static)
		if err != nil {
			return err
		}
		mux.Handle("/", h) // the longer Socket.IO and health paths keep priority
	}
	if cfg.MetricsAddr == "" && m.Handler != nil {
		mux.Handle("/metrics", m.Handler)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	d.closeFns = append(d.closeFns, func() { _ = ln.Close() })
	errc := make(chan error, 2)
	if cfg.MetricsAddr != "" {
		mmux := http.NewServeMux()
		d.health(mmux)
		if m.Handler != nil {
			mmux.Handle("/metrics", m.Handler)
		}
		if cfg.Pprof {
			mmux.HandleFunc("/debug/pprof/", pprof.Index)
			mmux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
			mmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mmux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mmux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (--metrics-addr): %w", cfg.MetricsAddr, err)
		}
		d.metrics = &http.Server{Handler: mmux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- fmt.Errorf("metrics listener: %w", d.metrics.Serve(mln)) }()
		log.Info("metrics listening", "addr", mln.Addr().String(), "pprof", cfg.Pprof, "metrics", m.Handler != nil)
	}
	// from here on the signals are ours (before "edged listening", which
	// tests and scripts wait for before they signal)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	d.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		if cfg.TLSCert != "" {
			errc <- d.http.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- d.http.Serve(ln)
		}
	}()
	d.ready.Store(true)
	log.Info("edged listening", "addr", ln.Addr().String(), "path", d.srv.Path(), "tls", cfg.TLSCert != "", "version", version)

	for {
		select {
		case err := <-errc:
			d.ready.Store(false)
			if d.metrics != nil {
				_ = d.metrics.Close()
			}
			return fmt.Errorf("serve: %w", err)
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.closeFns = nil // shutdown closes everything itself
			return d.shutdown(sig, sigs)
		}
	}
}

// health adds /healthz (200 while the process serves) and /readyz (200
// once the plugins are loaded, the store is open and the listener is up;
// 503 before and while shutting down).
func (d *daemon) health(mux *http.ServeMux) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !d.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

// shutdown stops accepting, disconnects every client with "server shutting
// down", closes the plugins and then flushes and closes the store, all
// within --shutdown-timeout. A second signal, or the bound running out,
// ends the process at once with an error (exit 1).
func (d *daemon) shutdown(sig os.Signal, sigs <-chan os.Signal) error {
	timeout := d.cfg.ShutdownTimeout
	start := time.Now()
	d.ready.Store(false)
	d.log.Info("shutting down", "signal", sig.String(), "timeout", timeout.String())
	done := make(chan error, 1)
	go func() { done <- d.closeAll(timeout) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			d.log.Error("shutdown incomplete", "err", err, "took", time.Since(start).String())
			return fmt.Errorf("shutdown: %w", err)
		}
		d.log.Info("shut down", "took", time.Since(start).Round(time.Millisecond).String())
		return nil
	case <-timer.C:
		d.log.Error("shutdown timed out: exiting without finishing it", "timeout", timeout.String())
		return fmt.Errorf("shutdown did not finish within --shutdown-timeout %s", timeout)
	case s := <-sigs:
		d.log.Error("second signal during shutdown: exiting now", "signal", s.String())
		return fmt.Errorf("shutdown interrupted by %s", s)
	}
}

// closeAll closes the layers in order. The server gets 80% of the bound;
// the rest is kept for the plugins and the store's last flush.
func (d *daemon) closeAll(timeout time.Duration) error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), timeout*8/10)
	defer cancel()
	// stop accepting at once; Shutdown then waits for the requests in flight,
	// which srv.Close ends (long-polling GETs get their close packet)
	httpDone := make(chan error, 1)
	go func() { httpDone <- d.http.Shutdown(ctx) }()
	if err := d.srv.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := <-httpDone; err != nil {
		errs = append(errs, fmt.Errorf("http: %w", err))
		_ = d.http.Close()
	}
	if d.pm != nil {
		if err := d.pm.Close(); err != nil {
			errs = append(errs, fmt.Errorf("plugins: %w", err))
		}
	}
	if d.db != nil {
		if err := d.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("data directory: %w", err))
		}
	}
	if d.metrics != nil {
		_ = d.metrics.Close()
	}
	return errors.Join(errs...)
}

// reload re-reads the configuration (the same command line, the
// environment and the config file), applies the reloadable options, logs
// the others that changed (they need a restart) and rescans the plugins.
func (d *daemon) reload() {
	log := d.log
	log.Info("SIGHUP: reloading the configuration")
	next, err := loadConfig(d.args, d.lookupEnv, io.Discard)
	if err != nil {
		log.Error("configuration reload failed: keeping the running configuration", "err", err)
	} else {
		applied, restart := d.cfg.changes(next)
		d.level.Set(next.LogLevel)
		d.cfg.LogLevel = next.LogLevel
		d.cfg.ShutdownTimeout = next.ShutdownTimeout
		if len(applied) > 0 {
			log.Info("configuration reloaded", "applied", strings.Join(applied, "; "))
		} else {
			log.Info("configuration reloaded", "applied", "nothing changed")
		}
		if len(restart) > 0 {
			log.Warn("changed options need a restart to apply", "options", strings.Join(restart, "; "))
		}
	}
	if d.pm != nil {
		if err := d.pm.Reload(context.Background()); err != nil {
			log.Error("plugin reload failed", "err", err)
		}
	}
}

// startPlugins loads the plugins of the directory and watches it.
func startPlugins(srv *core.Server, opts plugins.Options, log *slog.Logger) (*plugins.Manager, error) {
	pm, err := plugins.New(srv, opts)
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
	log.Info("plugins ready", "dir", opts.Dir, "count", len(pm.Plugins()))
	return pm, nil
}
