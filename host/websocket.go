package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsTransport is one accepted WebSocket connection.
type wsTransport struct {
	conn *websocket.Conn
	out  *corkWriter
	idle *idleReader // the shallow idle wait, when available
	srv  *Server
	once sync.Once
}

// acceptWebSocket completes the WebSocket handshake. The origin check of
// the WebSocket library is off: cross-origin access is decided by CORS and
// AllowRequest, as in the reference server.
func (s *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request) (*wsTransport, error) {
	if s.cfg.Headers != nil {
		s.cfg.Headers(w.Header(), r)
	}
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true}
	if s.cfg.PerMessageDeflate {
		opts.CompressionMode = websocket.CompressionNoContextTakeover
	}
	hw := &hijackWriter{ResponseWriter: w}
	conn, err := websocket.Accept(hw, r, opts)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	conn.SetReadLimit(s.cfg.MaxHTTPBufferSize)
	// Without permessage-deflate, data frames bypass the library (writeFrames).
	hw.cork.frames = !s.cfg.PerMessageDeflate || hw.Header().Get("Sec-WebSocket-Extensions") == ""
	s.active.add()
	return &wsTransport{conn: conn, out: hw.cork, idle: hw.idle, srv: s}, nil
}

// close closes the connection once: politely with a close frame (in the
// background, as the close handshake may take seconds) or at once.
func (t *wsTransport) close(graceful bool) {
	t.once.Do(func() {
		if t.idle != nil {
			t.idle.markClosing()
		}
		go func() {
			defer t.srv.active.done()
			if graceful {
				_ = t.conn.Close(websocket.StatusNormalClosure, "")
			} else {
				_ = t.conn.CloseNow()
			}
		}()
	})
}

// writeBatch writes pkts, one frame each, collecting the frames into as
// few socket writes as possible.
func (t *wsTransport) writeBatch(pkts []packet) error {
	if t.out.frames {
		return t.out.writeFrames(pkts)
	}
	// permessage-deflate: the library compresses and frames.
	t.out.cork()
	scratch := getBuffer(0)
	var err error
	for _, p := range pkts {
		if p.binary {
			err = t.conn.Write(context.Background(), websocket.MessageBinary, p.data)
		} else {
			// One text frame per packet: its type character, then its data.
			b := append((*scratch)[:0], p.typ)
			b = append(b, p.data...)
			*scratch = b
			err = t.conn.Write(context.Background(), websocket.MessageText, b)
		}
		if err != nil {
			break
		}
	}
	putBuffer(scratch)
	if uerr := t.out.uncork(); err == nil {
		err = uerr
	}
	return err
}

// writeText writes one text packet outside of the queue; used only for the
// probe answer, before the WebSocket carries the session.
func (t *wsTransport) writeText(typ byte, data []byte) error {
	return t.writeBatch([]packet{{typ: typ, data: data}})
}

// handshakeWebSocket opens a WebSocket-only session.
func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request, q url.Values) {
	c := s.newSession(w, r, q, TransportWebSocket)
	if c == nil {
		return
	}
	if ctx := s.register(c); ctx != nil {
		s.refuse(w, r, CodeBadRequest, ctx, true)
		return
	}
	s.handshakeHeaders(w.Header(), r, c.id)
	t, err := s.acceptWebSocket(w, r)
	if err != nil {
		s.log.Debug("engine websocket handshake failed", "error", err)
		s.remove(c, false)
		s.active.done()
		return
	}
	c.mu.Lock()
	c.ws = t
	c.mu.Unlock()
	s.open(c)
	go c.readLoop(t)
}

// upgradeWebSocket accepts a WebSocket that upgrades a polling session. It
// is probed ("2probe"/"3probe") and becomes the session's transport when the
// client sends the upgrade packet; anything else, an error or
// UpgradeTimeout cancels the upgrade and the session goes on polling.
func (s *Server) upgradeWebSocket(c *Conn, w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	busy := c.state != stateOpen || c.upgrading || c.upgraded || c.transport != TransportPolling
	if !busy {
		c.upgrading = true
		c.upgradeSeq++
	}
	seq := c.upgradeSeq
	c.mu.Unlock()
	t, err := s.acceptWebSocket(w, r)
	if err != nil {
		s.log.Debug("engine websocket upgrade failed", "sid", c.id, "error", err)
		if !busy {
			c.mu.Lock()
			if c.upgradeSeq == seq && c.upgradeWS == nil {
				c.upgrading = false
			}
			c.mu.Unlock()
		}
		return
	}
	if busy {
		// As the reference: a second WebSocket for a session is closed.
		t.close(true)
		return
	}
	c.mu.Lock()
	if c.state != stateOpen || !c.upgrading || c.upgradeSeq != seq {
		// Cancelled (by Close) while the handshake was being accepted.
		c.mu.Unlock()
		t.close(true)
		return
	}
	c.upgradeWS = t
	c.upgradeTimer = time.AfterFunc(s.cfg.UpgradeTimeout, func() { c.cancelUpgrade(t) })
	c.mu.Unlock()
	go c.readLoop(t)
}

// cancelUpgrade abandons the upgrade over t, if it is still running, and
// closes t. The session itself goes on.
func (c *Conn) cancelUpgrade(t *wsTransport) {
	c.mu.Lock()
	if c.upgradeWS == t {
		c.cancelUpgradeLocked()
	}
	c.mu.Unlock()
	t.close(true)
}

