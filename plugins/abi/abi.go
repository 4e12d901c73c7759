// Package abi holds the constants of the edged plugin ABI, version 1, in one
// place for the host (package plugins) and the Go SDK (package sdk). The ABI
// is documented byte by byte in docs/ABI.md. It has no dependencies and
// builds for any GOOS, wasip1 included.
package abi

// ModuleName is the import module of the host functions.
const ModuleName = "edged_v1"

// Version is the ABI version this package describes.
const Version = 1

// Export names a guest must provide.
const (
	ExportMarker     = "edged_abi_v1"
	ExportInit       = "edged_init"
	ExportOn         = "edged_on"
	ExportMemory     = "memory"
	ExportInitialize = "_initialize"
)

// Host function names in ModuleName.
const (
	FuncInputRead      = "input_read"
	FuncAttachmentRead = "attachment_read"
	FuncAttach         = "attach"
	FuncCall           = "call"
	FuncResultRead     = "result_read"
	FuncLog            = "log"
)

// Kind is what a dispatcher call is about.
type Kind int32

// Dispatcher kinds.
const (
	KindConnect        Kind = 1
	KindConnection     Kind = 2
	KindEvent          Kind = 3
	KindPacket         Kind = 4
	KindDisconnecting  Kind = 5
	KindDisconnect     Kind = 6
	KindAckResult      Kind = 7
	KindServerSideEmit Kind = 8
	KindAny            Kind = 9
)

// Status is what the dispatcher and init return.
type Status int32

// Statuses.
const (
	StatusOK          Status = 0
	StatusReject      Status = 1
	StatusError       Status = -1
	StatusUnknownKind Status = -2
)

// Op is an operation of the call host function.
type Op int32

// Operations.
const (
	OpDeclare           Op = 1
	OpReject            Op = 2
	OpEmit              Op = 3
	OpAck               Op = 4
	OpJoin              Op = 5
	OpLeave             Op = 6
	OpSocketsJoin       Op = 7
	OpSocketsLeave      Op = 8
	OpDisconnectSockets Op = 9
	OpDisconnect        Op = 10
	OpFetchSockets      Op = 11
	OpServerSideEmit    Op = 12
	OpDataGet           Op = 13
	OpDataSet           Op = 14
	OpHandshake         Op = 15
	OpRooms             Op = 16
	OpNow               Op = 17
	OpRandom            Op = 18
	OpConfig            Op = 19
	OpKVGet             Op = 20
	OpKVSet             Op = 21
	OpKVDelete          Op = 22
	OpKVScan            Op = 23
	OpKVCAS             Op = 24
)

// Errors returned by call (negative).
const (
	ErrBadRequest int32 = -1
	ErrUnknownOp  int32 = -2
	ErrNotAllowed int32 = -3
	ErrNotFound   int32 = -4
	ErrTooLarge   int32 = -5
	ErrFailed     int32 = -6
)

// Log levels of the log host function.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)

// Limits of the key-value ops (docs/ABI.md §4.5); the same numbers as
// store.MaxKeyBytes, store.MaxValueBytes and store.MaxScanLimit.
const (
	MaxKVKeyBytes   = 1024
	MaxKVValueBytes = 1 << 20
	MaxKVScanLimit  = 1000
)

// MaxAttachments is the most binary attachments one call may stage.
const MaxAttachments = 10

// Declaration is the request of OpDeclare: what a plugin handles.
type Declaration struct {
	Namespaces        []string `json:"namespaces,omitempty"`
	NamespacePatterns []string `json:"namespace_patterns,omitempty"`
	Events            []string `json:"events,omitempty"`
	CatchAll          bool     `json:"catch_all,omitempty"`
	Connect           bool     `json:"connect,omitempty"`
	Connection        bool     `json:"connection,omitempty"`
	Packet            bool     `json:"packet,omitempty"`
	Disconnecting     bool     `json:"disconnecting,omitempty"`
	Disconnect        bool     `json:"disconnect,omitempty"`
	ServerSide        []string `json:"server_side,omitempty"`
}

// SocketInfo is the socket object S of dispatcher inputs.
type SocketInfo struct {
	ID        string   `json:"id"`
	Namespace string   `json:"namespace"`
	Rooms     []string `json:"rooms"`
	Data      any      `json:"data"`
	Recovered bool     `json:"recovered"`
	Transport string   `json:"transport"`
}

// Target selects the recipients of emit and of the utility operations.
type Target struct {
	Namespace string   `json:"namespace,omitempty"`
	Socket    string   `json:"socket,omitempty"`
	Rooms     []string `json:"rooms,omitempty"`
	Except    []string `json:"except,omitempty"`
	Broadcast bool     `json:"broadcast,omitempty"`
	Local     bool     `json:"local,omitempty"`
	Volatile  bool     `json:"volatile,omitempty"`
	Compress  *bool    `json:"compress,omitempty"`
}
