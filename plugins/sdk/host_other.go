//go:build !wasip1

package sdk

import "github.com/edged-io/edged/plugins/abi"

// host is a stub outside WebAssembly: every operation fails with ErrNoHost.
// Tests replace it with a fake.
var host hostAPI = noHost{}

// noHost is the host of native (non-wasip1) builds: every call fails.
type noHost struct{}

func (noHost) inputRead([]byte) int32             { return -1 }
func (noHost) attachmentRead(int32, []byte) int32 { return -1 }
func (noHost) attach([]byte) int32                { return -1 }
func (noHost) call(abi.Op, []byte) int32          { return abi.ErrFailed }
func (noHost) resultRead(buf []byte) int32 {
	msg := ErrNoHost.Error()
	if len(msg) <= len(buf) {
		copy(buf, msg)
	}
	return int32(len(msg))
}
func (noHost) log(level int32, msg []byte) {}
