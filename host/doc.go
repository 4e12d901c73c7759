// Package host implements the Engine.IO v4 server: the HTTP long-polling and
// WebSocket transports, the polling-to-websocket upgrade, the server-driven
// heartbeat, CORS, cookies and the engine error answers, as an http.Handler.
//
// It knows nothing of Socket.IO: it hands each new session to
// Options.OnConnection as a *Conn, delivers "message" packets to the
// MessageHandler set on that Conn, and writes the messages given to
// Conn.Send. Its behaviour follows the reference Node.js engine.io server
// (error codes and messages, close reasons, upgrade and polling details);
// where it differs, the difference is documented on the option or method.
//
// Key invariants:
//   - One writer per connection: every write to the wire goes through the
//     session's queue and one flusher at a time (the WebSocket flusher, or
//     the pending polling GET); nothing else touches the wire.
//   - Send is atomic: the messages of one Send go out together, in order,
//     never interleaved with those of another Send.
//   - Messages of one session reach its MessageHandler one at a time, in
//     arrival order, and never before Options.OnConnection has returned;
//     OnClose comes once, after the last OnMessage.
//   - Every queue is bounded: a session whose write queue overflows is closed
//     ("transport error"), never allowed to grow memory or block a sender.
//   - Input from a client never panics the host: bad requests get the engine
//     error answers (codes 0-5), bad packets close the session ("parse error").
//
// Lean connections: an idle WebSocket session keeps one goroutine (its read
// loop, started after the HTTP handler has returned), two small bufio
// buffers and two time.AfterFunc timers for the heartbeat. The flusher
// goroutine exists only while output is pending and writes a whole batch of
// frames with as few syscalls as possible. Hot paths use
// context.Background(); liveness is enforced by the heartbeat.
//
// Concurrency: Server and Conn methods are safe to call from any goroutine.
// MessageHandler methods may call any Conn method, including Close.
package host
