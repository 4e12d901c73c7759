package host

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"testing"
)

// countingConn records the writes made to it.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
	data   bytes.Buffer
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.data.Write(p)
}

func TestCorkWriter(t *testing.T) {
	conn := &countingConn{}
	w := &corkWriter{conn: conn}
	bw := bufio.NewWriterSize(w, wsWriteBufferSize)

	// Uncorked, every flush is a write.
	for _, s := range []string{"a", "b"} {
		bw.WriteString(s)
		bw.Flush()
	}
	if conn.writes != 2 {
		t.Fatalf("uncorked: %d writes, want 2", conn.writes)
	}

	// Corked, many small frames (and a big one) leave in few writes.
	w.cork()
	for range 100 {
		bw.WriteString("0123456789")
		bw.Flush()
	}
	big := bytes.Repeat([]byte("x"), corkLimit+1)
	bw.Write(big)
	bw.Flush()
	if conn.writes != 4 {
		t.Fatalf("corked: %d writes before uncork, want 4 (2 uncorked, the batch, the big frame)", conn.writes)
	}
	bw.WriteString("tail")
	bw.Flush()
	if err := w.uncork(); err != nil {
		t.Fatal(err)
	}
	if conn.writes != 5 {
		t.Fatalf("after uncork: %d writes, want 5", conn.writes)
	}
	want := "ab" + string(bytes.Repeat([]byte("0123456789"), 100)) + string(big) + "tail"
	if conn.data.String() != want {
		t.Fatal("bytes reordered or lost")
	}
}
