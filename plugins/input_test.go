package plugins

import (
	"encoding/json"
	"testing"
)

func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range []string{"", "abc", "/chat", "room 1", `q"uote`, `back\slash`, "<b>&amp;", "tab\there", "nl\n", "\x00\x1f\x7f", "héllo", "日本", "\u2028\u2029", string([]byte{0xff, 'a'})} {
		want, _ := json.Marshal(s)
		if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendString(%q) = %s, want x%s", s, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = appendString(make([]byte, 0, 64)[:0], "AbC-123_room") }); n > 1 {
		t.Errorf("appendString of a plain string: %v allocations", n)
	}
}
