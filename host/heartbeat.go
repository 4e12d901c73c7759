package host

import "time"

// The heartbeat runs on one time.AfterFunc timer per session, never a
// goroutine. While no pong is due the timer waits PingInterval (counted from
// the last pong) and then queues a ping; while a pong is due it waits
// PingTimeout and then closes the session with "ping timeout". Deadlines are
// kept next to the timer so that a callback already running when the timer
// was reset does nothing.

// startHeartbeatLocked schedules the first ping.
func (c *Conn) startHeartbeatLocked() {
	d := c.srv.cfg.PingInterval
	c.nextPing = time.Now().Add(d)
	c.heartbeat = time.AfterFunc(d, c.onHeartbeat)
}

// stopHeartbeatLocked stops the timer.
func (c *Conn) stopHeartbeatLocked() {
	if c.heartbeat != nil {
		c.heartbeat.Stop()
	}
	c.pongDue = false
}

// onHeartbeat sends the ping that is due, or ends the session whose pong
// is overdue.
func (c *Conn) onHeartbeat() {
	c.mu.Lock()
	now := time.Now()
	switch {
	case c.state != stateOpen:
	case c.pongDue:
		if !now.Before(c.pongDeadline) {
			c.mu.Unlock()
			c.finish(ReasonPingTimeout, nil)
			return
		}
	case !now.Before(c.nextPing):
		d := c.srv.cfg.PingTimeout
		c.pongDue = true
		c.pongDeadline = now.Add(d)
		c.heartbeat.Reset(d)
		c.enqueueLocked(packet{typ: packetPing})
	}
	c.mu.Unlock()
}

// onPongLocked handles a pong: the peer is alive, the next ping is due one
// PingInterval from now.
func (c *Conn) onPongLocked() {
	c.pongDue = false
	if c.heartbeat == nil {
		return
	}
	d := c.srv.cfg.PingInterval
	c.nextPing = time.Now().Add(d)
	c.heartbeat.Reset(d)
}
