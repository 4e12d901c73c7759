package host

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// Message is one Engine.IO "message" packet: text, or binary when Binary
// is set. Data is not copied by Send and must not be modified afterwards, so
// one encoded broadcast can be queued to many sessions.
type Message struct {
	Data   []byte
	Binary bool
}

// MessageHandler receives the input of one session. Its methods are called
// one at a time, in order, never concurrently with each other.
type MessageHandler interface {
	// OnMessage receives the payload of one "message" packet (without the
	// leading '4'); data belongs to the handler and may be retained.
	OnMessage(data []byte, binary bool)
	// OnClose is called once when the session ends, with one of the Reason*
	// constants (or the reason given to CloseNow) and an optional cause.
	OnClose(reason string, description error)
}

type connState int

const (
	stateOpen    connState = iota
	stateClosing           // Close was called: flushing the queue, then closing
	stateClosed
)

// Conn is one Engine.IO session. All its methods are safe for concurrent use.
type Conn struct {
	srv *Server
	id  string
	hs  handshakeRecord

	// inMu serialises everything delivered to the handler: OnConnection,
	// each OnMessage and OnClose. It is never acquired while holding mu.
	inMu sync.Mutex

	mu        sync.Mutex
	handler   MessageHandler
	opened    bool // OnConnection returned; the session is reachable by sid
	observed  bool // reported to the Observer as opened; its close is reported too
	state     connState
	transport string
	// closePacket answers a pending polling GET once the session is closed:
	// close, or noop when the client itself closed the session.
	closePacket byte

	// Outgoing queue. The WebSocket flusher takes it whole; a polling GET
	// drains it into one response.
	queue      []packet
	queueBytes int64
	spare      []packet // reusable backing array while a flusher runs
	flushing   bool     // a WebSocket flusher goroutine is running

	poll    *pollWaiter // the pending polling GET, if any
	posting bool        // a polling POST is being processed
	// linger is set when a POST ended the session while no GET was pending;
	// a late GET that takes the close packet signals it.
	linger chan struct{}

	ws           *wsTransport // the active WebSocket (transport == websocket)
	upgradeWS    *wsTransport // the WebSocket being probed during an upgrade
	upgrading    bool         // an upgrade is being accepted or probed
	upgradeSeq   uint64       // counts upgrade attempts, to tell a stale one
	probed       bool         // the upgrading WebSocket answered the probe
	upgraded     bool
	upgradeTimer *time.Timer

	heartbeat    *time.Timer // pings, and ends the session on a missing pong
	nextPing     time.Time
	pongDeadline time.Time
	pongDue      bool
	closeTimer   *time.Timer
}

func newConn(s *Server, id string, hs handshakeRecord, transport string) *Conn {
	c := &Conn{srv: s, id: id, hs: hs, transport: transport, closePacket: packetClose}
	open := s.openPacket(id, transport)
	c.queue = append(c.queue, packet{typ: packetOpen, data: open})
	return c
}

// ID returns the session id (the "sid").
func (c *Conn) ID() string { return c.id }

// Handshake returns the request that opened the session. Each call builds a
// new Handshake, which the caller may keep and modify; the session itself
// keeps the request in a compact form only.
func (c *Conn) Handshake() *Handshake { return c.hs.handshake() }

// SetHandler sets the receiver of the session's messages and close event.
// Options.OnConnection must call it before returning.
func (c *Conn) SetHandler(h MessageHandler) {
	c.mu.Lock()
	c.handler = h
	c.mu.Unlock()
}

// Transport returns the current transport name, "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Upgraded reports whether the session was upgraded from polling to websocket.
func (c *Conn) Upgraded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.upgraded
}

// Writable reports whether a message sent now would go out at once: the
// WebSocket has nothing pending, or a polling GET is waiting with nothing
// handed to it yet. Volatile messages are dropped when it is false.
func (c *Conn) Writable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return false
	}
	if c.transport == TransportWebSocket {
		return !c.flushing && len(c.queue) == 0
	}
	return c.poll != nil && len(c.queue) == 0
}

// Send queues msgs as one group: they go out in order and are never
// interleaved with another Send. It does not block. It returns ErrClosed on
// a closing session; if the queue would exceed its bounds the session is
// closed with "transport error" and ErrQueueFull is returned.
func (c *Conn) Send(msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var n int64
	for _, m := range msgs {
		n += int64(len(m.Data))
	}
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	cfg := &c.srv.cfg
	if len(c.queue) > 0 && (len(c.queue)+len(msgs) > cfg.MaxQueuedMessages || c.queueBytes+n > cfg.MaxQueuedBytes) {
		queued, queuedBytes := len(c.queue), c.queueBytes
		c.mu.Unlock()
		c.srv.log.Warn("session closed: write queue full", "sid", c.id, "reason", "slow consumer", "queued", queued, "queuedBytes", queuedBytes)
		if obs := cfg.Observer; obs != nil {
			obs.SlowConsumer()
		}
		c.finish(ReasonTransportError, ErrQueueFull)
		return ErrQueueFull
	}
	for _, m := range msgs {
		c.queue = append(c.queue, packet{typ: packetMessage, data: m.Data, binary: m.Binary})
	}
	c.queueBytes += n
	c.kickLocked()
	c.mu.Unlock()
	if obs := cfg.Observer; obs != nil {
		obs.MessagesOut(len(msgs), int(n))
	}
	return nil
}

