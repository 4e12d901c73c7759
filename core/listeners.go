package core

import (
	"slices"
	"sync"
	"sync/atomic"
)

// EventHandler handles one event received on a socket.
type EventHandler func(e *Event)

// AnyHandler is a catch-all listener: it sees every incoming (or outgoing)
// event before the named handlers.
type AnyHandler func(e *Event)

// PacketMiddleware runs for every incoming event before its handlers; an
// error stops the event and is given to the socket's error handlers.
type PacketMiddleware func(e *Event) error

// ListenerID identifies a registered handler so that it can be removed.
type ListenerID uint64

type eventListener struct {
	id   ListenerID
	fn   EventHandler
	once bool
}

type anyListener struct {
	id ListenerID
	fn AnyHandler
}

// listeners is the handler registry of one socket.
type listeners struct {
	mu            sync.RWMutex
	nextID        ListenerID
	events        map[string][]eventListener
	order         []string // event names in first-registration order
	any           []anyListener
	anyOutgoing   []anyListener
	outgoing      atomic.Int32 // len(anyOutgoing), read without the lock on every delivery
	middlewares   []PacketMiddleware
	disconnecting []func(reason string)
	disconnect    []func(reason string)
	errors        []func(err error)
}

func (l *listeners) id() ListenerID {
	l.nextID++
	return l.nextID
}

func (l *listeners) on(event string, fn EventHandler, once bool) ListenerID {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events == nil {
		l.events = make(map[string][]eventListener)
	}
	if _, ok := l.events[event]; !ok {
		l.order = append(l.order, event)
	}
	id := l.id()
	l.events[event] = append(l.events[event], eventListener{id: id, fn: fn, once: once})
	return id
}

func (l *listeners) off(event string, id ListenerID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := slices.DeleteFunc(slices.Clone(l.events[event]), func(x eventListener) bool { return x.id == id })
	l.setEvent(event, ls)
}

// setEvent stores the listeners of an event, forgetting the event when none remain.
func (l *listeners) setEvent(event string, ls []eventListener) {
	if len(ls) == 0 {
		delete(l.events, event)
		l.order = slices.DeleteFunc(l.order, func(n string) bool { return n == event })
		return
	}
	l.events[event] = ls
}

func (l *listeners) offAll(events []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(events) == 0 {
		l.events = nil
		l.order = nil
		return
	}
	for _, e := range events {
		l.setEvent(e, nil)
	}
}

func (l *listeners) names() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.order)
}

// take returns the handlers of an event and removes the once-only ones.
func (l *listeners) take(event string) []EventHandler {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := l.events[event]
	if len(ls) == 0 {
		return nil
	}
	out := make([]EventHandler, 0, len(ls))
	hasOnce := false
	for _, x := range ls {
		out = append(out, x.fn)
		hasOnce = hasOnce || x.once
	}
	if hasOnce {
		l.setEvent(event, slices.DeleteFunc(slices.Clone(ls), func(x eventListener) bool { return x.once }))
	}
	return out
}

func (l *listeners) addAny(list *[]anyListener, fn AnyHandler, prepend bool) ListenerID {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.id()
	x := anyListener{id: id, fn: fn}
	if prepend {
		*list = append([]anyListener{x}, *list...)
	} else {
		*list = append(slices.Clone(*list), x)
	}
	l.outgoing.Store(int32(len(l.anyOutgoing)))
	return id
}

func (l *listeners) removeAny(list *[]anyListener, ids []ListenerID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() { l.outgoing.Store(int32(len(l.anyOutgoing))) }()
	if len(ids) == 0 {
		*list = nil
		return
	}
	*list = slices.DeleteFunc(slices.Clone(*list), func(x anyListener) bool { return slices.Contains(ids, x.id) })
}

func (l *listeners) anyHandlers(list *[]anyListener) []AnyHandler {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(*list) == 0 {
		return nil
	}
	out := make([]AnyHandler, len(*list))
	for i, x := range *list {
		out[i] = x.fn
	}
	return out
}

func (l *listeners) packetMiddlewares() []PacketMiddleware {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.middlewares
}

func (l *listeners) reasonHandlers(list *[]func(string)) []func(string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return *list
}

func (l *listeners) errorHandlers() []func(error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.errors
}

// appendLocked appends to a handler slice under the lock, copying so readers
// that took the old slice keep a stable view.
func appendLocked[T any](l *listeners, list *[]T, v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(slices.Clone(*list), v)
}
