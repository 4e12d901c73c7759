package store

import (
	"errors"
	"strings"
)

// errBadPlugin is returned for an empty plugin name or one with a '/'.
var errBadPlugin = errors.New("plugin name must be non-empty and without '/'")

func checkKey(plugin, key string) error {
	if plugin == "" || strings.Contains(plugin, "/") {
		return errBadPlugin
	}
	if key == "" || len(key) > MaxKeyBytes {
		return ErrKeyTooLong
	}
	return nil
}

func checkValue(v []byte) error {
	if len(v) > MaxValueBytes {
		return ErrValueTooLarge
	}
	return nil
}

// scanLimit clamps a Scan limit to [0, MaxScanLimit].
func scanLimit(limit int) int { return max(0, min(limit, MaxScanLimit)) }

func checkScan(plugin, prefix string) error {
	if plugin == "" || strings.Contains(plugin, "/") {
		return errBadPlugin
	}
	if len(prefix) > MaxKeyBytes {
		return ErrKeyTooLong
	}
	return nil
}
