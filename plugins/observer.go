package plugins

import (
	"context"
	"errors"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/edged-io/edged/plugins/abi"
)

// Outcomes of a dispatcher call, as reported to an Observer.
const (
	// OutcomeOK: the handler returned STATUS_OK (or did not handle the kind).
	OutcomeOK = "ok"
	// OutcomeRejected: the handler returned STATUS_REJECT.
	OutcomeRejected = "rejected"
	// OutcomeError: the handler returned STATUS_ERROR, or no instance could
	// be started for the call.
	OutcomeError = "error"
	// OutcomeTrap: the guest trapped (or a host function panicked).
	OutcomeTrap = "trap"
	// OutcomeTimeout: the call ran past its deadline (call_timeout_ms).
	OutcomeTimeout = "timeout"
	// OutcomeOOM: the guest trapped with its memory at the cap (memory_pages).
	OutcomeOOM = "oom"
)

// Observer receives the plugin runtime's events for metrics. Call is on the
// hot path: implementations must be cheap and safe for concurrent use.
type Observer interface {
	// Call reports one dispatcher call (edged_on) of a plugin version: its
	// kind ("connect", "connection", "event", "packet", "disconnecting",
	// "disconnect", "ack_result", "server_side_emit", "any"), its duration
	// (waiting for a pooled instance included) and its Outcome*.
	Call(plugin, version, kind string, d time.Duration, outcome string)
	// Reload reports a reload of one plugin that changed something or
	// failed, as Options.OnReload: err is nil on success, version is empty
	// when the plugin was removed.
	Reload(plugin, version string, err error)
}

var kindNames = [...]string{
	abi.KindConnect:        "connect",
	abi.KindConnection:     "connection",
	abi.KindEvent:          "event",
	abi.KindPacket:         "packet",
	abi.KindDisconnecting:  "disconnecting",
	abi.KindDisconnect:     "disconnect",
	abi.KindAckResult:      "ack_result",
	abi.KindServerSideEmit: "server_side_emit",
	abi.KindAny:            "any",
}

func kindName(k abi.Kind) string {
	if k >= 0 && int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

func statusOutcome(s abi.Status) string {
	switch s {
	case abi.StatusReject:
		return OutcomeRejected
	case abi.StatusError:
		return OutcomeError
	}
	return OutcomeOK
}

// faultOutcome classifies a failed invocation of inst: a deadline, a trap
// with the memory at its cap, or another trap.
func (g *generation) faultOutcome(inst *instance, err error) string {
	var exit *sys.ExitError
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded) {
		return OutcomeTimeout
	}
	limit := g.set.MemoryPages
	if max, ok := inst.mem.Definition().Max(); ok && max < limit {
		limit = max
	}
	if inst.mem.Size()/65536 >= limit {
		return OutcomeOOM
	}
	return OutcomeTrap
}

// observe reports a call that started at start, if there is an Observer.
func (g *generation) observe(obs Observer, kind abi.Kind, start time.Time, outcome string) {
	obs.Call(g.name, g.version, kindName(kind), time.Since(start), outcome)
}
