package host

import (
	"bufio"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// idleReader sits under the WebSocket library's bufio.Reader so that an
// idle session can wait for its next message in a fresh goroutine at a
// shallow stack depth. A goroutine that has handled messages has grown its
// stack to 4 KiB or more, and waiting inside the library (Reader → frame
// header → bufio → net.Conn.Read → poller) uses too much of it for the
// garbage collector ever to shrink it; a fresh goroutine waiting in wait
// keeps the 2 KiB minimum.
//
// wait reads whatever arrives into a pooled buffer that Read hands to bufio
// first, so waiting costs no extra system call. It is only used over plain
// TCP; TLS keeps decrypted data in its own buffer, which wait cannot see.
//
// It is the net.Conn the library gets from Hijack (the library re-wraps the
// reader it is handed around that connection), so every read the library
// makes goes through Read.
type idleReader struct {
	net.Conn
	raw syscall.RawConn
	br  *bufio.Reader // the reader on top, whose buffer wait must see empty

	// last is when the previous message was read (unix nanoseconds), and
	// reads counts them; quiet uses both. Only the read loop touches them.
	last  int64
	reads int

	mu      sync.Mutex
	pending *[]byte // bytes read by wait, not yet handed to bufio
	off     int
	err     error // the read error wait met, for Read to return
	// closing is set before the library's close handshake starts reading
	// from br in another goroutine; wait no longer looks at br then.
	closing bool
}

var idleBufferPool = sync.Pool{New: func() any { b := make([]byte, wsReadBufferSize); return &b }}

// Read hands out the bytes wait read, then reads from the connection.
func (r *idleReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	if r.pending != nil {
		n := copy(p, (*r.pending)[r.off:])
		r.off += n
		if r.off == len(*r.pending) {
			*r.pending = (*r.pending)[:cap(*r.pending)]
			idleBufferPool.Put(r.pending)
			r.pending, r.off = nil, 0
		}
		r.mu.Unlock()
		return n, nil
	}
	if err := r.err; err != nil {
		r.mu.Unlock()
		return 0, err
	}
	r.mu.Unlock()
	return r.Conn.Read(p)
}

// idleGap is the silence after which a session counts as idle.
const idleGap = time.Second

// quiet is called after each message: it reports whether the session looks
// idle, so that the read loop should wait for the next message in a fresh
// goroutine. That is after the first message (a client's namespace connect,
// after which many clients stay silent) and after a message that followed
// idleGap of silence (a heartbeat answer); a busy session keeps reading in
// the same goroutine.
func (r *idleReader) quiet() bool {
	now := time.Now().UnixNano()
	gap := now - r.last
	r.last = now
	r.reads++
	if r.reads > 1 && gap < int64(idleGap) {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.closing && r.pending == nil && r.err == nil && r.br.Buffered() == 0
}

// markClosing tells wait to stay away from br: the library is about to
// read from it in its close handshake.
func (r *idleReader) markClosing() {
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
}

// wait blocks until the connection has data (or fails), unless something is
// already buffered. It returns at once when there is nothing to wait for;
// errors are left for Read to return through the library.
func (r *idleReader) wait() {
	r.mu.Lock()
	skip := r.closing || r.pending != nil || r.err != nil || r.br.Buffered() > 0
	r.mu.Unlock()
	if skip {
		return
	}
	// The buffer is taken only once there is something to read: an idle
	// session holds none.
	var buf *[]byte
	var n int
	var rerr error
	err := r.raw.Read(func(fd uintptr) bool {
		buf = idleBufferPool.Get().(*[]byte)
		n, rerr = readFD(fd, *buf)
		if rerr == syscall.EAGAIN {
			idleBufferPool.Put(buf)
			buf = nil
			return false
		}
		return true
	})
	if rerr != nil {
		n = 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil: // the connection was closed while waiting
		r.err = err
	case rerr != nil:
		r.err = &net.OpError{Op: "read", Net: "tcp", Addr: r.RemoteAddr(), Err: rerr}
	case n == 0:
		r.err = io.EOF
	}
	if n > 0 {
		*buf = (*buf)[:n]
		r.pending, r.off = buf, 0
		return
	}
	if buf != nil {
		idleBufferPool.Put(buf)
	}
}
