package core

import "time"

// Observer receives the Socket.IO layer's events for metrics. Its methods
// are called on hot paths, from many goroutines at once: they must be
// cheap, safe for concurrent use and must not block or call back into the
// server. A nil Options.Observer costs one nil check per event. The engine
// events (sessions, transports, bytes) have their own Options.Engine.Observer.
type Observer interface {
	// NamespaceCreated reports a new namespace, the main one "/" included.
	NamespaceCreated(nsp string)
	// SocketConnected reports a socket connected to a namespace.
	SocketConnected(nsp string)
	// SocketDisconnected reports a socket gone from a namespace, with the
	// reason (one of the Reason* constants).
	SocketDisconnected(nsp, reason string)
	// Broadcast reports a packet delivered by the adapter of nsp to
	// recipients local sockets (0 when no socket matched). With connection
	// state recovery on, an emit to one socket goes through the adapter too
	// and is reported as a broadcast to 1.
	Broadcast(nsp string, recipients int)
	// RoomsChanged reports rooms of the in-memory adapter of nsp created
	// (delta > 0) or gone with their last member (delta < 0). Every socket's
	// own room (named by its id) is counted.
	RoomsChanged(nsp string, delta int)
	// VolatileDropped reports a volatile packet not sent because the
	// client's transport could not write at once.
	VolatileDropped()
	// ServerAckLatency reports the time from an event asking for an
	// acknowledgement arriving to the server's answer being queued.
	ServerAckLatency(nsp string, d time.Duration)
	// ClientAckLatency reports the time from an emit with acknowledgement to
	// the client's answer arriving (timeouts and disconnections excluded).
	ClientAckLatency(nsp string, d time.Duration)
}
