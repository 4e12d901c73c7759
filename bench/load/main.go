// Command load is edged's benchmark load tool: it speaks Engine.IO v4 and
// Socket.IO v5 over WebSocket to a server implementing the echo contract
// (see bench/README.md), runs one scenario, reads the server's CPU time and
// RSS from /proc, and appends one JSON line of figures to -out.
//
//	load -scenario idle|broadcast|echo|churn -addr 127.0.0.1:PORT -pid PID -server NAME [-out FILE]
//	load -scenario broadcast -n 1000 -window 32 ...   # saturated: at most 32 messages in flight (default)
//	load -scenario broadcast -n 500 -rate 100 ...     # paced: 100 messages/s
//	load report FILE   # medians and edged/node ratios of the JSON lines in FILE
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

type config struct {
	scenario string
	addr     string
	nsp      string
	pid      int
	server   string
	rep      int
	out      string
	n        int
	c        int
	duration time.Duration
	hold     time.Duration
	rate     float64
	window   int
	echoRate float64
	size     int
	wait     time.Duration
	maxOps   int
}

// result is one JSON line of -out.
type result struct {
	Server   string             `json:"server"`
	Scenario string             `json:"scenario"`
	Rep      int                `json:"rep"`
	Mode     string             `json:"mode,omitempty"` // broadcast: "window=W n=N" or "rate=R n=N"
	Metrics  map[string]float64 `json:"metrics"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "report" {
		if len(os.Args) != 3 {
			fatal(errors.New("usage: load report FILE"))
		}
		if err := report(os.Args[2], os.Stdout); err != nil {
			fatal(err)
		}
		return
	}
	var cfg config
	flag.StringVar(&cfg.scenario, "scenario", "echo", "idle, broadcast, echo, echo-paced or churn")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:3100", "server address (127.0.0.1, port below 32768)")
	flag.StringVar(&cfg.nsp, "nsp", "/", "namespace the clients connect to")
	flag.IntVar(&cfg.pid, "pid", 0, "server process id, for /proc CPU and RSS")
	flag.StringVar(&cfg.server, "server", "", "server label in the result line")
	flag.IntVar(&cfg.rep, "rep", 1, "repetition number in the result line")
	flag.StringVar(&cfg.out, "out", "", "append the result as one JSON line to this file")
	flag.IntVar(&cfg.n, "n", 2000, "idle: connections; broadcast: receivers")
	flag.IntVar(&cfg.c, "c", 50, "echo: clients; churn: concurrent loops")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "measurement time (broadcast, echo, churn)")
	flag.DurationVar(&cfg.hold, "hold", 3*time.Second, "idle: hold time before reading RSS")
	flag.Float64Var(&cfg.rate, "rate", 0, "broadcast: paced mode, messages/s from the sender (0: windowed mode, see -window)")
	flag.IntVar(&cfg.window, "window", 32, "broadcast, windowed mode: at most this many messages in flight (sent, not yet received by every receiver)")
	flag.Float64Var(&cfg.echoRate, "echo-rate", 0, "echo: total emits/s over all clients (0: closed loop, each client waits for its ack)")
	flag.IntVar(&cfg.size, "size", 32, "payload padding in bytes")
	flag.DurationVar(&cfg.wait, "wait", 15*time.Second, "how long to wait for the server to accept connections")
	flag.IntVar(&cfg.maxOps, "max", 1_000_000, "churn: bound on connect cycles; broadcast: bound on messages sent")
	flag.Parse()
	if err := cfg.check(); err != nil {
		fatal(err)
	}
	if err := waitServer(cfg.addr, cfg.wait); err != nil {
		fatal(err)
	}
	if err := warmUp(cfg.target()); err != nil {
		fatal(fmt.Errorf("warm-up: %w", err))
	}
	var m map[string]float64
	var err error
	switch cfg.scenario {
	case "idle":
		m, err = runIdle(cfg)
	case "broadcast":
		m, err = runBroadcast(cfg)
	case "echo":
		m, err = runEcho(cfg)
	case "echo-paced":
		// echo in an open loop at the same offered rate for every server,
		// so that latencies compare at equal load
		if cfg.echoRate <= 0 {
			err = errors.New("echo-paced needs -echo-rate > 0")
			break
		}
		m, err = runEcho(cfg)
	case "churn":
		m, err = runChurn(cfg)
	default:
		err = fmt.Errorf("unknown scenario %q", cfg.scenario)
	}
	if err != nil {
		fatal(err)
	}
	r := result{Server: cfg.server, Scenario: cfg.scenario, Rep: cfg.rep, Metrics: m}
	if cfg.echoRate > 0 && (cfg.scenario == "echo" || cfg.scenario == "echo-paced") {
		r.Mode = fmt.Sprintf("rate=%g c=%d", cfg.echoRate, cfg.c)
	}
	if cfg.scenario == "broadcast" {
		if cfg.rate == 0 {
			r.Mode = fmt.Sprintf("window=%d n=%d", cfg.window, cfg.n)
		} else {
			r.Mode = fmt.Sprintf("rate=%g n=%d", cfg.rate, cfg.n)
		}
	}
	line, _ := json.Marshal(r)
	fmt.Fprintf(os.Stderr, "%s\n", line)
	if cfg.out != "" {
		f, err := os.OpenFile(cfg.out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(append(line, '\n')); err != nil {
			fatal(err)
		}
	}
}

func (c *config) check() error {
	host, port, err := net.SplitHostPort(c.addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if host != "127.0.0.1" || err != nil || p <= 0 || p >= 32768 {
		return fmt.Errorf("-addr must be 127.0.0.1 with a port below 32768, got %q", c.addr)
	}
	if c.pid <= 0 {
		return errors.New("-pid is required")
	}
	if c.n <= 0 || c.n > 20000 || c.c <= 0 || c.c > 1000 {
		return errors.New("-n must be in 1..20000 and -c in 1..1000")
	}
	if c.duration <= 0 || c.duration > 2*time.Minute || c.hold < 0 || c.hold > time.Minute {
		return errors.New("-duration must be in (0, 2m] and -hold in [0, 1m]")
	}
	if !strings.HasPrefix(c.nsp, "/") || strings.ContainsAny(c.nsp, ",?#") {
		return errors.New("-nsp must start with / and hold no , ? or #")
	}
	if c.rate < 0 || c.rate > 100000 || c.echoRate < 0 || c.echoRate > 1000000 || c.size < 0 || c.size > 65536 {
		return errors.New("-rate must be in [0, 100000], -echo-rate in [0, 1000000] and -size in [0, 65536]")
	}
	if c.window <= 0 || c.window > 4096 || c.maxOps <= 0 {
		return errors.New("-window must be in 1..4096 and -max positive")
	}
	return nil
}

// waitServer retries a TCP connect until the server listens.
// target returns the server address and namespace of the run.
func (c config) target() target { return target{addr: c.addr, nsp: c.nsp} }

func waitServer(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server %s not up: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// warmUp runs one connect, echo, disconnect cycle (so a plugin server has
// instantiated its plugin before the baseline is read), then lets the
// server settle.
func warmUp(t target) error {
	ctx, cancel := withTimeout(10 * time.Second)
	defer cancel()
	c, err := dial(ctx, t)
	if err != nil {
		return err
	}
	c.start()
	err = c.call(ctx, "echo", `"warm-up"`)
	c.close()
	<-c.done
	time.Sleep(time.Second)
	return err
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}

// percentiles of microsecond samples, in milliseconds.
func percentiles(us []int32, m map[string]float64) {
	if len(us) == 0 {
		return
	}
	sort.Slice(us, func(i, j int) bool { return us[i] < us[j] })
	at := func(q float64) float64 {
		i := int(q * float64(len(us)))
		if i >= len(us) {
			i = len(us) - 1
		}
		return float64(us[i]) / 1000
	}
	m["p50_ms"], m["p99_ms"], m["p999_ms"] = at(0.50), at(0.99), at(0.999)
}

func pad(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
