package core

import (
	"maps"
	"slices"
	"testing"
)

// smallSet behaves as a map through every step of growing and shrinking.
func TestSmallSet(t *testing.T) {
	type op struct {
		del  bool
		key  string
		want bool // set: key was new; del: key was there
	}
	tests := []struct {
		name string
		ops  []op
		keys []string
	}{
		{"empty", nil, nil},
		{"one", []op{{false, "a", true}}, []string{"a"}},
		{"empty key", []op{{false, "", true}, {false, "", false}}, []string{""}},
		{"replace", []op{{false, "a", true}, {false, "a", false}}, []string{"a"}},
		{"grow", []op{{false, "a", true}, {false, "b", true}, {false, "c", true}}, []string{"a", "b", "c"}},
		{"shrink to inline", []op{{false, "a", true}, {false, "b", true}, {true, "a", true}}, []string{"b"}},
		{"delete missing", []op{{false, "a", true}, {true, "b", false}}, []string{"a"}},
		{"delete last", []op{{false, "a", true}, {true, "a", true}, {true, "a", false}}, nil},
		{"regrow", []op{{false, "a", true}, {false, "b", true}, {true, "b", true}, {false, "c", true}}, []string{"a", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s smallSet[int]
			for i, o := range tc.ops {
				var got bool
				if o.del {
					got = s.del(o.key)
				} else {
					got = s.set(o.key, i)
				}
				if got != o.want {
					t.Fatalf("op %d %+v: got %v", i, o, got)
				}
			}
			keys := slices.Sorted(maps.Keys(maps.Collect(s.all())))
			if !slices.Equal(keys, tc.keys) || s.len() != len(tc.keys) {
				t.Fatalf("keys %q (len %d), want %q", keys, s.len(), tc.keys)
			}
			for _, k := range tc.keys {
				if !s.has(k) {
					t.Fatalf("has(%q) = false", k)
				}
			}
			if s.has("missing") {
				t.Fatal(`has("missing") = true`)
			}
		})
	}
}

// EventNames lists events in first-registration order while they keep a
// handler, as Node's EventEmitter does; once-handlers go after one call.
func TestListenerOrder(t *testing.T) {
	nop := func(*Event) {}
	tests := []struct {
		name  string
		setup func(l *listeners)
		names []string
		take  string
		n     int // handlers take returns
	}{
		{"none", func(*listeners) {}, nil, "a", 0},
		{"grouped", func(l *listeners) {
			l.on("a", nop, false)
			l.on("b", nop, false)
			l.on("a", nop, false)
		}, []string{"a", "b"}, "a", 2},
		{"first removed keeps place", func(l *listeners) {
			id := l.on("a", nop, false)
			l.on("b", nop, false)
			l.on("a", nop, false)
			l.off("a", id)
		}, []string{"a", "b"}, "a", 1},
		{"re-added goes last", func(l *listeners) {
			id := l.on("a", nop, false)
			l.on("b", nop, false)
			l.off("a", id)
			l.on("a", nop, false)
		}, []string{"b", "a"}, "b", 1},
		{"once", func(l *listeners) {
			l.on("a", nop, true)
			l.on("b", nop, false)
		}, []string{"b"}, "a", 1},
		{"off all of some", func(l *listeners) {
			l.on("a", nop, false)
			l.on("b", nop, false)
			l.on("c", nop, false)
			l.offAll([]string{"a", "c"})
		}, []string{"b"}, "c", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l listeners
			tc.setup(&l)
			if n := len(l.take(tc.take)); n != tc.n {
				t.Fatalf("take(%q): %d handlers, want %d", tc.take, n, tc.n)
			}
			if got := l.names(); !slices.Equal(got, tc.names) {
				t.Fatalf("names %q, want %q", got, tc.names)
			}
		})
	}
}
