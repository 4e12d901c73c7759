package host

import (
	"bufio"
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
}

// Hijack takes over the connection from net/http.
func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := brw.Reader
	if br.Buffered() == 0 {
		br = bufio.NewReaderSize(conn, wsReadBufferSize)
	}
	h.cork = &corkWriter{conn: conn}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(h.cork, wsWriteBufferSize)), nil
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// corkWriter sits under the WebSocket library's bufio.Writer. Uncorked it
// writes through; corked (while the flusher writes a batch of frames) it
// collects the frames and sends them with as few syscalls as possible.
type corkWriter struct {
	mu   sync.Mutex
	conn net.Conn
	buf  *[]byte // non-nil while corked
}

var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
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
	if cap(*w.buf) <= corkLimit*2 {
		corkPool.Put(w.buf)
	}
	w.buf = nil
	return err
}

func (w *corkWriter) flushLocked() error {
	if len(*w.buf) == 0 {
		return nil
	}
	_, err := w.conn.Write(*w.buf)
	*w.buf = (*w.buf)[:0]
	return err
}
