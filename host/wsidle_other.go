//go:build !unix

package host

import (
	"net"
	"syscall"
)

// newIdleReader returns nil: the shallow idle wait is implemented for unix
// sockets only.
func newIdleReader(net.Conn) *idleReader { return nil }

func readFD(uintptr, []byte) (int, error) { return 0, syscall.EINVAL }
