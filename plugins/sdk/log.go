package sdk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/edged-io/edged/plugins/abi"
)

// Logger writes to the host's structured log, tagged with the plugin name
// and version. The methods take a message and key/value pairs, like log/slog.
type Logger struct{}

// Log is the plugin's logger.
var Log Logger

// Debug logs at debug level.
func (Logger) Debug(msg string, kv ...any) { logAt(abi.LogDebug, msg, kv) }

// Info logs at info level.
func (Logger) Info(msg string, kv ...any) { logAt(abi.LogInfo, msg, kv) }

// Warn logs at warn level.
func (Logger) Warn(msg string, kv ...any) { logAt(abi.LogWarn, msg, kv) }

// Error logs at error level.
func (Logger) Error(msg string, kv ...any) { logAt(abi.LogError, msg, kv) }

func logAt(level int32, msg string, kv []any) {
	b := []byte(msg)
	for i := 0; i < len(kv); i += 2 {
		b = append(b, ' ')
		b = fmt.Append(b, kv[i])
		b = append(b, '=')
		if i+1 < len(kv) {
			switch v := kv[i+1].(type) {
			case string:
				b = appendString(b, v)
			default:
				b = fmt.Append(b, v)
			}
		} else {
			b = append(b, "(missing)"...)
		}
	}
	host.log(level, b)
}

// Name returns the plugin's name (its file name without .wasm), known from init on.
func Name() string { return pluginName }

// Version returns the plugin version (a prefix of the module's sha256).
func Version() string { return pluginVersion }

// Config decodes the "config" of the plugin's settings file into v; an
// absent config leaves v untouched. It works from OnInit on.
func Config(v any) error { return decodeData(pluginConfig, v) }

// RawConfig returns the config as JSON (nil when absent).
func RawConfig() json.RawMessage { return pluginConfig }

// Now returns the server's clock (millisecond precision).
func Now() (time.Time, error) {
	res, err := begin().send(abi.OpNow)
	if err != nil {
		return time.Time{}, err
	}
	var ms int64
	ok := false
	err = eachMember(res, func(k, v []byte) error {
		if string(k) == "ms" {
			ms, ok = parseInt(v)
		}
		return nil
	})
	if err != nil || !ok {
		return time.Time{}, fmt.Errorf("sdk: now result %q", res)
	}
	return time.UnixMilli(ms), nil
}

// NowMillis returns the server's clock in epoch milliseconds, or the
// guest's own clock if the host call fails.
func NowMillis() int64 {
	t, err := Now()
	if err != nil {
		return time.Now().UnixMilli()
	}
	return t.UnixMilli()
}

// RandomHex returns n random bytes from the host (n <= 1024) as hex.
func RandomHex(n int) (string, error) {
	w := begin()
	w.field("n")
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	res, err := w.send(abi.OpRandom)
	if err != nil {
		return "", err
	}
	var hex string
	ok := false
	err = eachMember(res, func(k, v []byte) error {
		if string(k) == "hex" {
			hex, ok = parseString(v)
		}
		return nil
	})
	if err != nil || !ok {
		return "", fmt.Errorf("sdk: random result %q", res)
	}
	return hex, nil
}
