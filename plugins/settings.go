package plugins

import (
	"encoding/json"
	"fmt"
	"runtime"
	"time"
)

// Limits are the resource bounds of one plugin (docs/ABI.md §6). A zero field
// takes the default.
type Limits struct {
	// MemoryPages caps the linear memory in 64 KiB pages (default 512, 32 MiB).
	MemoryPages uint32
	// PoolSize is the number of instances per plugin version (default GOMAXPROCS).
	PoolSize int
	// CallTimeout is the deadline of one edged_on/edged_init call (default 1s).
	CallTimeout time.Duration
	// MaxOutputBytes bounds a call request and the attachments staged for it (default 1 MiB).
	MaxOutputBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = 512
	}
	if l.PoolSize <= 0 {
		l.PoolSize = runtime.GOMAXPROCS(0)
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = time.Second
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = 1 << 20
	}
	return l
}

// settings is a plugin's NAME.json file merged over the default limits.
type settings struct {
	Limits
	Trusted bool
	Config  json.RawMessage // "null" when absent
}

type settingsFile struct {
	MemoryPages    *uint32         `json:"memory_pages"`
	PoolSize       *int            `json:"pool_size"`
	CallTimeoutMS  *int64          `json:"call_timeout_ms"`
	MaxOutputBytes *int            `json:"max_output_bytes"`
	Trusted        bool            `json:"trusted"`
	Config         json.RawMessage `json:"config"`
}

// parseSettings reads NAME.json (nil data: no file) over the defaults.
func parseSettings(name string, data []byte, def Limits) (settings, error) {
	s := settings{Limits: def.withDefaults(), Config: json.RawMessage("null")}
	if data == nil {
		return s, nil
	}
	var f settingsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return s, fmt.Errorf("plugin %s: settings file %s.json: %w", name, name, err)
	}
	if f.MemoryPages != nil {
		if *f.MemoryPages == 0 || *f.MemoryPages > 65536 {
			return s, fmt.Errorf("plugin %s: settings file %s.json: memory_pages must be 1..65536", name, name)
		}
		s.MemoryPages = *f.MemoryPages
	}
	if f.PoolSize != nil {
		if *f.PoolSize <= 0 {
			return s, fmt.Errorf("plugin %s: settings file %s.json: pool_size must be positive", name, name)
		}
		s.PoolSize = *f.PoolSize
	}
	if f.CallTimeoutMS != nil {
		if *f.CallTimeoutMS <= 0 {
			return s, fmt.Errorf("plugin %s: settings file %s.json: call_timeout_ms must be positive", name, name)
		}
		s.CallTimeout = time.Duration(*f.CallTimeoutMS) * time.Millisecond
	}
	if f.MaxOutputBytes != nil {
		if *f.MaxOutputBytes <= 0 {
			return s, fmt.Errorf("plugin %s: settings file %s.json: max_output_bytes must be positive", name, name)
		}
		s.MaxOutputBytes = *f.MaxOutputBytes
	}
	s.Trusted = f.Trusted
	if len(f.Config) > 0 {
		s.Config = f.Config
	}
	return s, nil
}
