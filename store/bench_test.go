package store

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/edged-io/edged/core"

	"github.com/edged-io/edged/internal/wiretest"
)

// BenchmarkMembership measures join, leave and data-set on connected sockets
// through core with recovery on, its sessions tracked by core's memory store
// (persistence off: tracking is a no-op) or by a DB (persistence on: every
// change queues a snapshot for the next flush). One op = Join + Leave +
// SetData, i.e. three tracked changes.
func BenchmarkMembership(b *testing.B) {
	for _, persist := range []bool{false, true} {
		for _, sockets := range []int{1, 16} {
			name := fmt.Sprintf("persistence=%v/sockets=%d", map[bool]string{false: "off", true: "on"}[persist], sockets)
			b.Run(name, func(b *testing.B) {
				rec := core.DefaultRecoveryOptions()
				opts := core.Options{ConnectionStateRecovery: rec}
				if persist {
					db := openTest(b, b.TempDir(), Options{})
					opts.RecoveryStore = db.RecoveryStore(rec)
				}
				srv, url, _ := startServer(b, opts)
				connected := make(chan *core.Socket, sockets)
				srv.OnConnection(func(s *core.Socket) { connected <- s })
				socks := make([]*core.Socket, sockets)
				for i := range socks {
					c := wiretest.Dial(b, url)
					connect(b, c, "", "")
					socks[i] = <-connected
				}
				var next atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					s := socks[int(next.Add(1)-1)%sockets]
					i := 0
					for pb.Next() {
						i++
						s.Join("room")
						s.Leave("room")
						s.SetData(map[string]any{"n": i})
					}
				})
			})
		}
	}
}

// BenchmarkBroadcast measures a recoverable broadcast (to a room without
// members: the cost is keeping the packet) with persistence off and on.
func BenchmarkBroadcast(b *testing.B) {
	for _, persist := range []bool{false, true} {
		b.Run(map[bool]string{false: "persistence=off", true: "persistence=on"}[persist], func(b *testing.B) {
			rec := core.DefaultRecoveryOptions()
			opts := core.Options{ConnectionStateRecovery: rec}
			if persist {
				opts.RecoveryStore = openTest(b, b.TempDir(), Options{}).RecoveryStore(rec)
			}
			srv, _, _ := startServer(b, opts)
			op := srv.To("room")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := op.Emit("message", "hello", i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
