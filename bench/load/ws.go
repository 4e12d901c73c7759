package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// wsConn is a minimal client side of RFC 6455 over a plain TCP connection:
// text frames out (masked), any data frame in, ping answered, close ends the
// read loop. The receive path reads frames from a bufio.Reader into a buffer
// the caller reuses, so reading a message takes no lock and no allocation:
// the broadcast scenario has one goroutine per receiver taking up to a
// million messages per second in total. (A general-purpose library costs
// several channel operations per message, which made the load tool, not the
// server, the limit.)
type wsConn struct {
	conn net.Conn
	br   *bufio.Reader

	wmu  sync.Mutex
	wbuf []byte

	closeOnce sync.Once
}

const (
	opCont  = 0x0
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA

	wsReadLimit = 1 << 20
)

var errWSClosed = errors.New("websocket closed")

// wsDial connects to ws://addr+path and completes the opening handshake.
// The context bounds the TCP dial and the handshake.
func wsDial(ctx context.Context, addr, path string) (*wsConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 32<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("websocket upgrade refused: %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return &wsConn{conn: conn, br: br, wbuf: make([]byte, 0, 256)}, nil
}

// readMessage reads the next data message (fragments joined) into buf[:0],
// grown if needed, and returns it. Pings are answered; a close frame or a
// read error ends with an error.
func (w *wsConn) readMessage(buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		h, err := w.br.Peek(2)
		if err != nil {
			return buf, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		masked, n := h[1]&0x80 != 0, uint64(h[1]&0x7f)
		_, _ = w.br.Discard(2)
		switch n {
		case 126:
			b, err := w.br.Peek(2)
			if err != nil {
				return buf, err
			}
			n = uint64(binary.BigEndian.Uint16(b))
			_, _ = w.br.Discard(2)
		case 127:
			b, err := w.br.Peek(8)
			if err != nil {
				return buf, err
			}
			n = binary.BigEndian.Uint64(b)
			_, _ = w.br.Discard(8)
		}
		if masked {
			return buf, errors.New("websocket: masked frame from the server")
		}
		if n > wsReadLimit || uint64(len(buf))+n > wsReadLimit {
			return buf, fmt.Errorf("websocket: message over %d bytes", wsReadLimit)
		}
		if op >= opClose { // control frame: payload at most 125 bytes
			var ctl [125]byte
			p := ctl[:n]
			if _, err := io.ReadFull(w.br, p); err != nil {
				return buf, err
			}
			switch op {
			case opPing:
				_ = w.writeFrame(opPong, p)
			case opClose:
				_ = w.writeFrame(opClose, p[:min(len(p), 2)])
				return buf, errWSClosed
			}
			continue
		}
		start := len(buf)
		if need := start + int(n); need > cap(buf) {
			nb := make([]byte, start, max(need, 2*cap(buf)))
			copy(nb, buf)
			buf = nb
		}
		buf = buf[:start+int(n)]
		if _, err := io.ReadFull(w.br, buf[start:]); err != nil {
			return buf, err
		}
		if fin && (op == opText || op == opCont || op == 0x2) {
			return buf, nil
		}
	}
}

// writeText sends one text frame. A deadline on ctx bounds the write.
func (w *wsConn) writeText(ctx context.Context, p []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		w.wmu.Lock()
		_ = w.conn.SetWriteDeadline(dl)
		w.wmu.Unlock()
		defer func() {
			w.wmu.Lock()
			_ = w.conn.SetWriteDeadline(time.Time{})
			w.wmu.Unlock()
		}()
	}
	return w.writeFrame(opText, p)
}

// writeFrame sends one final frame, masked as a client must.
func (w *wsConn) writeFrame(op byte, p []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	b := append(w.wbuf[:0], 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], mrand.Uint32()) // need not be secret here
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, p...)
	for i := range p {
		b[start+i] ^= key[i&3]
	}
	w.wbuf = b
	_, err := w.conn.Write(b)
	return err
}

// closeNow closes the TCP connection (idempotent).
func (w *wsConn) closeNow() {
	w.closeOnce.Do(func() { _ = w.conn.Close() })
}
