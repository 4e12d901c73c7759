// Package core implements the Socket.IO v5 server model on top of the
// Engine.IO sessions of package host: the Server, its namespaces (static and
// dynamic), sockets, rooms through an Adapter, broadcast operators, acks in
// both directions, connect and per-packet middleware, and connection state
// recovery. It knows nothing of WebAssembly; handlers are Go functions.
//
// Key invariants:
//   - One writer per connection: sockets never write to the wire themselves;
//     every packet goes to the connection's host.Conn queue.
//   - Encode once, write many: a broadcast is encoded once by the adapter and
//     the same bytes are queued to every recipient.
//   - Per-socket order: events, socket middleware, and the disconnecting and
//     disconnect handlers of one socket run one at a time, in arrival order, on
//     the socket's serial queue; different sockets run in parallel. Ack answers
//     from the client are resolved directly on the connection's read path, so a
//     handler may wait for an ack of the same client (EmitWithAck) without
//     deadlocking.
//   - Bounded: a socket accepts at most MaxPendingEvents queued events; a client
//     that floods beyond that is disconnected.
//   - Never panics on client input: a malformed packet closes the connection
//     with reason "parse error".
//
// Concurrency: every exported method of Server, Namespace, Socket,
// BroadcastOperator and RemoteSocket is safe to call from any goroutine.
// Handlers registered on one socket are called one at a time.
package core
