package main

import "math/bits"

// hist is a log-linear histogram of microsecond samples: exact below 128 us,
// then 64 buckets per power of two (at most 1/64 ≈ 1.6 % relative error). It
// has a fixed size, so recording a sample never allocates: the broadcast
// receivers record up to a million samples per second.
type hist [histSize]uint32

const (
	histSub  = 64                     // buckets per power of two
	histSize = 25*histSub + 2*histSub // index of the largest uint32, plus one
)

func histIndex(v uint32) int {
	if v < 2*histSub {
		return int(v)
	}
	e := bits.Len32(v) - 7 // v in [64<<e, 128<<e)
	return e*histSub + int(v>>e)
}

// histLow is the smallest value of bucket i.
func histLow(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	return uint64(i%histSub+histSub) << e
}

func (h *hist) add(us int64) {
	if us < 0 {
		us = 0
	}
	if us > 1<<32-1 {
		us = 1<<32 - 1
	}
	h[histIndex(uint32(us))]++
}

func (h *hist) merge(o *hist) {
	for i, n := range o {
		h[i] += n
	}
}

// percentiles puts p50/p99/p999 (milliseconds, middle of the bucket) into m.
func (h *hist) percentiles(m map[string]float64) {
	var total uint64
	for _, n := range h {
		total += uint64(n)
	}
	if total == 0 {
		return
	}
	at := func(q float64) float64 {
		rank := uint64(q * float64(total)) // same rank as percentiles() on sorted samples
		if rank >= total {
			rank = total - 1
		}
		var seen uint64
		for i, n := range h {
			seen += uint64(n)
			if seen > rank {
				lo, hi := histLow(i), histLow(i+1)
				return float64(lo+(hi-lo-1)/2) / 1000
			}
		}
		return 0
	}
	m["p50_ms"], m["p99_ms"], m["p999_ms"] = at(0.50), at(0.99), at(0.999)
}
