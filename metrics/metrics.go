// Package metrics is edged's Prometheus instrumentation: one registry with
// the edged_* families, the Go runtime and process collectors, and the
// observers the layers report to (host.Observer, core.Observer,
// plugins.Observer, store.Observer), all implemented by *Metrics.
//
// Hot-path counters without labels are plain atomic adds; labelled series
// of a fixed label set (the two transports) are resolved once. The
// namespace label takes the namespaces' names: with dynamic namespaces
// (OfRegexp) their number is what the application allows.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/host"
	"github.com/edged-io/edged/plugins"
	"github.com/edged-io/edged/store"
)

// Metrics holds the registry and the families of one edged process. It
// implements the observer interface of every layer; its methods are safe
// for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	// engine
	connsTotal   *prometheus.CounterVec
	conns        *prometheus.GaugeVec
	connsPolling prometheus.Gauge
	connsWS      prometheus.Gauge
	openPolling  prometheus.Counter
	openWS       prometheus.Counter
	disconnects  *prometheus.CounterVec
	upgrades     prometheus.Counter
	packetsIn    prometheus.Counter
	packetsOut   prometheus.Counter
	bytesIn      prometheus.Counter
	bytesOut     prometheus.Counter
	slowConsumer prometheus.Counter

	// Socket.IO
	nspMu sync.RWMutex
	nsps  map[string]*nspState
	socketsDesc,
	roomsDesc,
	nspsDesc *prometheus.Desc
	socketConnects    *prometheus.CounterVec
	socketDisconnects *prometheus.CounterVec
	fanout            *prometheus.HistogramVec
	ackLatency        *prometheus.HistogramVec
	volatileDropped   prometheus.Counter

	// plugins
	pluginCalls    *prometheus.CounterVec
	pluginDuration *prometheus.HistogramVec
	pluginReloads  *prometheus.CounterVec

	// store
	storeOps      *prometheus.CounterVec
	storeDuration *prometheus.HistogramVec
}

// nspState is what the gauges of one namespace read.
type nspState struct {
	sockets atomic.Int64
	rooms   atomic.Int64 // every room, the sockets' own rooms included
}

var (
	_ host.Observer    = (*Metrics)(nil)
	_ core.Observer    = (*Metrics)(nil)
	_ plugins.Observer = (*Metrics)(nil)
	_ store.Observer   = (*Metrics)(nil)
)

