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
	event string
	id    ListenerID
	fn    EventHandler
	once  bool
}

type anyListener struct {
	id ListenerID
	fn AnyHandler
}

// listeners is the handler registry of one socket. An idle socket has few
// handlers or none, so the registry is small slices, and the lists most
// sockets never use live in rareListeners, allocated on first use.
type listeners struct {
	mu     sync.RWMutex
	nextID ListenerID
	// events holds the event handlers grouped by event, the events in
	// first-registration order (as EventNames reports them), each event's
	// handlers in registration order. A socket has few events: a scan is
	// as fast as a map and much smaller.
	events     []eventListener
	disconnect []func(reason string)
	outgoing   atomic.Int32 // len(rare.anyOutgoing), read without the lock on every delivery
	rare       *rareListeners
}

// rareListeners are the handler lists of a socket that most sockets leave empty.
type rareListeners struct {
	any           []anyListener
	anyOutgoing   []anyListener
	middlewares   []PacketMiddleware
	disconnecting []func(reason string)
	errors        []func(err error)
}

// anyKind selects the incoming or the outgoing catch-all handlers.
type anyKind bool

const (
	anyIncoming anyKind = false
	anyOutgoing anyKind = true
)

func (l *listeners) id() ListenerID {
	l.nextID++
	return l.nextID
}

// rareLocked returns the rare lists, allocating them; l.mu must be held for writing.
func (l *listeners) rareLocked() *rareListeners {
	if l.rare == nil {
		l.rare = new(rareListeners)
	}
	return l.rare
}

func (l *listeners) on(event string, fn EventHandler, once bool) ListenerID {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.id()
	x := eventListener{event: event, id: id, fn: fn, once: once}
	// after the last handler of the same event, to keep events grouped
	at := len(l.events)
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].event == event {
			at = i + 1
			break
		}
	}
	l.events = slices.Insert(l.events, at, x)
	return id
}

func (l *listeners) off(event string, id ListenerID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = slices.DeleteFunc(l.events, func(x eventListener) bool { return x.id == id && x.event == event })
}

func (l *listeners) offAll(events []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(events) == 0 {
		l.events = nil
		return
	}
	l.events = slices.DeleteFunc(l.events, func(x eventListener) bool { return slices.Contains(events, x.event) })
}

func (l *listeners) names() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []string
	for i, x := range l.events {
		if i == 0 || l.events[i-1].event != x.event {
			out = append(out, x.event)
		}
	}
	return out
}

// take returns the handlers of an event and removes the once-only ones.
func (l *listeners) take(event string) []EventHandler {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []EventHandler
	hasOnce := false
	for _, x := range l.events {
		if x.event == event {
			out = append(out, x.fn)
			hasOnce = hasOnce || x.once
		}
	}
	if hasOnce {
		l.events = slices.DeleteFunc(l.events, func(x eventListener) bool { return x.once && x.event == event })
	}
	return out
}

// anyList returns the catch-all list of a kind; l.mu must be held for writing.
func (l *listeners) anyList(kind anyKind) *[]anyListener {
	if kind == anyOutgoing {
		return &l.rareLocked().anyOutgoing
	}
	return &l.rareLocked().any
}

func (l *listeners) addAny(kind anyKind, fn AnyHandler, prepend bool) ListenerID {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.id()
	x := anyListener{id: id, fn: fn}
	list := l.anyList(kind)
	if prepend {
		*list = append([]anyListener{x}, *list...)
	} else {
		*list = append(slices.Clone(*list), x)
	}
	l.outgoing.Store(int32(len(l.rare.anyOutgoing)))
	return id
}

func (l *listeners) removeAny(kind anyKind, ids []ListenerID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rare == nil {
		return
	}
	defer func() { l.outgoing.Store(int32(len(l.rare.anyOutgoing))) }()
	list := l.anyList(kind)
	if len(ids) == 0 {
		*list = nil
		return
	}
	*list = slices.DeleteFunc(slices.Clone(*list), func(x anyListener) bool { return slices.Contains(ids, x.id) })
}

func (l *listeners) anyHandlers(kind anyKind) []AnyHandler {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.rare == nil {
		return nil
	}
	list := l.rare.any
	if kind == anyOutgoing {
		list = l.rare.anyOutgoing
	}
	if len(list) == 0 {
		return nil
	}
	out := make([]AnyHandler, len(list))
	for i, x := range list {
		out[i] = x.fn
	}
	return out
}

func (l *listeners) packetMiddlewares() []PacketMiddleware {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.rare == nil {
		return nil
	}
	return l.rare.middlewares
}

func (l *listeners) disconnectingHandlers() []func(string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.rare == nil {
		return nil
	}
	return l.rare.disconnecting
}

func (l *listeners) disconnectHandlers() []func(string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.disconnect
}

func (l *listeners) errorHandlers() []func(error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.rare == nil {
		return nil
	}
	return l.rare.errors
}

func (l *listeners) addMiddleware(m PacketMiddleware) {
	l.mu.Lock()
	defer l.mu.Unlock()
	appendCopy(&l.rareLocked().middlewares, m)
}

func (l *listeners) addDisconnecting(h func(string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	appendCopy(&l.rareLocked().disconnecting, h)
}

func (l *listeners) addDisconnect(h func(string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	appendCopy(&l.disconnect, h)
}

func (l *listeners) addError(h func(error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	appendCopy(&l.rareLocked().errors, h)
}

// appendCopy appends to a handler slice (under the registry's lock), copying
// so readers that took the old slice keep a stable view.
func appendCopy[T any](list *[]T, v T) {
	*list = append(slices.Clone(*list), v)
}
