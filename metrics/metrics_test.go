package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/edged-io/edged/plugins"
	"github.com/edged-io/edged/store"
)

func TestEngine(t *testing.T) {
	m := New()
	m.ConnOpened("polling")
	m.ConnOpened("polling")
	m.ConnOpened("websocket")
	m.ConnUpgraded()
	m.ConnClosed("websocket", "transport close")
	m.MessageIn(5)
	m.MessageIn(7)
	m.MessagesOut(3, 30)
	m.SlowConsumer()
	m.ConnClosed("polling", "transport error")

	expect := `
# HELP edged_connections Engine.IO sessions open now, by their current transport.
# TYPE edged_connections gauge
edged_connections{transport="polling"} 0
edged_connections{transport="websocket"} 1
# HELP edged_connections_total Engine.IO sessions opened, by the transport they opened on.
# TYPE edged_connections_total counter
edged_connections_total{transport="polling"} 2
edged_connections_total{transport="websocket"} 1
# HELP edged_disconnections_total Engine.IO sessions closed, by the transport they ended on and the close reason.
# TYPE edged_disconnections_total counter
edged_disconnections_total{reason="transport close",transport="websocket"} 1
edged_disconnections_total{reason="transport error",transport="polling"} 1
# HELP edged_upgrades_total Engine.IO sessions upgraded from polling to websocket.
# TYPE edged_upgrades_total counter
edged_upgrades_total 1
# HELP edged_slow_consumer_disconnects_total Sessions closed because their outgoing queue overflowed (slow consumers).
# TYPE edged_slow_consumer_disconnects_total counter
edged_slow_consumer_disconnects_total 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(expect),
		"edged_connections", "edged_connections_total", "edged_disconnections_total", "edged_upgrades_total", "edged_slow_consumer_disconnects_total"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"packets in", testutil.ToFloat64(m.packetsIn), 2},
		{"bytes in", testutil.ToFloat64(m.bytesIn), 12},
		{"packets out", testutil.ToFloat64(m.packetsOut), 3},
		{"bytes out", testutil.ToFloat64(m.bytesOut), 30},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCore(t *testing.T) {
	m := New()
	m.NamespaceCreated("/")
	m.NamespaceCreated("/chat")
	for range 2 {
		m.SocketConnected("/chat")
		m.RoomsChanged("/chat", 1) // the socket's own room
	}
	m.RoomsChanged("/chat", 2) // two rooms joined
	m.Broadcast("/chat", 2)
	m.Broadcast("/chat", 1)
	m.Broadcast("/chat", 0)
	m.VolatileDropped()
	m.ServerAckLatency("/chat", 3*time.Millisecond)
	m.ClientAckLatency("/chat", 20*time.Millisecond)
	m.SocketDisconnected("/chat", "client namespace disconnect")
	m.RoomsChanged("/chat", -1)

	expect := `
# HELP edged_namespaces Socket.IO namespaces that exist, the main one included.
# TYPE edged_namespaces gauge
edged_namespaces 2
# HELP edged_sockets Sockets connected now, by namespace.
# TYPE edged_sockets gauge
edged_sockets{namespace="/"} 0
edged_sockets{namespace="/chat"} 1
# HELP edged_rooms Rooms with members now, by namespace, without each socket's own room.
# TYPE edged_rooms gauge
edged_rooms{namespace="/"} 0
edged_rooms{namespace="/chat"} 2
# HELP edged_socket_disconnections_total Sockets disconnected from a namespace, by reason.
# TYPE edged_socket_disconnections_total counter
edged_socket_disconnections_total{namespace="/chat",reason="client namespace disconnect"} 1
# HELP edged_volatile_dropped_total Volatile packets dropped because the client's transport could not write at once.
# TYPE edged_volatile_dropped_total counter
edged_volatile_dropped_total 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(expect),
		"edged_namespaces", "edged_sockets", "edged_rooms", "edged_socket_disconnections_total", "edged_volatile_dropped_total"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.socketConnects.WithLabelValues("/chat")); got != 2 {
		t.Errorf("socket connections = %v", got)
	}
	text := scrape(t, m)
	for _, want := range []string{
		`edged_broadcast_recipients_count{namespace="/chat"} 3`,
		`edged_broadcast_recipients_sum{namespace="/chat"} 3`,
		`edged_broadcast_recipients_bucket{namespace="/chat",le="0"} 1`,
		`edged_broadcast_recipients_bucket{namespace="/chat",le="1"} 2`,
		`edged_ack_latency_seconds_count{namespace="/chat",side="server"} 1`,
		`edged_ack_latency_seconds_count{namespace="/chat",side="client"} 1`,
		`edged_ack_latency_seconds_bucket{namespace="/chat",side="server",le="0.004"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestPluginsAndStore(t *testing.T) {
	m := New()
	m.Call("chat", "abc123", "event", 2*time.Millisecond, plugins.OutcomeOK)
	m.Call("chat", "abc123", "event", time.Millisecond, plugins.OutcomeOK)
	m.Call("chat", "abc123", "event", time.Second, plugins.OutcomeTimeout)
	m.Call("bomb", "def456", "event", time.Millisecond, plugins.OutcomeOOM)
	m.Reload("chat", "abc124", nil)
	m.Reload("chat", "", errors.New("not a WebAssembly module"))
	m.Reload("old", "", nil)
	m.Op(store.OpKVGet, time.Millisecond, nil)
	m.Op(store.OpKVSet, time.Millisecond, errors.New("disk full"))

	expect := `
# HELP edged_plugin_calls_total Plugin dispatcher calls, by plugin, version, kind and outcome (ok, rejected, error, trap, timeout, oom).
# TYPE edged_plugin_calls_total counter
edged_plugin_calls_total{kind="event",outcome="ok",plugin="chat",version="abc123"} 2
edged_plugin_calls_total{kind="event",outcome="timeout",plugin="chat",version="abc123"} 1
edged_plugin_calls_total{kind="event",outcome="oom",plugin="bomb",version="def456"} 1
# HELP edged_plugin_reloads_total Plugin reloads that changed something or failed, by plugin and result (ok, error, removed).
# TYPE edged_plugin_reloads_total counter
edged_plugin_reloads_total{plugin="chat",result="error"} 1
edged_plugin_reloads_total{plugin="chat",result="ok"} 1
edged_plugin_reloads_total{plugin="old",result="removed"} 1
# HELP edged_store_operations_total Data directory operations, by op (kv_get, kv_set, kv_delete, kv_scan, kv_cas, flush, restore_session, gc) and result (ok, error).
# TYPE edged_store_operations_total counter
edged_store_operations_total{op="kv_get",result="ok"} 1
edged_store_operations_total{op="kv_set",result="error"} 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(expect),
		"edged_plugin_calls_total", "edged_plugin_reloads_total", "edged_store_operations_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.pluginDuration); n != 2 {
		t.Errorf("plugin duration series = %d, want 2", n)
	}
	text := scrape(t, m)
	for _, want := range []string{
		`edged_plugin_call_duration_seconds_count{kind="event",plugin="chat",version="abc123"} 3`,
		`edged_store_operation_duration_seconds_count{op="kv_set"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
}

// TestHandler checks the exposition: every family has its HELP, and the
// Go runtime and process collectors are there.
func TestHandler(t *testing.T) {
	m := New()
	text := scrape(t, m)
	for _, want := range []string{
		"# HELP edged_connections_total ", "# HELP edged_packets_received_total ", "# HELP edged_sent_bytes_total ",
		"# HELP edged_namespaces ", "# HELP edged_volatile_dropped_total ",
		"go_goroutines ", "go_memstats_alloc_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	if lint, err := testutil.GatherAndLint(m.reg); err != nil || len(lint) > 0 {
		t.Errorf("lint: %v %v", err, lint)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
