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

func TestRawFieldMatchesUnmarshal(t *testing.T) {
	for _, req := range []string{
		`{}`, ` { } `, `{"args":[1,2]}`, `{"args" : [ {"a":"}]\\"x"} , "s" ] }`, `{"x":{"args":1},"args":null}`,
		`{"args":[1],"args":[2]}`, `{"ARGS":[1]}`, `{"argſ":[1]}`, `{"\u0061rgs":[1]}`, `{"other":"a\"b","args":"s"}`,
		`{"n":-1.5e3,"t":true,"args":false}`, `[1]`, `"s"`, `null`, `{"args":[[],[{}],"\\\\"]}`, "{\n\t\"args\"\r:\n[1]\n}",
	} {
		var r struct {
			Args json.RawMessage `json:"args"`
		}
		errU := json.Unmarshal([]byte(req), &r)
		v, ok := rawField([]byte(req), "args")
		if !ok {
			continue // the caller decodes
		}
		if errU != nil {
			t.Errorf("%s: rawField ok, Unmarshal failed: %v", req, errU)
			continue
		}
		if string(v) != string(r.Args) {
			t.Errorf("%s: rawField %q, Unmarshal %q", req, v, r.Args)
		}
	}
	for _, req := range []string{`{"ARGS":[1]}`, `{"argſ":[1]}`, `{"\u0061rgs":[1]}`, `[1]`, `null`} {
		if _, ok := rawField([]byte(req), "args"); ok {
			t.Errorf("%s: rawField should leave it to json.Unmarshal", req)
		}
	}
}
