package core

import (
	"crypto/rand"
	"encoding/base64"
)

// randomID returns 20 random url-safe characters (15 random bytes).
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
