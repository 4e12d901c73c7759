package core

import (
	"slices"
	"testing"
)

func TestSerialQueueRunsTasksInOrder(t *testing.T) {
	for _, reserve := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "reserved stack"}[reserve], func(t *testing.T) {
			q := &serialQueue{reserve: reserve}
			var got []int
			done := make(chan struct{})
			const n = 200
			for i := range n {
				if !q.push(func() {
					got = append(got, i)
					if i == n-1 {
						close(done)
					}
				}) {
					t.Fatalf("task %d refused without a limit", i)
				}
			}
			<-done
			want := make([]int, n)
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(got, want) {
				t.Fatalf("tasks ran out of order: %v", got)
			}
		})
	}
}