// cancelUpgradeLocked clears the upgrade state and returns the probed
// WebSocket, which the caller closes.
func (c *Conn) cancelUpgradeLocked() *wsTransport {
	t := c.upgradeWS
	c.upgradeWS = nil
	c.upgrading, c.probed = false, false
	if c.upgradeTimer != nil {
		c.upgradeTimer.Stop()
		c.upgradeTimer = nil
	}
	return t
}

// readLoop reads t until it fails, one message at a time; it is the only
// goroutine an idle WebSocket session keeps, and it holds no buffer between
// messages. When the session looks idle (see idleReader.quiet) the loop goes
// on in a fresh goroutine that waits shallowly in t.idle: the stack this one
// grew while handling messages is freed, and the idle session keeps a 2 KiB
// one instead of 4 KiB or more.
func (c *Conn) readLoop(t *wsTransport) {
	for {
		if !c.readMessage(t) {
			return
		}
		if t.idle != nil && t.idle.quiet() {
			go c.idleLoop(t)
			return
		}
	}
}

// idleLoop waits for the next message of an idle session, then reads on.
func (c *Conn) idleLoop(t *wsTransport) {
	t.idle.wait()
	c.readLoop(t)
}

// readMessage reads and handles one message from t; it reports false when
// the loop must stop.
//
//go:noinline
func (c *Conn) readMessage(t *wsTransport) bool {
	typ, r, err := t.conn.Reader(context.Background())
	if err != nil {
		c.onReadError(t, err)
		return false
	}
	buf := readBufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		readBufferPool.Put(buf)
		c.onReadError(t, err)
		return false
	}
	binary := typ == websocket.MessageBinary
	p, err := decodeFrame(buf.Bytes(), binary)
	if err == nil && (binary || !p.binary) {
		// The data aliases the read buffer; give the handler its own copy.
		p.data = bytes.Clone(p.data)
	}
	if buf.Cap() <= maxPooledBuffer {
		readBufferPool.Put(buf)
	}
	if err != nil {
		c.onParseError(t, err)
		return false
	}
	return c.onFrame(t, p)
}

var readBufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// onFrame handles a packet read from t: delivered if t carries the
// session, part of the upgrade handshake if t is being probed.
func (c *Conn) onFrame(t *wsTransport, p packet) bool {
	c.mu.Lock()
	if c.ws == t {
		c.mu.Unlock()
		c.inMu.Lock()
		defer c.inMu.Unlock()
		return c.dispatch(p)
	}
	if c.upgradeWS != t || c.state != stateOpen {
		c.mu.Unlock()
		t.close(true)
		return false
	}
	switch {
	case p.typ == packetPing && p.isProbe():
		// Marked before the answer goes out, so that a GET the client sends
		// after reading it is known to come after the probe.
		c.probed = true
		if c.poll != nil {
			// The client pauses polling: end its pending GET at once.
			c.poll.noop = true
			c.poll.wake()
		}
		c.mu.Unlock()
		if err := t.writeText(packetPong, probe); err != nil {
			c.cancelUpgrade(t)
			return false
		}
		return true
	case p.typ == packetUpgrade:
		c.cancelUpgradeLocked()
		c.upgraded = true
		c.transport = TransportWebSocket
		c.ws = t
		if c.poll != nil {
			c.poll.wake() // the pending GET ends with a noop
		}
		c.kickLocked()
		observed := c.observed
		c.mu.Unlock()
		if obs := c.srv.cfg.Observer; obs != nil && observed {
			obs.ConnUpgraded()
		}
		c.srv.log.Debug("engine session upgraded", "sid", c.id)
		return true
	default:
		c.mu.Unlock()
		c.cancelUpgrade(t)
		return false
	}
}

// onReadError handles the end of t's read loop.
func (c *Conn) onReadError(t *wsTransport, err error) {
	c.mu.Lock()
	active := c.ws == t
	if !active && c.upgradeWS == t {
		c.cancelUpgradeLocked()
	}
	c.mu.Unlock()
	if !active {
		t.close(false)
		return
	}
	reason := ReasonTransportClose
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		reason, err = ReasonTransportError, fmt.Errorf("%w: %w", ErrPayloadTooLarge, err)
	case websocket.CloseStatus(err) != -1, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
	default:
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			reason = ReasonTransportError
		}
	}
	c.finish(reason, err)
	t.close(false)
}

// onParseError handles a malformed packet read from t.
func (c *Conn) onParseError(t *wsTransport, err error) {
	c.mu.Lock()
	active := c.ws == t
	c.mu.Unlock()
	if active {
		c.finish(ReasonParseError, err)
		return
	}
	c.cancelUpgrade(t)
}

// flush is the WebSocket flusher: it runs only while the queue is not
// empty, writing it batch by batch. It completes an orderly close once the
// queue is drained.
func (c *Conn) flush(t *wsTransport) {
	for {
		c.mu.Lock()
		if c.state == stateClosed || c.ws != t {
			c.flushing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		if len(batch) == 0 {
			c.flushing = false
			c.queue, c.spare = nil, nil
			closing := c.state == stateClosing
			c.mu.Unlock()
			if closing {
				c.finish(ReasonForcedClose, nil)
			}
			return
		}
		c.queue, c.spare, c.queueBytes = c.spare, nil, 0
		c.mu.Unlock()

		err := t.writeBatch(batch)
		clear(batch)
		if err != nil {
			c.finish(ReasonTransportError, fmt.Errorf("write websocket: %w", err))
			return
		}
		c.mu.Lock()
		if c.spare == nil {
			c.spare = batch[:0]
		}
		c.mu.Unlock()
	}
}
