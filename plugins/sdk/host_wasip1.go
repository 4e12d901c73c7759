//go:build wasip1

//lint:file-ignore U1000 edgedABIv1, edgedInit and edgedOn are called by the host (go:wasmexport)

package sdk

import (
	"unsafe"

	"github.com/edged-io/edged/plugins/abi"
)

//go:wasmimport edged_v1 input_read
func hostInputRead(buf unsafe.Pointer, limit int32) int32

//go:wasmimport edged_v1 attachment_read
func hostAttachmentRead(index int32, buf unsafe.Pointer, limit int32) int32

//go:wasmimport edged_v1 attach
func hostAttach(ptr unsafe.Pointer, n int32) int32

//go:wasmimport edged_v1 call
func hostCall(op int32, req unsafe.Pointer, n int32) int32

//go:wasmimport edged_v1 result_read
func hostResultRead(buf unsafe.Pointer, limit int32) int32

//go:wasmimport edged_v1 log
func hostLog(level int32, ptr unsafe.Pointer, n int32)

// wasmHost calls the edged_v1 imports.
type wasmHost struct{}

var host hostAPI = wasmHost{}

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func (wasmHost) inputRead(buf []byte) int32 { return hostInputRead(ptr(buf), int32(len(buf))) }
func (wasmHost) attachmentRead(i int32, buf []byte) int32 {
	return hostAttachmentRead(i, ptr(buf), int32(len(buf)))
}
func (wasmHost) attach(b []byte) int32 { return hostAttach(ptr(b), int32(len(b))) }
func (wasmHost) call(op abi.Op, req []byte) int32 {
	return hostCall(int32(op), ptr(req), int32(len(req)))
}
func (wasmHost) resultRead(buf []byte) int32 { return hostResultRead(ptr(buf), int32(len(buf))) }
func (wasmHost) log(level int32, msg []byte) { hostLog(level, ptr(msg), int32(len(msg))) }

// edgedABIv1 is the version marker export; it is never called.
//
//go:wasmexport edged_abi_v1
func edgedABIv1() {}

// edgedInit runs once per instance with the plugin's name, version and config.
//
//go:wasmexport edged_init
func edgedInit(inputLen int32) int32 { return int32(doInit(inputLen)) }

// edgedOn is the dispatcher: one call per host event.
//
//go:wasmexport edged_on
func edgedOn(kind, inputLen int32) int32 { return int32(doOn(abi.Kind(kind), inputLen)) }
