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

	"github.com/coder/websocket"
)

// client is one Socket.IO v5 connection over an Engine.IO v4 WebSocket,
// spoken by hand: open packet, "40" connect, "42" events, "43" acks and
// "2"→"3" heartbeats. Only namespace "/" and text frames are used.
type client struct {
	ws     *websocket.Conn
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]time.Time // ack id -> send time

	// onEvent is called from the reader goroutine with the JSON array of an
	// incoming event packet (after "42").
	onEvent func(data []byte)
	// acks receives the id of each answered ack (dropped when full).
	acks chan int64
	// rtts are the ack round trips seen by the reader goroutine (microseconds);
	// read them only after the reader stopped (see done).
	rtts []int32
	done chan struct{}
}

var errHandshake = errors.New("handshake failed")

// dial opens the WebSocket, reads the open packet and connects to "/".
func dial(ctx context.Context, addr string) (*client, error) {
	u := "ws://" + addr + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	_, b, err := ws.Read(ctx)
	if err != nil || len(b) == 0 || b[0] != '0' {
		ws.CloseNow()
		return nil, fmt.Errorf("%w: open packet %q: %v", errHandshake, b, err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		ws.CloseNow()
		return nil, err
	}
	for {
		_, b, err = ws.Read(ctx)
		if err != nil {
			ws.CloseNow()
			return nil, err
		}
		if bytes.Equal(b, []byte("2")) {
			_ = ws.Write(ctx, websocket.MessageText, []byte("3"))
			continue
		}
		if bytes.HasPrefix(b, []byte("40")) {
			break
		}
		ws.CloseNow()
		return nil, fmt.Errorf("%w: connect reply %q", errHandshake, b)
	}
	return &client{ws: ws, pending: map[int64]time.Time{}, acks: make(chan int64, 1024), done: make(chan struct{})}, nil
}

// start runs the reader goroutine until the connection closes.
func (c *client) start() {
	go func() {
		defer close(c.done)
		ctx := context.Background()
		for {
			_, b, err := c.ws.Read(ctx)
			if err != nil {
				return
			}
			switch {
			case len(b) == 1 && b[0] == '2':
				_ = c.ws.Write(ctx, websocket.MessageText, []byte("3"))
			case len(b) > 2 && b[0] == '4' && b[1] == '2':
				if c.onEvent != nil {
					c.onEvent(b[2:])
				}
			case len(b) > 2 && b[0] == '4' && b[1] == '3':
				i := 2
				for i < len(b) && b[i] >= '0' && b[i] <= '9' {
					i++
				}
				id, err := strconv.ParseInt(string(b[2:i]), 10, 64)
				if err != nil {
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

// emit sends `42<id>[name, args...]` (args already JSON) with an ack id and
// returns the id.
func (c *client) emit(ctx context.Context, name string, args ...string) (int64, error) {
	id := c.nextID.Add(1)
	buf := make([]byte, 0, 64)
	buf = append(buf, '4', '2')
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
	return id, c.ws.Write(ctx, websocket.MessageText, buf)
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

// close disconnects from the namespace and closes the WebSocket.
func (c *client) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, []byte("41"))
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
}
