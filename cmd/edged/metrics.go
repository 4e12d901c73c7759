package main

// The wiring of the Prometheus metrics (package metrics/): one registry per
// process, its handler for /metrics (on --metrics-addr, else on the main
// listener), and the observers set on each layer's options. main.go calls
// newMetrics once, before any layer is built.

import (
	"log/slog"
	"net/http"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/metrics"
	"github.com/edged-io/edged/plugins"
	"github.com/edged-io/edged/store"
)

// metricsWiring is what the metrics plug into edged.
type metricsWiring struct {
	// Handler serves /metrics (on --metrics-addr, else on the main
	// listener); nil serves none.
	Handler http.Handler
	// Core, Plugins and Store, when set, add observers to the options of
	// each layer before it is built.
	Core    func(*core.Options)
	Plugins func(*plugins.Options)
	Store   func(*store.Options)
}

// newMetrics builds the metrics of one edged process: the Engine.IO and
// Socket.IO layers, the plugins and the data directory report to one
// metrics.Metrics, served in the Prometheus formats. With --data "" the
// plugins' in-memory key-value data is observed as well.
func newMetrics(cfg *Config, log *slog.Logger) metricsWiring {
	m := metrics.New()
	log.Debug("metrics enabled", "path", "/metrics")
	return metricsWiring{
		Handler: m.Handler(),
		Core: func(o *core.Options) {
			o.Observer = m
			o.Engine.Observer = m
		},
		Plugins: func(o *plugins.Options) {
			o.Observer = m
			if cfg.Data == "" && o.KV != nil {
				// in memory: the data directory's KV reports through Store
				o.KV = store.ObservedKV(o.KV, m)
			}
		},
		Store: func(o *store.Options) { o.Observer = m },
	}
}
