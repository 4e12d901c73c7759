package sdk

import (
	"fmt"
	"slices"
)

// Plugin declares what a plugin handles: its namespaces and its handlers.
// Build one in an init function and pass it to Register.
type Plugin struct {
	// Namespaces are the static namespaces the plugin serves ("/", "/chat").
	Namespaces []string
	// NamespacePatterns are Go RE2 expressions of dynamic namespaces ("^/room-\\d+$").
	NamespacePatterns []string

	init          []func() error
	connect       []ConnectHandler
	connection    []ConnectionHandler
	events        map[string]named[EventHandler]
	eventNames    []string
	any           []AnyHandler
	packet        []PacketHandler
	disconnecting []DisconnectHandler
	disconnect    []DisconnectHandler
	serverSide    map[string]named[ServerSideHandler]
	serverNames   []string
	acks          []ackEntry
}

// ConnectHandler is namespace middleware: a non-nil error refuses the
// connection (a *ConnectError carries the message and data the client gets).
type ConnectHandler func(s *Socket) error

// ConnectionHandler runs when a socket has connected.
type ConnectionHandler func(s *Socket)

// EventHandler handles one event. A non-nil value acknowledges the event
// when the client asked for it and the handler did not call e.Ack: a value
// of type Args acknowledges with several arguments, RawArgs with exactly
// those, anything else with one argument. A non-nil error is logged by the
// host and sent to the client as the ack {"error": err.Error()}.
type EventHandler func(s *Socket, e *Event) (any, error)

// AnyHandler sees every event (catch-all, before packet middleware and
// event handlers); it may acknowledge events no EventHandler handles.
type AnyHandler func(s *Socket, e *Event)

// PacketHandler is per-packet middleware: a non-nil error drops the event
// (the client gets {"error": err.Error()} if it asked for an ack).
type PacketHandler func(s *Socket, e *Event) error

// DisconnectHandler runs on disconnecting (rooms still visible) or
// disconnect with the reason.
type DisconnectHandler func(s *Socket, reason string)

// ServerSideHandler handles an event sent by another node with
// ServerSideEmit; the returned value answers it like an EventHandler's.
type ServerSideHandler func(e *Event) (any, error)

// AckResultHandler receives the answer to EmitWithAck. The socket is the
// one the call is about, nil for server-side emits.
type AckResultHandler func(s *Socket, r *AckResult)

// AckHandler identifies an AckResultHandler across instances: it is the
// token of the handler, its registration order, so the same code gives the
// same tokens in every instance.
type AckHandler int32

type ackEntry struct {
	name string
	fn   AckResultHandler
}

// ConnectError refuses a connection with a message and optional data, as
// the client's connect_error.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// OnInit adds a function run once per instance after the config is known
// (sdk.Config works); an error fails the plugin load.
func (p *Plugin) OnInit(fn func() error) { p.init = append(p.init, fn) }

// Use adds namespace middleware, run in order for every connecting socket.
func (p *Plugin) Use(fn ConnectHandler) { p.connect = append(p.connect, fn) }

// OnConnection adds a handler run when a socket has connected.
func (p *Plugin) OnConnection(fn ConnectionHandler) { p.connection = append(p.connection, fn) }

// On sets the handler of event; one handler per event name.
func (p *Plugin) On(event string, fn EventHandler) {
	if p.events == nil {
		p.events = make(map[string]named[EventHandler])
	}
	if _, dup := p.events[event]; !dup {
		p.eventNames = append(p.eventNames, event)
	}
	p.events[event] = named[EventHandler]{event, fn}
}

// OnAny adds a catch-all handler that sees every event.
func (p *Plugin) OnAny(fn AnyHandler) { p.any = append(p.any, fn) }

// UsePacket adds per-packet middleware, run in order before the event handlers.
func (p *Plugin) UsePacket(fn PacketHandler) { p.packet = append(p.packet, fn) }

// OnDisconnecting adds a handler run when a socket is leaving (rooms still visible).
func (p *Plugin) OnDisconnecting(fn DisconnectHandler) {
	p.disconnecting = append(p.disconnecting, fn)
}

// OnDisconnect adds a handler run when a socket has disconnected.
func (p *Plugin) OnDisconnect(fn DisconnectHandler) { p.disconnect = append(p.disconnect, fn) }

// OnServerSide sets the handler of a server-side event from another node.
func (p *Plugin) OnServerSide(event string, fn ServerSideHandler) {
	if p.serverSide == nil {
		p.serverSide = make(map[string]named[ServerSideHandler])
	}
	if _, dup := p.serverSide[event]; !dup {
		p.serverNames = append(p.serverNames, event)
	}
	p.serverSide[event] = named[ServerSideHandler]{event, fn}
}

// named is a handler with the event name it was registered for: the
// dispatcher reuses that string instead of allocating one per event.
type named[H any] struct {
	name string
	fn   H
}

// lookup returns the entry of the event whose name is the JSON string raw
// (fn nil when there is none).
func lookup[H any](m map[string]named[H], raw []byte) named[H] {
	if s, ok := plainString(raw); ok {
		return m[string(s)] // no allocation
	}
	name, _ := parseString(raw)
	return m[name]
}

// OnAckResult registers the handler of acknowledgements named name and
// returns its AckHandler for EmitWithAck. Register ack handlers at init,
// unconditionally and in a fixed order: the token travels through the host
// and may come back to another instance, which finds the handler by the
// same token. Registering a name twice panics.
func (p *Plugin) OnAckResult(name string, fn AckResultHandler) AckHandler {
	if slices.ContainsFunc(p.acks, func(a ackEntry) bool { return a.name == name }) {
		panic(fmt.Sprintf("sdk: ack handler %q registered twice", name))
	}
	p.acks = append(p.acks, ackEntry{name: name, fn: fn})
	return AckHandler(len(p.acks)) // tokens start at 1
}

// ackHandler returns the handler of token, or nil.
func (p *Plugin) ackHandler(token int32) AckResultHandler {
	if token < 1 || int(token) > len(p.acks) {
		return nil
	}
	return p.acks[token-1].fn
}

var registered *Plugin

// Register makes p the plugin of this module. Call it once, from an init
// function of package main; registering twice panics.
func Register(p *Plugin) {
	if registered != nil {
		panic("sdk: Register called twice")
	}
	registered = p
}
