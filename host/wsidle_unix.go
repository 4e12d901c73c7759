//go:build unix

package host

import (
	"net"
	"syscall"
)

// newIdleReader returns an idleReader over conn, or nil when conn is not a
// plain TCP connection.
func newIdleReader(conn net.Conn) *idleReader {
	tcp, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return nil
	}
	return &idleReader{Conn: conn, raw: raw}
}

// readFD reads from the non-blocking socket fd, retrying on EINTR.
func readFD(fd uintptr, buf []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), buf)
		if err != syscall.EINTR {
			return n, err
		}
	}
}