// Close flushes what is queued, then closes the session: a polling client
// gets the close packet on the GET after the one that takes the queue
// (within Options.CloseTimeout), a WebSocket a close frame after the queued
// messages. The handler gets OnClose("forced close", nil).
func (c *Conn) Close() { c.close(false) }

// CloseNow closes the session at once, dropping what is queued, and reports
// reason to the handler's OnClose.
func (c *Conn) CloseNow(reason string) { c.finish(reason, nil) }

// close starts an orderly close. With discard (server shutdown) a polling
// session without a pending GET ends at once instead of waiting for one.
func (c *Conn) close(discard bool) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.stopHeartbeatLocked()
	up := c.cancelUpgradeLocked()
	finishNow := false
	switch {
	case c.transport == TransportWebSocket:
		if !c.flushing {
			if len(c.queue) > 0 {
				c.kickLocked()
			} else {
				finishNow = true
			}
		}
	case c.poll == nil && c.opened && discard:
		finishNow = true
	default:
		// Polling: the queue, then the close packet, go out on the next GETs
		// (the pending one, if any), or the session ends after CloseTimeout.
		if c.poll != nil {
			c.poll.wake()
		}
		c.closeTimer = time.AfterFunc(c.srv.cfg.CloseTimeout, func() { c.finish(ReasonForcedClose, nil) })
	}
	c.mu.Unlock()
	if up != nil {
		up.close(true)
	}
	if finishNow {
		c.finish(ReasonForcedClose, nil)
	}
}

// finish ends the session with reason, once: it stops the timers, drops the
// queue, answers a pending polling GET, closes the WebSockets, removes the
// session from the server and schedules OnClose.
func (c *Conn) finish(reason string, description error) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	observed, transport := c.observed, c.transport
	c.stopHeartbeatLocked()
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	up := c.cancelUpgradeLocked()
	c.queue, c.spare, c.queueBytes = nil, nil, 0
	if c.poll != nil {
		c.poll.wake()
	}
	lingering := c.posting && c.poll == nil && c.transport == TransportPolling
	if lingering {
		c.linger = make(chan struct{}, 1)
	}
	ws := c.ws
	c.mu.Unlock()

	c.srv.remove(c, lingering)
	if obs := c.srv.cfg.Observer; obs != nil && observed {
		obs.ConnClosed(transport, reason)
	}
	if up != nil {
		up.close(true)
	}
	if ws != nil {
		// A close frame is polite but needs a live peer; after a ping timeout
		// or a transport error just drop the connection.
		ws.close(reason != ReasonPingTimeout && reason != ReasonTransportError)
	}
	c.srv.log.Debug("engine session closed", "sid", c.id, "reason", reason, "error", description)
	go func() {
		defer c.srv.active.done()
		c.inMu.Lock()
		defer c.inMu.Unlock()
		c.mu.Lock()
		h := c.handler
		c.mu.Unlock()
		if h != nil {
			h.OnClose(reason, description)
		}
	}()
}

// kickLocked gets queued packets moving: it starts the WebSocket flusher or
// wakes the pending polling GET.
func (c *Conn) kickLocked() {
	if c.state == stateClosed || !c.opened {
		return
	}
	if c.transport == TransportWebSocket {
		if !c.flushing && len(c.queue) > 0 && c.ws != nil {
			c.flushing = true
			go c.flush(c.ws)
		}
		return
	}
	if c.poll != nil {
		c.poll.wake()
	}
}

// enqueueLocked queues a control packet, outside the queue bounds.
func (c *Conn) enqueueLocked(p packet) {
	c.queue = append(c.queue, p)
	c.kickLocked()
}

// dispatch handles one packet received on the active transport; the caller
// holds inMu. It returns false once the session no longer accepts packets.
func (c *Conn) dispatch(p packet) bool {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return false
	}
	switch p.typ {
	case packetMessage:
		h := c.handler
		c.mu.Unlock()
		if obs := c.srv.cfg.Observer; obs != nil {
			obs.MessageIn(len(p.data))
		}
		if h != nil {
			h.OnMessage(p.data, p.binary)
		}
		return true
	case packetPong:
		c.onPongLocked()
		c.mu.Unlock()
		return true
	case packetPing:
		c.mu.Unlock()
		c.finish(ReasonTransportError, ErrHeartbeatDirection)
		return false
	case packetClose:
		c.closePacket = packetNoop
		c.mu.Unlock()
		c.finish(ReasonTransportClose, nil)
		return false
	default:
		// open, upgrade and noop packets are ignored, as by the reference.
		c.mu.Unlock()
		return true
	}
}

// openPacket returns the JSON payload of the open packet of a session.
func (s *Server) openPacket(id, transport string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"upgrades":[`...)
	for i, u := range s.cfg.upgrades(transport) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, u)
	}
	b = append(b, `],"pingInterval":`...)
	b = appendInt(b, s.cfg.PingInterval.Milliseconds())
	b = append(b, `,"pingTimeout":`...)
	b = appendInt(b, s.cfg.PingTimeout.Milliseconds())
	b = append(b, `,"maxPayload":`...)
	b = appendInt(b, s.cfg.MaxHTTPBufferSize)
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
