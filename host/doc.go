// Package host implements the Engine.IO v4 server: the HTTP long-polling and
// WebSocket transports, the polling-to-websocket upgrade, the server-driven
// heartbeat, CORS, cookies and the engine error answers, as an http.Handler.
//
// It knows nothing of Socket.IO: it hands each new session to Options.OnConnection
// as a *Conn, delivers "message" packets to the handler set on that Conn, and
// writes the messages given to Conn.Send.
//
// Key invariants:
//   - One writer per connection: every write to the wire goes through the
//     session's queue and one flusher at a time; nothing else touches the wire.
//   - Messages of one session reach its MessageHandler one at a time, in
//     arrival order, and never before Options.OnConnection has returned.
//   - Every queue is bounded: a session whose write queue overflows is closed
//     ("transport error"), never allowed to grow memory.
//   - Input from a client never panics the host: bad requests get the engine
//     error answers (codes 0-5), bad packets close the session ("parse error").
//
// Concurrency: Server and Conn methods are safe to call from any goroutine.
package host
