package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// client is one Socket.IO v5 connection over an Engine.IO v4 WebSocket,
// spoken by hand: open packet, "40" connect, "42" events, "43" acks and
// "2"→"3" heartbeats. Text frames only, in one namespace.
type client struct {
	ws     *wsConn
	prefix []byte // "/nsp," for a namespace other than "/", after "42"/"43"
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]time.Time // ack id -> send time

	// onEvent is called from the reader goroutine with the JSON array of an
	// incoming event packet (after "42"). data is only valid during the call:
	// the reader reuses its buffer for the next message.
	onEvent func(data []byte)
	// acks receives the id of each answered ack (dropped when full).
	acks chan int64
	// rtts are the ack round trips seen by the reader goroutine (microseconds);
	// read them only after the reader stopped (see done).
	rtts    []int32
	started bool
	done    chan struct{}
}

var errHandshake = errors.New("handshake failed")

// target is the server and the namespace the clients connect to.
type target struct {
	addr string
	nsp  string // "/" or "/name"
}

// prefix is what packets of t's namespace carry after their type.
func (t target) prefix() []byte {
	if t.nsp == "" || t.nsp == "/" {
		return nil
	}
	return []byte(t.nsp + ",")
}

// dial opens the WebSocket, reads the open packet and connects to the
// namespace. The context bounds the whole handshake.
func dial(ctx context.Context, t target) (*client, error) {
	ws, err := wsDial(ctx, t.addr, "/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.conn.SetReadDeadline(dl)
	}
	b, err := ws.readMessage(nil)
	if err != nil || len(b) == 0 || b[0] != '0' {
		ws.closeNow()
		return nil, fmt.Errorf("%w: open packet %q: %v", errHandshake, b, err)
	}
	if err := ws.writeText(ctx, append([]byte("40"), t.prefix()...)); err != nil {
		ws.closeNow()
		return nil, err
	}
	for {
		b, err = ws.readMessage(b)
		if err != nil {
			ws.closeNow()
			return nil, err
		}
		if bytes.Equal(b, []byte("2")) {
			_ = ws.writeText(ctx, []byte("3"))
			continue
		}
		if bytes.HasPrefix(b, []byte("40")) {
			break
		}
		ws.closeNow()
		return nil, fmt.Errorf("%w: connect reply %q", errHandshake, b)
	}
	_ = ws.conn.SetReadDeadline(time.Time{})
	return &client{ws: ws, prefix: t.prefix(), pending: map[int64]time.Time{}, acks: make(chan int64, 1024), done: make(chan struct{})}, nil
}

// start runs the reader goroutine until the connection closes. The receive
// path does not allocate per message (one buffer per connection, reused, and
// a frame reader without locks, see wsConn), so the load tool can take about
// a million broadcast deliveries per second.
func (c *client) start() {
	c.started = true
	go func() {
		defer close(c.done)
		defer c.ws.closeNow()
		ctx := context.Background()
		buf := make([]byte, 0, 4096)
		for {
			b, err := c.ws.readMessage(buf)
			if err != nil {
				return
			}
			buf = b[:0]
			switch {
			case len(b) == 1 && b[0] == '2':
				_ = c.ws.writeText(ctx, []byte("3"))
			case len(b) > 2 && b[0] == '4' && b[1] == '2':
				if c.onEvent != nil {
					c.onEvent(bytes.TrimPrefix(b[2:], c.prefix))
				}
			case len(b) > 2 && b[0] == '4' && b[1] == '3':
				id, _, ok := parseUint(bytes.TrimPrefix(b[2:], c.prefix))
				if !ok {
					continue
				}
				now := time.Now()
				c.mu.Lock()
				t, ok := c.pending[id]
				delete(c.pending, id)
				c.mu.Unlock()
				if ok {
					c.rtts = append(c.rtts, int32(now.Sub(t)/time.Microsecond))
				}
				select {
				case c.acks <- id:
				default:
				}
			}
		}
	}()
}

// parseUint reads the decimal digits at the start of b: the value, the
// number of digits, and false if there is none (or more than 18).
func parseUint(b []byte) (v int64, n int, ok bool) {
	for n < len(b) && n < 19 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n, n > 0 && n < 19
}

// emit sends `42<id>[name, args...]` (args already JSON) with an ack id and
// returns the id.
func (c *client) emit(ctx context.Context, name string, args ...string) (int64, error) {
	id := c.nextID.Add(1)
	buf := make([]byte, 0, 64)
	buf = append(buf, '4', '2')
	buf = append(buf, c.prefix...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, '[', '"')
	buf = append(buf, name...)
	buf = append(buf, '"')
	for _, a := range args {
		buf = append(buf, ',')
		buf = append(buf, a...)
	}
	buf = append(buf, ']')
	c.mu.Lock()
	c.pending[id] = time.Now()
	c.mu.Unlock()
	return id, c.ws.writeText(ctx, buf)
}

// call emits and waits for the ack.
func (c *client) call(ctx context.Context, name string, args ...string) error {
	id, err := c.emit(ctx, name, args...)
	if err != nil {
		return err
	}
	for {
		select {
		case got := <-c.acks:
			if got == id {
				return nil
			}
		case <-c.done:
			return errors.New("connection closed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close disconnects from the namespace, sends a WebSocket close frame and
// waits (2 s at most) for the server's, which ends the reader goroutine;
// then closes the TCP connection.
func (c *client) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.ws.writeText(ctx, []byte("41"))
	_ = c.ws.writeFrame(opClose, []byte{0x03, 0xe8}) // 1000, normal closure
	if c.started {
		select {
		case <-c.done:
		case <-ctx.Done():
		}
	}
	c.ws.closeNow()
}