// New returns the metrics of one process, registered in a new registry
// with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), nsps: map[string]*nspState{}}
	f := factory{m.reg}

	m.connsTotal = f.counterVec("edged_connections_total", "Engine.IO sessions opened, by the transport they opened on.", "transport")
	m.conns = f.gaugeVec("edged_connections", "Engine.IO sessions open now, by their current transport.", "transport")
	m.disconnects = f.counterVec("edged_disconnections_total", "Engine.IO sessions closed, by the transport they ended on and the close reason.", "transport", "reason")
	m.upgrades = f.counter("edged_upgrades_total", "Engine.IO sessions upgraded from polling to websocket.")
	m.packetsIn = f.counter("edged_packets_received_total", "Engine.IO message packets received from clients.")
	m.packetsOut = f.counter("edged_packets_sent_total", "Engine.IO message packets queued to clients (a broadcast counts once per recipient).")
	m.bytesIn = f.counter("edged_received_bytes_total", "Payload bytes of the message packets received from clients.")
	m.bytesOut = f.counter("edged_sent_bytes_total", "Payload bytes of the message packets queued to clients.")
	m.slowConsumer = f.counter("edged_slow_consumer_disconnects_total", "Sessions closed because their outgoing queue overflowed (slow consumers).")
	m.connsPolling = m.conns.WithLabelValues(host.TransportPolling)
	m.connsWS = m.conns.WithLabelValues(host.TransportWebSocket)
	m.openPolling = m.connsTotal.WithLabelValues(host.TransportPolling)
	m.openWS = m.connsTotal.WithLabelValues(host.TransportWebSocket)

	m.nspsDesc = prometheus.NewDesc("edged_namespaces", "Socket.IO namespaces that exist, the main one included.", nil, nil)
	m.socketsDesc = prometheus.NewDesc("edged_sockets", "Sockets connected now, by namespace.", []string{"namespace"}, nil)
	m.roomsDesc = prometheus.NewDesc("edged_rooms", "Rooms with members now, by namespace, without each socket's own room.", []string{"namespace"}, nil)
	m.reg.MustRegister(nspCollector{m})
	m.socketConnects = f.counterVec("edged_socket_connections_total", "Sockets connected to a namespace.", "namespace")
	m.socketDisconnects = f.counterVec("edged_socket_disconnections_total", "Sockets disconnected from a namespace, by reason.", "namespace", "reason")
	m.fanout = f.histogramVec("edged_broadcast_recipients", "Recipients of each broadcast on this node (count: broadcasts, sum: packets delivered).",
		[]float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}, "namespace")
	m.ackLatency = f.histogramVec("edged_ack_latency_seconds", "Acknowledgement latency: side=\"server\" from an event asking for an ack to the server's answer, side=\"client\" from an emit with ack to the client's answer.",
		prometheus.ExponentialBuckets(0.0005, 2, 16), "namespace", "side")
	m.volatileDropped = f.counter("edged_volatile_dropped_total", "Volatile packets dropped because the client's transport could not write at once.")

	m.pluginCalls = f.counterVec("edged_plugin_calls_total", "Plugin dispatcher calls, by plugin, version, kind and outcome (ok, rejected, error, trap, timeout, oom).", "plugin", "version", "kind", "outcome")
	m.pluginDuration = f.histogramVec("edged_plugin_call_duration_seconds", "Duration of plugin dispatcher calls, waiting for a pooled instance included.",
		prometheus.ExponentialBuckets(0.00005, 2, 16), "plugin", "version", "kind")
	m.pluginReloads = f.counterVec("edged_plugin_reloads_total", "Plugin reloads that changed something or failed, by plugin and result (ok, error, removed).", "plugin", "result")

	m.storeOps = f.counterVec("edged_store_operations_total", "Data directory operations, by op (kv_get, kv_set, kv_delete, kv_scan, kv_cas, flush, restore_session, gc) and result (ok, error).", "op", "result")
	m.storeDuration = f.histogramVec("edged_store_operation_duration_seconds", "Duration of data directory operations, by op.",
		prometheus.ExponentialBuckets(0.00001, 4, 10), "op")

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// factory creates and registers the families.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

// nspCollector exports the namespace gauges from the counts the core
// observer keeps.
type nspCollector struct{ m *Metrics }

func (c nspCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.nspsDesc
	ch <- c.m.socketsDesc
	ch <- c.m.roomsDesc
}

func (c nspCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.nspMu.RLock()
	defer m.nspMu.RUnlock()
	ch <- prometheus.MustNewConstMetric(m.nspsDesc, prometheus.GaugeValue, float64(len(m.nsps)))
	for name, st := range m.nsps {
		sockets := st.sockets.Load()
		// every connected socket has its own room; the rest are the
		// application's (a moment apart during a connect or disconnect)
		rooms := max(st.rooms.Load()-sockets, 0)
		ch <- prometheus.MustNewConstMetric(m.socketsDesc, prometheus.GaugeValue, float64(max(sockets, 0)), name)
		ch <- prometheus.MustNewConstMetric(m.roomsDesc, prometheus.GaugeValue, float64(rooms), name)
	}
}

// nsp returns the state of a namespace, creating it.
func (m *Metrics) nsp(name string) *nspState {
	m.nspMu.RLock()
	st := m.nsps[name]
	m.nspMu.RUnlock()
	if st != nil {
		return st
	}
	m.nspMu.Lock()
	defer m.nspMu.Unlock()
	if st = m.nsps[name]; st == nil {
		st = &nspState{}
		m.nsps[name] = st
	}
	return st
}

