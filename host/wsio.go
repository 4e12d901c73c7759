package host

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Buffer sizes of an accepted WebSocket. net/http hands two 4 KiB bufio
// buffers to a hijacked connection; an idle WebSocket needs neither, so
// smaller ones are used whenever nothing is buffered yet. Batching of
// outgoing frames happens in corkWriter, whose buffer exists only while the
// flusher runs.
const (
	wsReadBufferSize  = 512
	wsWriteBufferSize = 256
	corkLimit         = 64 << 10
)

// hijackWriter gives websocket.Accept a Hijack that returns small buffers
// and routes every write through a corkWriter.
type hijackWriter struct {
	http.ResponseWriter
	cork *corkWriter
	idle *idleReader // nil unless the connection is plain TCP with nothing buffered
}

// Hijack takes over the connection from net/http.
func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := brw.Reader
	if br.Buffered() == 0 {
		if h.idle = newIdleReader(conn); h.idle != nil {
			br = bufio.NewReaderSize(h.idle, wsReadBufferSize)
			h.idle.br = br
		} else {
			br = bufio.NewReaderSize(conn, wsReadBufferSize)
		}
	}
	h.cork = &corkWriter{conn: conn}
	rw := bufio.NewReadWriter(br, bufio.NewWriterSize(h.cork, wsWriteBufferSize))
	if h.idle != nil {
		return h.idle, rw, nil
	}
	return conn, rw, nil
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	wsOpText   byte = 0x1
	wsOpBinary byte = 0x2
	wsOpClose  byte = 0x8
)

// corkWriter sits under the WebSocket library's bufio.Writer. Uncorked it
// writes through; corked (while the flusher writes a batch of frames) it
// collects the frames and sends them with as few syscalls as possible.
//
// Without permessage-deflate the data frames do not go through the library
// at all: writeFrames encodes them straight into the cork buffer, and the
// library writes only its control frames (pong, close). Each of those fits
// its bufio.Writer (wsWriteBufferSize) and reaches Write whole, in one call,
// so frames never interleave under mu, and a close frame is recognised by
// its first byte: no data frame may follow it.
type corkWriter struct {
	mu     sync.Mutex
	conn   net.Conn
	buf    *[]byte // non-nil while corked
	frames bool    // data frames are written by writeFrames, not the library
	closed bool    // frames is set and the library wrote a close frame
}

var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.frames && len(p) > 0 && p[0]&0x0f == wsOpClose {
		w.closed = true
	}
	if w.buf == nil {
		return w.conn.Write(p)
	}
	if len(*w.buf)+len(p) > corkLimit {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= corkLimit {
			return w.conn.Write(p)
		}
	}
	*w.buf = append(*w.buf, p...)
	return len(p), nil
}

// cork starts collecting writes.
func (w *corkWriter) cork() {
	w.mu.Lock()
	if w.buf == nil {
		w.buf = corkPool.Get().(*[]byte)
	}
	w.mu.Unlock()
}

// uncork writes what was collected and returns to writing through.
func (w *corkWriter) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf == nil {
		return nil
	}
	err := w.flushLocked()
	w.releaseLocked()
	return err
}

// releaseLocked returns the cork buffer to the pool.
func (w *corkWriter) releaseLocked() {
	if cap(*w.buf) <= corkLimit*2 {
		*w.buf = (*w.buf)[:0]
		corkPool.Put(w.buf)
	}
	w.buf = nil
}

// writeFrames writes pkts as unmasked WebSocket data frames, one each, with
// as few syscalls as possible: a text frame holds the packet type and its
// data, a binary frame the data alone. It fails with net.ErrClosed once the
// library has written a close frame.
func (w *corkWriter) writeFrames(pkts []packet) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("websocket close frame already sent: %w", net.ErrClosed)
	}
	own := w.buf == nil
	if own {
		w.buf = corkPool.Get().(*[]byte)
	}
	var err error
	for _, p := range pkts {
		if err = w.appendFrameLocked(p); err != nil {
			break
		}
	}
	if own {
		if err == nil {
			err = w.flushLocked()
		}
		w.releaseLocked()
	}
	return err
}

// appendFrameLocked adds the frame of p to the cork buffer. A frame that
// would overflow corkLimit is sent at once with what was collected, its
// payload written from where it is (one writev on a TCP connection).
func (w *corkWriter) appendFrameLocked(p packet) error {
	b := *w.buf
	if p.binary {
		b = appendFrameHeader(b, wsOpBinary, len(p.data))
	} else {
		b = appendFrameHeader(b, wsOpText, 1+len(p.data))
		b = append(b, p.typ)
	}
	if len(b)+len(p.data) <= corkLimit {
		*w.buf = append(b, p.data...)
		return nil
	}
	bufs := net.Buffers{b, p.data}
	_, err := bufs.WriteTo(w.conn)
	*w.buf = b[:0]
	if err != nil {
		return fmt.Errorf("write websocket frame: %w", err)
	}
	return nil
}

// appendFrameHeader appends the header of a final, unmasked frame with
// opcode and a payload of n bytes.
func appendFrameHeader(b []byte, opcode byte, n int) []byte {
	b = append(b, 0x80|opcode)
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

func (w *corkWriter) flushLocked() error {
	if len(*w.buf) == 0 {
		return nil
	}
	_, err := w.conn.Write(*w.buf)
	*w.buf = (*w.buf)[:0]
	return err
}
