package host

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pollWaiter is a pending polling GET, woken when it has something to send.
type pollWaiter struct {
	ready chan struct{}
	// noop: end the GET with a noop packet (an upgrade is being completed).
	noop bool
	// afterProbe: the GET came after the upgrade probe was answered; if the
	// upgrade completes meanwhile, it is refused as a GET after the upgrade.
	afterProbe bool
}

// probeWait bounds how long a GET that arrives after the upgrade probe
// waits before its noop: the reference server likewise ends such a GET from
// a 100 ms timer. A client that pauses polling as the protocol asks only
// sends one when its noop raced the probe answer, and must get it to finish
// pausing; a client that polls on after sending the upgrade packet must be
// refused, which it is if the upgrade completes within the wait.
const probeWait = 100 * time.Millisecond

func (p *pollWaiter) wake() {
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// handshakePolling opens a session on the polling transport; the handshake
// GET is answered like a poll, with the open packet first.
func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request, q url.Values) {
	c := s.newSession(w, r, q, TransportPolling)
	if c == nil {
		return
	}
	if ctx := s.register(c); ctx != nil {
		s.refuse(w, r, CodeBadRequest, ctx, false)
		return
	}
	s.open(c)
	c.servePoll(w, r, true)
}

// servePolling serves a request of an existing polling session.
func (c *Conn) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.servePoll(w, r, false)
	case http.MethodPost:
		c.serveData(w, r)
	default:
		writeStatus(w, http.StatusInternalServerError)
	}
}

// servePoll answers a polling GET with everything queued, waiting until
// there is something to send. A second concurrent GET is a protocol error
// that closes the session; so is a GET cancelled by the client.
func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request, handshake bool) {
	c.mu.Lock()
	if c.poll != nil {
		c.mu.Unlock()
		c.finish(ReasonTransportError, ErrRequestOverlap)
		writeStatus(w, http.StatusBadRequest)
		return
	}
	pkts, last, ok := c.takePollLocked(nil)
	if !ok {
		waiter := &pollWaiter{ready: make(chan struct{}, 1), afterProbe: c.probed}
		c.poll = waiter
		if waiter.afterProbe {
			t := time.AfterFunc(probeWait, func() {
				c.mu.Lock()
				waiter.noop = true
				waiter.wake()
				c.mu.Unlock()
			})
			defer t.Stop()
		}
		c.mu.Unlock()
		if hook := c.srv.pollWaitHook; hook != nil {
			hook(c)
		}
		for !ok {
			select {
			case <-waiter.ready:
			case <-r.Context().Done():
				c.mu.Lock()
				if c.poll == waiter {
					c.poll = nil
				}
				c.mu.Unlock()
				c.finish(ReasonTransportError, ErrPollClosed)
				return
			}
			c.mu.Lock()
			pkts, last, ok = c.takePollLocked(waiter)
			if !ok {
				c.mu.Unlock()
			}
		}
		if c.poll == waiter {
			c.poll = nil
		}
	}
	c.mu.Unlock()
	if pkts == nil {
		c.srv.refuse(w, r, CodeBadRequest, map[string]any{"name": "TRANSPORT_MISMATCH", "transport": TransportPolling, "previousTransport": TransportWebSocket}, false)
		return
	}
	c.srv.writePayload(w, r, pkts, handshake, c.id)
	if last {
		c.finish(ReasonForcedClose, nil)
	}
}

// takePollLocked decides the answer of the polling GET w (nil for the
// handshake): ok is false when there is nothing to send yet; nil pkts refuse
// the GET; last reports that the answer is the close packet of an orderly
// close, after which the session ends. As in the
// reference server, the close packet goes alone in the response after the
// last queued packets: socket.io-client handles the Socket.IO packets of a
// payload one tick after the engine packets, so a close packet batched with
// them would close the client before it sees them.
func (c *Conn) takePollLocked(w *pollWaiter) (pkts []packet, last, ok bool) {
	switch {
	case c.state == stateClosed:
		if c.linger != nil {
			select {
			case c.linger <- struct{}{}:
			default:
			}
		}
		return []packet{{typ: c.closePacket}}, false, true
	case c.transport != TransportPolling:
		if w != nil && w.afterProbe {
			// Sent after the upgrade packet: refused like any later GET.
			return nil, false, true
		}
		// Upgraded: the GET that was pending ends with a noop.
		return []packet{{typ: packetNoop}}, false, true
	case c.state == stateClosing && len(c.queue) == 0:
		return []packet{{typ: packetClose}}, true, true
	case len(c.queue) > 0:
		pkts = c.queue
		c.queue, c.queueBytes = nil, 0
		return pkts, false, true
	case w != nil && w.noop:
		// An upgrade is being completed: end the poll cycle.
		return []packet{{typ: packetNoop}}, false, true
	}
	return nil, false, false
}

