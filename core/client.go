package core

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/edged-io/edged/core/parser"
	"github.com/edged-io/edged/host"
)

// client is one Engine.IO connection and the sockets it opened, one per namespace.
type client struct {
	srv     *Server
	conn    *host.Conn
	decoder parser.Decoder // used only from OnMessage, which host serialises

	mu           sync.Mutex
	sockets      []*Socket   // one per namespace; clients join few
	connectTimer *time.Timer // nil once a namespace is joined
	closed       bool
	queue        serialQueue // namespace connections, in order
}

func newClient(srv *Server, conn *host.Conn) *client {
	c := &client{srv: srv, conn: conn}
	c.queue.onPanic = srv.handlerPanic
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, c.onConnectTimeout)
	return c
}

func (c *client) onConnectTimeout() {
	c.mu.Lock()
	idle := len(c.sockets) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.srv.log.Debug("no namespace joined in time, closing", "sid", c.conn.ID())
		c.conn.Close()
	}
}

// OnMessage decodes one engine message and routes the packet.
func (c *client) OnMessage(data []byte, binary bool) {
	p, err := c.decoder.Add(data, binary)
	if err != nil {
		c.closeWithParseError(err)
		return
	}
	if p == nil {
		return
	}
	c.mu.Lock()
	s := c.socketLocked(p.Namespace)
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	switch {
	case s == nil && p.Type == parser.Connect:
		auth, err := decodeAuth(p.Data)
		if err != nil {
			c.closeWithParseError(err)
			return
		}
		name := p.Namespace
		c.queue.pushAlways(func() { c.srv.connect(c, name, auth) })
	case s != nil && p.Type != parser.Connect && p.Type != parser.ConnectError:
		s.onPacket(p)
	default:
		// a packet for a namespace the client has not joined, or a second CONNECT:
		// a protocol violation, as the reference server treats it.
		c.srv.log.Debug("unexpected packet, closing", "sid", c.conn.ID(), "type", p.Type, "nsp", p.Namespace)
		c.forceClose()
	}
}

// decodeAuth reads the auth payload of a CONNECT packet (an object or
// nothing). Without one it returns nil: the socket's handshake shows an
// empty object then.
func decodeAuth(data json.RawMessage) (map[string]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var auth map[string]any
	if err := json.Unmarshal(data, &auth); err != nil {
		return nil, err
	}
	if auth == nil {
		auth = map[string]any{}
	}
	return auth, nil
}

// OnClose disconnects every socket of the connection with the engine's reason.
func (c *client) OnClose(reason string, _ error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.stopConnectTimerLocked()
	c.mu.Unlock()
	for _, s := range c.socketList() {
		s.onClose(reason)
	}
	c.srv.removeClient(c)
}

func (c *client) closeWithParseError(err error) {
	c.srv.log.Debug("parse error, closing", "sid", c.conn.ID(), "err", err)
	for _, s := range c.socketList() {
		s.emitError(err)
	}
	c.conn.CloseNow(ReasonParseError)
}

// forceClose closes the connection on the server's initiative; its sockets
// disconnect with "forced server close".
func (c *client) forceClose() {
	c.conn.Close()
	c.OnClose(ReasonForcedServerClose, nil)
}

// add registers a connected socket and stops the connect timeout.
func (c *client) add(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.stopConnectTimerLocked()
	for i, x := range c.sockets {
		if x.nsp.name == s.nsp.name {
			c.sockets[i] = s
			return true
		}
	}
	c.sockets = append(c.sockets, s)
	return true
}

func (c *client) stopConnectTimerLocked() {
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil // an idle connection keeps no timer
	}
}

// socketLocked returns the socket of namespace nsp, or nil.
func (c *client) socketLocked(nsp string) *Socket {
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if i := slices.Index(c.sockets, s); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	c.mu.Unlock()
}

// disconnectAll disconnects every socket of the connection, then closes it.
func (c *client) disconnectAll() {
	for _, s := range c.socketList() {
		s.Disconnect(false)
	}
	c.forceClose()
}

// socketList returns the connected sockets of the connection.
func (c *client) socketList() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sockets)
}

// isOpen reports whether the connection still accepts packets.
func (c *client) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed
}

// write queues encoded messages; a volatile packet is dropped when the
// transport cannot write now.
func (c *client) write(msgs []host.Message, volatile bool) {
	if volatile && !c.conn.Writable() {
		if obs := c.srv.opts.Observer; obs != nil {
			obs.VolatileDropped()
		}
		return
	}
	if err := c.conn.Send(msgs...); err != nil {
		c.srv.log.Debug("write dropped", "sid", c.conn.ID(), "err", err)
	}
}
