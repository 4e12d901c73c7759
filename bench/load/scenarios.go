package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// dialMany opens n connections with a bounded number of concurrent dials.
func dialMany(t target, n, parallel int) ([]*client, error) {
	clients := make([]*client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := withTimeout(10 * time.Second)
			defer cancel()
			c, err := dial(ctx, t)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	var first error
	failed := 0
	for err := range errs {
		failed++
		if first == nil {
			first = err
		}
	}
	if failed > 0 {
		closeAll(clients)
		return nil, fmt.Errorf("%d of %d connections failed, first: %w", failed, n, first)
	}
	return clients, nil
}

func closeAll(clients []*client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
		}()
	}
	wg.Wait()
}

// runIdle ramps n connections (handshake + connect to "/"), holds them, and
// reports RSS per connection over the baseline and the handshake cost.
func runIdle(cfg config) (map[string]float64, error) {
	base, err := rssKiB(cfg.pid)
	if err != nil {
		return nil, err
	}
	cpu0, err := cpuTime(cfg.pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	clients, err := dialMany(cfg.target(), cfg.n, 32)
	if err != nil {
		return nil, err
	}
	ramp := time.Since(t0)
	cpu1, _ := cpuTime(cfg.pid)
	for _, c := range clients {
		c.start()
	}
	time.Sleep(cfg.hold)
	rss, err := rssKiB(cfg.pid)
	if err != nil {
		return nil, err
	}
	closeAll(clients)
	n := float64(cfg.n)
	return map[string]float64{
		"conns":                n,
		"rss_base_kib":         float64(base),
		"kib_per_conn":         float64(rss-base) / n,
		"handshakes_per_s":     n / ramp.Seconds(),
		"cpu_us_per_handshake": float64((cpu1 - cpu0).Microseconds()) / n,
	}, nil
}

// receiver is the state of one broadcast receiver, written only by its
// reader goroutine (count is also read by the drain loop).
type receiver struct {
	count atomic.Int64
	last  int64 // ns since the run's base time of the last receipt
	lat   *hist
}

// runBroadcast joins n receivers to a room; one sender (not in the room)
// emits "broadcast" with a payload {"t": send time, "s": sequence, "p": padding}.
//
// Windowed mode (cfg.rate == 0, the default): closed loop, the sender keeps
// at most cfg.window messages in flight (sent, not yet received by all n
// receivers), so the slower side (server or load tool) sets the pace and the
// server runs saturated with bounded queues. Paced mode (cfg.rate > 0): the
// sender emits cfg.rate messages/s whatever the receivers see.
//
// Both stop after cfg.duration or cfg.maxOps messages, then wait up to 5 s
// for the last deliveries. Each receiver records the latency from the send
// time in the payload to its receipt.
func runBroadcast(cfg config) (map[string]float64, error) {
	const room = `"bench"`
	receivers, err := dialMany(cfg.target(), cfg.n, 32)
	if err != nil {
		return nil, err
	}
	windowed := cfg.rate == 0
	n := int32(cfg.n)
	// ring[s % window] counts the receipts of message s; the sender resets a
	// slot when it retires the message, before it sends message s+window.
	var ring []atomic.Int32
	wake := make(chan struct{}, 1)
	if windowed {
		ring = make([]atomic.Int32, cfg.window)
	}
	base := time.Now() // payload times are ns since base (exact in a JS number)
	state := make([]receiver, cfg.n)
	prefix := []byte(`["msg",{"t":`)
	sKey := []byte(`,"s":`)
	for i, c := range receivers {
		st := &state[i]
		st.lat = new(hist)
		c.onEvent = func(data []byte) {
			if !bytes.HasPrefix(data, prefix) {
				return
			}
			data = data[len(prefix):]
			t, k, ok := parseUint(data)
			if !ok || !bytes.HasPrefix(data[k:], sKey) {
				return
			}
			seq, _, ok := parseUint(data[k+len(sKey):])
			if !ok {
				return
			}
			now := int64(time.Since(base))
			st.lat.add((now - t) / 1000)
			st.last = now
			st.count.Add(1)
			if windowed && ring[seq%int64(len(ring))].Add(1) == n {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
		c.start()
	}
	for _, c := range receivers {
		ctx, cancel := withTimeout(10 * time.Second)
		err := c.call(ctx, "join", room)
		cancel()
		if err != nil {
			closeAll(receivers)
			return nil, fmt.Errorf("join: %w", err)
		}
	}
	senders, err := dialMany(cfg.target(), 1, 1)
	if err != nil {
		closeAll(receivers)
		return nil, err
	}
	sender := senders[0]
	sender.start()
	payload := make([]byte, 0, 64+cfg.size)
	padding := pad(cfg.size)
	received := func() int64 {
		var got int64
		for i := range state {
			got += state[i].count.Load()
		}
		return got
	}

	cpu0, err := cpuTime(cfg.pid)
	if err != nil {
		return nil, err
	}
	self0 := selfCPU()
	start := time.Now()
	deadline := start.Add(cfg.duration)
	timer := time.NewTimer(cfg.duration)
	defer timer.Stop()
	interval := time.Duration(0)
	if !windowed {
		interval = time.Duration(float64(time.Second) / cfg.rate)
	}
	sent, retired := 0, 0
	ctx := context.Background()
send:
	for next := start; time.Now().Before(deadline) && sent < cfg.maxOps; next = next.Add(interval) {
		if windowed {
			for sent-retired >= cfg.window {
				for retired < sent && ring[retired%cfg.window].Load() == n {
					ring[retired%cfg.window].Store(0)
					retired++
				}
				if sent-retired < cfg.window {
					break
				}
				select {
				case <-wake:
				case <-timer.C:
					break send
				}
			}
		} else if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		payload = append(payload[:0], `{"t":`...)
		payload = strconv.AppendInt(payload, int64(time.Since(base)), 10)
		payload = append(payload, `,"s":`...)
		payload = strconv.AppendInt(payload, int64(sent), 10)
		payload = append(payload, `,"p":"`...)
		payload = append(payload, padding...)
		payload = append(payload, `"}`...)
		if _, err := sender.emit(ctx, "broadcast", room, string(payload)); err != nil {
			return nil, fmt.Errorf("broadcast: %w", err)
		}
		sent++
	}
	want := int64(sent) * int64(cfg.n)
	drain := time.Now().Add(5 * time.Second)
	for received() < want && time.Now().Before(drain) {
		time.Sleep(10 * time.Millisecond)
	}
	cpu1, _ := cpuTime(cfg.pid)
	self1 := selfCPU()
	wall := time.Since(start).Seconds()
	closeAll(receivers)
	closeAll(senders)
	for _, c := range receivers {
		<-c.done
	}
	got := received()
	var last int64
	all := new(hist)
	for i := range state {
		last = max(last, state[i].last)
		all.merge(state[i].lat)
	}
	elapsed := time.Duration(last) - start.Sub(base)
	if got == 0 || elapsed <= 0 {
		return nil, errors.New("no message delivered")
	}
	m := map[string]float64{
		"receivers":                float64(cfg.n),
		"sent":                     float64(sent),
		"deliveries_per_s":         float64(got) / elapsed.Seconds(),
		"cpu_us_per_delivery":      float64((cpu1 - cpu0).Microseconds()) / float64(got),
		"server_busy":              (cpu1 - cpu0).Seconds() / wall,
		"load_cpu_us_per_delivery": float64((self1 - self0).Microseconds()) / float64(got),
		"load_busy":                (self1 - self0).Seconds() / wall,
		"loss_pct":                 100 * float64(want-got) / float64(want),
	}
	if windowed {
		m["window"] = float64(cfg.window)
	} else {
		m["rate"] = cfg.rate
		m["offered_per_s"] = float64(cfg.n) * cfg.rate
	}
	all.percentiles(m)
	return m, nil
}

// runEcho has cfg.c clients emit "echo" with an ack: closed loop (each waits
// for its ack) when cfg.echoRate is 0, else open loop at cfg.echoRate emits/s in total.
func runEcho(cfg config) (map[string]float64, error) {
	clients, err := dialMany(cfg.target(), cfg.c, 32)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		c.start()
	}
	arg := `{"t":0,"p":"` + pad(cfg.size) + `"}`
	cpu0, err := cpuTime(cfg.pid)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var wg sync.WaitGroup
	var failures atomic.Int64
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(5*time.Second))
			defer cancel()
			if cfg.echoRate == 0 {
				for time.Now().Before(deadline) {
					if err := c.call(ctx, "echo", arg); err != nil {
						failures.Add(1)
						return
					}
				}
				return
			}
			interval := time.Duration(float64(time.Second) * float64(cfg.c) / cfg.echoRate)
			for next := time.Now(); next.Before(deadline); next = next.Add(interval) {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				if _, err := c.emit(ctx, "echo", arg); err != nil {
					failures.Add(1)
					return
				}
			}
		}()
	}
	wg.Wait()
	if cfg.echoRate > 0 {
		time.Sleep(500 * time.Millisecond) // the last acks
	}
	elapsed := time.Since(start)
	cpu1, _ := cpuTime(cfg.pid)
	closeAll(clients)
	var all []int32
	for _, c := range clients {
		<-c.done
		all = append(all, c.rtts...)
	}
	if len(all) == 0 {
		return nil, errors.New("no echo answered")
	}
	if f := failures.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "load: %d echo clients failed\n", f)
	}
	m := map[string]float64{
		"clients":       float64(cfg.c),
		"rtt_per_s":     float64(len(all)) / elapsed.Seconds(),
		"cpu_us_per_rt": float64((cpu1 - cpu0).Microseconds()) / float64(len(all)),
		"failed":        float64(failures.Load()),
	}
	percentiles(all, m)
	return m, nil
}

// runChurn has cfg.c loops each connect, emit one echo with ack, and
// disconnect, until cfg.duration or cfg.maxOps cycles.
func runChurn(cfg config) (map[string]float64, error) {
	cpu0, err := cpuTime(cfg.pid)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var cycles, failed atomic.Int64
	var wg sync.WaitGroup
	for range cfg.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && cycles.Load()+failed.Load() < int64(cfg.maxOps) {
				ctx, cancel := withTimeout(5 * time.Second)
				c, err := dial(ctx, cfg.target())
				if err != nil {
					cancel()
					failed.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				c.start()
				err = c.call(ctx, "echo", `"churn"`)
				c.close()
				<-c.done
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				cycles.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := cpuTime(cfg.pid)
	n := cycles.Load()
	if n == 0 {
		return nil, errors.New("no churn cycle completed")
	}
	return map[string]float64{
		"cycles_per_s":     float64(n) / elapsed.Seconds(),
		"cpu_us_per_cycle": float64((cpu1 - cpu0).Microseconds()) / float64(n),
		"failed":           float64(failed.Load()),
	}, nil
}