// writePayload writes a polling GET response.
func (s *Server) writePayload(w http.ResponseWriter, r *http.Request, pkts []packet, handshake bool, sid string) {
	buf := getBuffer(payloadLen(pkts))
	*buf = appendPayload((*buf)[:0], pkts)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(*buf)))
	s.pollingHeaders(h, r, handshake, sid)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(*buf)
	putBuffer(buf)
}

// pollingHeaders adds the headers of every successful polling response and
// runs the header hooks.
func (s *Server) pollingHeaders(h http.Header, r *http.Request, handshake bool, sid string) {
	if ua := r.UserAgent(); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h.Set("X-XSS-Protection", "0")
	}
	h.Set("Cache-Control", "no-store")
	if handshake {
		s.handshakeHeaders(h, r, sid)
	}
	if s.cfg.Headers != nil {
		s.cfg.Headers(h, r)
	}
}

// serveData handles a polling POST: it decodes the payload and delivers its
// packets in order before answering "ok". A concurrent POST, a binary body,
// a body over MaxHTTPBufferSize or a malformed payload close the session.
func (c *Conn) serveData(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.posting {
		c.mu.Unlock()
		c.finish(ReasonTransportError, ErrRequestOverlap)
		writeStatus(w, http.StatusBadRequest)
		return
	}
	c.posting = true
	c.mu.Unlock()

	status := c.receive(r)

	c.mu.Lock()
	linger := c.linger
	c.mu.Unlock()
	if linger != nil {
		c.awaitLingeringPoll(linger)
	}
	c.mu.Lock()
	c.posting = false
	c.mu.Unlock()

	h := w.Header()
	switch status {
	case http.StatusOK:
		// text/html rather than text/plain avoids a download dialog on some
		// user agents (as the reference server notes).
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", "2")
		c.srv.pollingHeaders(h, r, false, c.id)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok")
	case http.StatusBadRequest:
		body := errorBody(CodeBadRequest, ErrorMessage(CodeBadRequest))
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	default:
		writeStatus(w, status)
	}
}

// receive reads, decodes and delivers the body of a POST and returns the
// status to answer.
func (c *Conn) receive(r *http.Request) int {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/octet-stream" {
		c.finish(ReasonTransportError, fmt.Errorf("binary POST body: %w", ErrBadPacket))
		return http.StatusBadRequest
	}
	limit := c.srv.cfg.MaxHTTPBufferSize
	tooLarge := func() int {
		// The client learns of the refusal from the 413 ("transport error");
		// a close packet racing it on the pending GET would say otherwise.
		c.mu.Lock()
		c.closePacket = packetNoop
		c.mu.Unlock()
		c.finish(ReasonTransportError, ErrPayloadTooLarge)
		return http.StatusRequestEntityTooLarge
	}
	if r.ContentLength > limit {
		return tooLarge()
	}
	buf := getBuffer(int(max(r.ContentLength, 0)) + 1)
	defer putBuffer(buf)
	body, err := readBody(*buf, r.Body, limit)
	*buf = body[:0]
	if err != nil {
		c.finish(ReasonTransportError, fmt.Errorf("read POST body: %w", err))
		return http.StatusBadRequest
	}
	if int64(len(body)) > limit {
		return tooLarge()
	}
	pkts, perr := decodePayload(body)
	for i := range pkts {
		// Text packets alias the pooled body; give the handler its own copy.
		if !pkts[i].binary {
			pkts[i].data = bytes.Clone(pkts[i].data)
		}
	}

	c.inMu.Lock()
	for _, p := range pkts {
		if !c.dispatch(p) {
			break
		}
	}
	c.inMu.Unlock()

	if perr != nil {
		c.finish(ReasonParseError, perr)
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// lingerTimeout bounds how long a POST that ended its session waits for the
// client's GET in flight; see awaitLingeringPoll.
const lingerTimeout = 100 * time.Millisecond

// awaitLingeringPoll runs when a POST ended its session while no GET was
// pending. A polling client always has a GET in flight, sent before this
// POST; arriving a moment late, it would find no session (400, "transport
// error" for the client) where, processed in order, it would have received
// the close packet. So the closed session stays reachable until that GET
// takes its close packet, or lingerTimeout passes, and only then is the POST
// answered; a GET sent after the answer finds no session.
func (c *Conn) awaitLingeringPoll(linger chan struct{}) {
	t := time.NewTimer(lingerTimeout)
	select {
	case <-linger:
	case <-t.C:
	}
	t.Stop()
	c.srv.forget(c)
}

// readBody reads r into buf, at most limit+1 bytes, so that the caller can
// tell an over-long body.
func readBody(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Buffers for polling bodies; big ones are left to the garbage collector
// rather than pinned in the pool.
const maxPooledBuffer = 64 << 10

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuffer(size int) *[]byte {
	if size > maxPooledBuffer {
		b := make([]byte, 0, size)
		return &b
	}
	b := bufferPool.Get().(*[]byte)
	if cap(*b) < size {
		*b = make([]byte, 0, size)
	}
	return b
}

func putBuffer(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufferPool.Put(b)
}
