package sdk

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestEachMember(t *testing.T) {
	in := ` { "a" : 1, "s":"x\"}y\\", "o":{"k":[1,{"z":"]"}]}, "n":null, "arr":[ ],"t":true } `
	got := map[string]string{}
	if err := eachMember([]byte(in), func(k, v []byte) error { got[string(k)] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "s": `"x\"}y\\"`, "o": `{"k":[1,{"z":"]"}]}`, "n": "null", "arr": "[ ]", "t": "true"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":1,}`, `{"a":"x}`, `{"a":[1}`, `{"a":1 "b":2}`} {
		if err := eachMember([]byte(bad), func(k, v []byte) error { return nil }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if err := eachMember([]byte(`{}`), func(k, v []byte) error { t.Fatal("member in {}"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestParsers(t *testing.T) {
	if s, ok := parseString([]byte(`"a\u00e9\n"`)); !ok || s != "aé\n" {
		t.Fatalf("%q %v", s, ok)
	}
	if _, ok := parseString([]byte(`12`)); ok {
		t.Fatal("number as string")
	}
	if l, ok := parseStrings([]byte(`["a", "b"]`)); !ok || !reflect.DeepEqual(l, []string{"a", "b"}) {
		t.Fatalf("%q %v", l, ok)
	}
	if _, ok := parseStrings([]byte(`["a", 1]`)); ok {
		t.Fatal("mixed list")
	}
	if n, ok := parseInt([]byte(`1e3`)); !ok || n != 1000 {
		t.Fatalf("%d %v", n, ok)
	}
	if _, ok := parseInt([]byte(`1.5`)); ok {
		t.Fatal("fraction as int")
	}
}

func TestDecodeInput(t *testing.T) {
	var in input
	err := in.decode([]byte(`{"socket":{"id":"i","namespace":"/n","rooms":["i","r"],"data":{"x":[1]},"recovered":true,"transport":"polling","extra":{}},
		"event":"ev","args":[1,"two"],"ack":true,"token":3,"responses":[[1],[2]],"error":"e","reason":"why","unknown":[{}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.name() != "ev" || string(in.Args) != `[1,"two"]` || !in.Ack || in.Token != 3 || len(in.Responses) != 2 ||
		string(in.Responses[1]) != "[2]" || in.Error != "e" || in.Reason != "why" {
		t.Fatalf("%+v", in)
	}
	s := new(frame).newSocket(in.Socket)
	if s.ID() != "i" || s.Namespace() != "/n" || !s.InRoom("r") || !s.Recovered() || s.Transport() != "polling" ||
		string(s.RawData()) != `{"x":[1]}` {
		t.Fatalf("%+v", s)
	}
}

func TestBindFastPaths(t *testing.T) {
	e := new(frame).newEvent("x", &input{Args: json.RawMessage(`["s", true, 2.5, 7, {"k":"v"}, [1], null]`)})
	var (
		s    string
		b    bool
		f    float64
		n    int
		m    map[string]string
		raw  json.RawMessage
		keep = "kept"
	)
	if err := e.Bind(&s, &b, &f, &n, &m, &raw, &keep); err != nil {
		t.Fatal(err)
	}
	if s != "s" || !b || f != 2.5 || n != 7 || m["k"] != "v" || string(raw) != "[1]" || keep != "kept" {
		t.Fatalf("%q %v %v %v %v %s %q", s, b, f, n, m, raw, keep)
	}
	for i, p := range []any{new(bool), new(float64), new(string), new(int), new(int)} {
		err := e.Bind(append(make([]any, []int{0, 0, 1, 2, 4}[i]), p)...)
		if err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

// FuzzEachElement checks the scanner splits arrays as encoding/json does.
func FuzzEachElement(f *testing.F) {
	f.Add(`[1,"a\"]",{"b":[2,3]},null,true,[]]`)
	f.Add(`[ "\\", "\\\"" ]`)
	f.Fuzz(func(t *testing.T, js string) {
		var want []json.RawMessage
		if json.Unmarshal([]byte(js), &want) != nil {
			return
		}
		var got []json.RawMessage
		if err := eachElement([]byte(js), func(v []byte) error { got = append(got, v); return nil }); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d elements, want %d", js, len(got), len(want))
		}
		for i := range got {
			var a, b any
			if json.Unmarshal(got[i], &a) != nil || json.Unmarshal(want[i], &b) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: element %d %s, want %s", js, i, got[i], want[i])
			}
		}
	})
}

// TestSkipString checks the 8-bytes-at-a-time string scanner around
// escapes at every offset.
func TestSkipString(t *testing.T) {
	for n := 0; n < 24; n++ {
		for _, esc := range []string{`"`, `\`, "\n", "é"} {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + esc + strings.Repeat("b", n-at)
				js, _ := json.Marshal(s)
				in := string(js) + `,"x"`
				end, err := skipString([]byte(in), 0)
				if err != nil || end != len(js) {
					t.Fatalf("%s: end %d, %v; want %d", in, end, err, len(js))
				}
				if _, err := skipString(js[:len(js)-1], 0); err == nil {
					t.Fatalf("%s: unterminated string accepted", js[:len(js)-1])
				}
			}
		}
	}
}
