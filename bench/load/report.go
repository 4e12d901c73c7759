package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
)

// figure is one row of the report table.
type figure struct {
	scenario, metric, label string
}

var figures = []figure{
	{"idle", "kib_per_conn", "idle: RSS per connection (KiB, lower is better)"},
	{"idle", "cpu_us_per_handshake", "idle: server CPU per handshake (us, lower)"},
	{"idle", "handshakes_per_s", "idle: handshakes/s (higher)"},
	{"broadcast", "cpu_us_per_delivery", "broadcast: server CPU per delivery (us, lower)"},
	{"broadcast", "deliveries_per_s", "broadcast: deliveries/s (higher)"},
	{"broadcast", "p50_ms", "broadcast: latency p50 (ms, lower)"},
	{"broadcast", "p99_ms", "broadcast: latency p99 (ms, lower)"},
	{"broadcast", "p999_ms", "broadcast: latency p999 (ms, lower)"},
	{"broadcast", "loss_pct", "broadcast: loss (%)"},
	{"broadcast", "server_busy", "broadcast: server CPU busy (cores)"},
	{"broadcast", "load_busy", "broadcast: load tool CPU busy (cores)"},
	{"echo", "cpu_us_per_rt", "echo: server CPU per round trip (us, lower)"},
	{"echo", "rtt_per_s", "echo: round trips/s (higher)"},
	{"echo", "p50_ms", "echo: latency p50 (ms, lower)"},
	{"echo", "p99_ms", "echo: latency p99 (ms, lower)"},
	{"echo-paced", "cpu_us_per_rt", "echo-paced: server CPU per round trip (us, lower)"},
	{"echo-paced", "p50_ms", "echo-paced: latency p50 (ms, lower)"},
	{"echo-paced", "p99_ms", "echo-paced: latency p99 (ms, lower)"},
	{"echo-paced", "p999_ms", "echo-paced: latency p999 (ms, lower)"},
	{"churn", "cpu_us_per_cycle", "churn: server CPU per cycle (us, lower)"},
	{"churn", "cycles_per_s", "churn: cycles/s (higher)"},
}

var servers = []string{"edged-plugin", "edged-native", "node", "edged-c"}

// report prints the median of each figure per server and the ratios.
func report(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	samples := map[[3]string][]float64{} // scenario, server, metric
	reps := map[[2]string]int{}
	modes := map[string]bool{} // "scenario: mode"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		reps[[2]string{r.Scenario, r.Server}]++
		if r.Mode != "" {
			modes[r.Scenario+" "+r.Mode] = true
		}
		for k, v := range r.Metrics {
			key := [3]string{r.Scenario, r.Server, k}
			samples[key] = append(samples[key], v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure (median of runs)\tedged-plugin\tedged-native\tnode\tplugin/node\tnative/node\tplugin/native\tedged-c\tc/native\t")
	for _, fg := range figures {
		med := map[string]float64{}
		ok := map[string]bool{}
		for _, s := range servers {
			if v := samples[[3]string{fg.scenario, s, fg.metric}]; len(v) > 0 {
				med[s], ok[s] = median(v), true
			}
		}
		if len(ok) == 0 {
			continue
		}
		cell := func(s string) string {
			if !ok[s] {
				return "-"
			}
			return fmt.Sprintf("%.4g", med[s])
		}
		ratio := func(a, b string) string {
			if !ok[a] || !ok[b] || med[b] == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f", med[a]/med[b])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", fg.label, cell("edged-plugin"), cell("edged-native"), cell("node"),
			ratio("edged-plugin", "node"), ratio("edged-native", "node"), ratio("edged-plugin", "edged-native"),
			cell("edged-c"), ratio("edged-c", "edged-native"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	keys := make([]string, 0, len(reps))
	for k, n := range reps {
		keys = append(keys, fmt.Sprintf("%s/%s=%d", k[0], k[1], n))
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "runs per scenario/server: %v\n", keys)
	if len(modes) > 0 {
		ms := make([]string, 0, len(modes))
		for k := range modes {
			ms = append(ms, k)
		}
		sort.Strings(ms)
		fmt.Fprintf(w, "modes: %v\n", ms)
	}
	return nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
