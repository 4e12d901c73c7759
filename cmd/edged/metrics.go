package main

// The wiring point of the Prometheus metrics (package metrics/). This stub
// serves no /metrics and adds no observers; the metrics change replaces
// newMetrics with one that registers the collectors, returns their handler
// and sets the observer hooks of each layer's options. main.go calls it once,
// before any layer is built, and never needs to change for it.

import (
	"log/slog"
	"net/http"

	"github.com/edged-io/edged/core"
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

// newMetrics builds the metrics of one edged process: none in this stub.
func newMetrics(cfg *Config, log *slog.Logger) metricsWiring {
	_, _ = cfg, log
	return metricsWiring{}
}
