package host

import "time"

// The heartbeat runs on two time.AfterFunc timers per session, never a
// goroutine: the ping timer queues a ping every PingInterval (counted from
// the last pong), the pong timer closes the session with "ping timeout" when
// no pong arrives within PingTimeout. Deadlines are kept next to the timers so
// that a callback already running when its timer was reset does nothing.

// startHeartbeatLocked schedules the first ping.
func (c *Conn) startHeartbeatLocked() {
	d := c.srv.cfg.PingInterval
	c.nextPing = time.Now().Add(d)
	c.pingTimer = time.AfterFunc(d, c.onPingTimer)
}

// stopHeartbeatLocked stops both timers.
func (c *Conn) stopHeartbeatLocked() {
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.pongTimer != nil {
		c.pongTimer.Stop()
	}
	c.pongDue = false
}

func (c *Conn) onPingTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen || c.pongDue || time.Now().Before(c.nextPing) {
		return
	}
	d := c.srv.cfg.PingTimeout
	c.pongDue = true
	c.pongDeadline = time.Now().Add(d)
	if c.pongTimer == nil {
		c.pongTimer = time.AfterFunc(d, c.onPongTimeout)
	} else {
		c.pongTimer.Reset(d)
	}
	c.enqueueLocked(packet{typ: packetPing})
}

func (c *Conn) onPongTimeout() {
	c.mu.Lock()
	expired := c.state == stateOpen && c.pongDue && !time.Now().Before(c.pongDeadline)
	c.mu.Unlock()
	if expired {
		c.finish(ReasonPingTimeout, nil)
	}
}

// onPongLocked handles a pong: the peer is alive, the next ping is due one
// PingInterval from now.
func (c *Conn) onPongLocked() {
	c.pongDue = false
	if c.pongTimer != nil {
		c.pongTimer.Stop()
	}
	if c.pingTimer == nil {
		return
	}
	d := c.srv.cfg.PingInterval
	c.nextPing = time.Now().Add(d)
	c.pingTimer.Reset(d)
}
