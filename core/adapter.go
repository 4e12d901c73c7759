package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/edged-io/edged/core/parser"
)

// BroadcastFlags modify how a broadcast is delivered.
type BroadcastFlags struct {
	// Volatile packets are dropped for clients whose transport cannot write now.
	Volatile bool `json:"volatile,omitempty"`
	// Compress asks the transport to compress the packet (a hint).
	Compress bool `json:"compress,omitempty"`
	// Local restricts the broadcast to this node.
	Local bool `json:"local,omitempty"`
	// Timeout bounds the wait for acknowledgements of a broadcast with acks.
	Timeout time.Duration `json:"-"`
}

// BroadcastOptions select the recipients of a broadcast or utility operation.
type BroadcastOptions struct {
	// Rooms to target; empty means every socket of the namespace.
	Rooms []string
	// Except excludes sockets in any of these rooms.
	Except []string
	// Flags modify delivery.
	Flags BroadcastFlags
}

// SocketDetails is the serialisable view of a socket that fetchSockets returns,
// possibly from another node.
type SocketDetails struct {
	ID        string          `json:"id"`
	Handshake *Handshake      `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
}

// Session is the state kept for a disconnected socket so that connection
// state recovery can restore it.
type Session struct {
	// SID is the public socket id, PID the private session id the client presents.
	SID string `json:"sid"`
	PID string `json:"pid"`
	// Rooms the socket was in, its own id room included.
	Rooms []string `json:"rooms"`
	// Data is socket.data as JSON.
	Data json.RawMessage `json:"data"`
	// MissedPackets are the EVENT payloads (wire arrays with their offset as last
	// element) sent to the socket's rooms after the offset it presented.
	MissedPackets []Payload `json:"-"`
}

// Adapter stores the rooms of one namespace and delivers broadcasts. The
// in-memory MemoryAdapter serves one node; a clustered adapter (Redis) wraps a
// MemoryAdapter for local delivery and forwards to other nodes.
//
// Methods must be safe for concurrent use.
type Adapter interface {
	// Init starts the adapter; Close stops it.
	Init(ctx context.Context) error
	Close() error

	// AddAll adds a socket to rooms; Del removes it from one; DelAll from all.
	AddAll(id string, rooms []string)
	Del(id, room string)
	DelAll(id string)
	// Rooms lists the rooms of the namespace known to this node.
	Rooms() []string
	// Sockets returns the ids of local sockets in any of rooms (all when empty).
	Sockets(rooms []string) []string
	// SocketRooms returns the rooms of a local socket.
	SocketRooms(id string) []string

	// Broadcast delivers a packet, encoded once, to every matching socket.
	Broadcast(p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck delivers a packet that asks every recipient for an
	// acknowledgement; clientCount is called (once per node) with the number of
	// recipients, ack once per answer.
	BroadcastWithAck(p *parser.Packet, opts BroadcastOptions, clientCount func(int), ack func(*Ack)) error

	// FetchSockets returns the matching sockets, local and remote.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketDetails, error)
	// AddSockets makes the matching sockets join rooms.
	AddSockets(opts BroadcastOptions, rooms []string)
	// DelSockets makes the matching sockets leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the matching sockets; close also closes
	// their underlying connections.
	DisconnectSockets(opts BroadcastOptions, close bool)

	// ServerSideEmit sends an event to the other nodes of the cluster. With ack
	// non-nil, it collects their answers until every node answered or ctx ends.
	ServerSideEmit(ctx context.Context, event string, args Payload, ack func([]Payload, error)) error
	// ServerCount returns the number of nodes, this one included.
	ServerCount(ctx context.Context) (int, error)

	// PersistSession keeps a disconnected socket's session for recovery.
	PersistSession(s *Session)
	// RestoreSession returns the session for pid with the packets missed after
	// offset, or nil when it cannot be recovered.
	RestoreSession(pid, offset string) (*Session, error)
}

// AdapterFactory creates the adapter of a namespace.
type AdapterFactory func(nsp *Namespace) Adapter
