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
func dialMany(addr string, n, parallel int) ([]*client, error) {
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
			c, err := dial(ctx, addr)
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
	clients, err := dialMany(cfg.addr, cfg.n, 32)
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

// runBroadcast joins n receivers to a room, then one sender (not in the room)
// emits "broadcast" at cfg.rate messages/s for cfg.duration; each receiver
// records the latency from the timestamp in the payload.
func runBroadcast(cfg config) (map[string]float64, error) {
	const room = `"bench"`
	receivers, err := dialMany(cfg.addr, cfg.n, 32)
	if err != nil {
		return nil, err
	}
	lat := make([][]int32, cfg.n)
	var received atomic.Int64
	var lastNano atomic.Int64
	for i, c := range receivers {
		c.onEvent = func(data []byte) {
			if !bytes.HasPrefix(data, []byte(`["msg",{"t":`)) {
				return
			}
			rest := data[len(`["msg",{"t":`):]
			j := bytes.IndexByte(rest, ',')
			if j < 0 {
				return
			}
			t, err := strconv.ParseInt(string(rest[:j]), 10, 64)
			if err != nil {
				return
			}
			now := time.Now().UnixNano()
			lat[i] = append(lat[i], int32((now-t)/1000))
			received.Add(1)
			lastNano.Store(now)
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
	senders, err := dialMany(cfg.addr, 1, 1)
	if err != nil {
		closeAll(receivers)
		return nil, err
	}
	sender := senders[0]
	sender.start()
	padding := pad(cfg.size)

	cpu0, err := cpuTime(cfg.pid)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / cfg.rate)
	sent := 0
	ctx := context.Background()
	for next := start; time.Since(start) < cfg.duration && sent < cfg.maxOps; next = next.Add(interval) {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		payload := `{"t":` + strconv.FormatInt(time.Now().UnixNano(), 10) + `,"s":` + strconv.Itoa(sent) + `,"p":"` + padding + `"}`
		if _, err := sender.emit(ctx, "broadcast", room, payload); err != nil {
			return nil, fmt.Errorf("broadcast: %w", err)
		}
		sent++
	}
	want := int64(sent) * int64(cfg.n)
	drain := time.Now().Add(5 * time.Second)
	for received.Load() < want && time.Now().Before(drain) {
		time.Sleep(10 * time.Millisecond)
	}
	cpu1, _ := cpuTime(cfg.pid)
	closeAll(receivers)
	closeAll(senders)
	for _, c := range receivers {
		<-c.done
	}
	got := received.Load()
	elapsed := time.Duration(lastNano.Load() - start.UnixNano())
	if got == 0 || elapsed <= 0 {
		return nil, errors.New("no message delivered")
	}
	var all []int32
	for _, l := range lat {
		all = append(all, l...)
	}
	m := map[string]float64{
		"receivers":           float64(cfg.n),
		"sent":                float64(sent),
		"offered_per_s":       float64(cfg.n) * cfg.rate,
		"deliveries_per_s":    float64(got) / elapsed.Seconds(),
		"cpu_us_per_delivery": float64((cpu1 - cpu0).Microseconds()) / float64(got),
		"loss_pct":            100 * float64(want-got) / float64(want),
	}
	percentiles(all, m)
	return m, nil
}

// runEcho has cfg.c clients emit "echo" with an ack: closed loop (each waits
// for its ack) when cfg.echoRate is 0, else open loop at cfg.echoRate emits/s in total.
func runEcho(cfg config) (map[string]float64, error) {
	clients, err := dialMany(cfg.addr, cfg.c, 32)
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
				c, err := dial(ctx, cfg.addr)
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