// host.Observer

// ConnOpened implements host.Observer.
func (m *Metrics) ConnOpened(transport string) {
	if transport == host.TransportWebSocket {
		m.openWS.Inc()
		m.connsWS.Inc()
		return
	}
	m.openPolling.Inc()
	m.connsPolling.Inc()
}

// ConnUpgraded implements host.Observer.
func (m *Metrics) ConnUpgraded() {
	m.upgrades.Inc()
	m.connsPolling.Dec()
	m.connsWS.Inc()
}

// ConnClosed implements host.Observer.
func (m *Metrics) ConnClosed(transport, reason string) {
	if transport == host.TransportWebSocket {
		m.connsWS.Dec()
	} else {
		m.connsPolling.Dec()
	}
	m.disconnects.WithLabelValues(transport, reason).Inc()
}

// MessageIn implements host.Observer.
func (m *Metrics) MessageIn(bytes int) {
	m.packetsIn.Inc()
	m.bytesIn.Add(float64(bytes))
}

// MessagesOut implements host.Observer.
func (m *Metrics) MessagesOut(n, bytes int) {
	m.packetsOut.Add(float64(n))
	m.bytesOut.Add(float64(bytes))
}

// SlowConsumer implements host.Observer.
func (m *Metrics) SlowConsumer() { m.slowConsumer.Inc() }

// core.Observer

// NamespaceCreated implements core.Observer.
func (m *Metrics) NamespaceCreated(nsp string) { m.nsp(nsp) }

// SocketConnected implements core.Observer.
func (m *Metrics) SocketConnected(nsp string) {
	m.nsp(nsp).sockets.Add(1)
	m.socketConnects.WithLabelValues(nsp).Inc()
}

// SocketDisconnected implements core.Observer.
func (m *Metrics) SocketDisconnected(nsp, reason string) {
	m.nsp(nsp).sockets.Add(-1)
	m.socketDisconnects.WithLabelValues(nsp, reason).Inc()
}

// RoomsChanged implements core.Observer.
func (m *Metrics) RoomsChanged(nsp string, delta int) { m.nsp(nsp).rooms.Add(int64(delta)) }

// Broadcast implements core.Observer.
func (m *Metrics) Broadcast(nsp string, recipients int) {
	m.fanout.WithLabelValues(nsp).Observe(float64(recipients))
}

// VolatileDropped implements core.Observer.
func (m *Metrics) VolatileDropped() { m.volatileDropped.Inc() }

// ServerAckLatency implements core.Observer.
func (m *Metrics) ServerAckLatency(nsp string, d time.Duration) {
	m.ackLatency.WithLabelValues(nsp, "server").Observe(d.Seconds())
}

// ClientAckLatency implements core.Observer.
func (m *Metrics) ClientAckLatency(nsp string, d time.Duration) {
	m.ackLatency.WithLabelValues(nsp, "client").Observe(d.Seconds())
}

// plugins.Observer

// Call implements plugins.Observer.
func (m *Metrics) Call(plugin, version, kind string, d time.Duration, outcome string) {
	m.pluginCalls.WithLabelValues(plugin, version, kind, outcome).Inc()
	m.pluginDuration.WithLabelValues(plugin, version, kind).Observe(d.Seconds())
}

// Reload implements plugins.Observer.
func (m *Metrics) Reload(plugin, version string, err error) {
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case version == "":
		result = "removed"
	}
	m.pluginReloads.WithLabelValues(plugin, result).Inc()
}

// store.Observer

// Op implements store.Observer.
func (m *Metrics) Op(op string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.storeOps.WithLabelValues(op, result).Inc()
	m.storeDuration.WithLabelValues(op).Observe(d.Seconds())
}
