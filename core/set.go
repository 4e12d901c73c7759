package core

import "iter"

// smallSet maps string keys to values and holds its first key inline: a set
// of one key (a socket's own-id room, a socket in one room) needs no map.
// It is a value type; store it back after a change.
type smallSet[V any] struct {
	key    string
	val    V
	single bool         // key and val hold the only entry
	many   map[string]V // the entries when there are two or more
}

func (s *smallSet[V]) len() int {
	if s.many != nil {
		return len(s.many)
	}
	if s.single {
		return 1
	}
	return 0
}

func (s *smallSet[V]) get(k string) (V, bool) {
	if s.many != nil {
		v, ok := s.many[k]
		return v, ok
	}
	if s.single && s.key == k {
		return s.val, true
	}
	var zero V
	return zero, false
}

func (s *smallSet[V]) has(k string) bool {
	_, ok := s.get(k)
	return ok
}

// set adds or replaces an entry and reports whether k is new.
func (s *smallSet[V]) set(k string, v V) bool {
	switch {
	case s.many != nil:
		n := len(s.many)
		s.many[k] = v
		return len(s.many) > n
	case !s.single:
		s.key, s.val, s.single = k, v, true
		return true
	case s.key == k:
		s.val = v
		return false
	}
	s.many = map[string]V{s.key: s.val, k: v}
	var zero V
	s.key, s.val, s.single = "", zero, false
	return true
}

// del removes k and reports whether it was there; a map left with one entry
// goes back inline.
func (s *smallSet[V]) del(k string) bool {
	if s.many == nil {
		if !s.single || s.key != k {
			return false
		}
		var zero V
		s.key, s.val, s.single = "", zero, false
		return true
	}
	n := len(s.many)
	delete(s.many, k)
	if len(s.many) == n {
		return false
	}
	if len(s.many) == 1 {
		for k, v := range s.many {
			s.key, s.val, s.single = k, v, true
		}
		s.many = nil
	}
	return true
}

// all yields every entry, in no particular order. The set must not change
// during the iteration.
func (s *smallSet[V]) all() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		if s.many == nil {
			if s.single {
				yield(s.key, s.val)
			}
			return
		}
		for k, v := range s.many {
			if !yield(k, v) {
				return
			}
		}
	}
}
