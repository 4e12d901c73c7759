package host

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestHandshakeRecord checks that a session's compact record expands into
// what the request shows: its headers as r.Header.Clone() with "Host" added,
// its query as r.URL.Query().
func TestHandshakeRecord(t *testing.T) {
	long := strings.Repeat("v", 300)
	tests := []struct {
		name   string
		target string
		host   string
		header http.Header
	}{
		{"no headers", "/engine.io/?EIO=4&transport=polling", "example.com", nil},
		{"no host", "/engine.io/", "", http.Header{"Accept": {"*/*"}}},
		{"host header kept", "/engine.io/?EIO=4", "a.example", http.Header{"Host": {"b.example"}}},
		{"several values", "/engine.io/?a=1&a=2&b=%20x", "h", http.Header{"Cookie": {"a=1", "b=2"}, "X-Empty": {""}}},
		{"nil and empty lists", "/engine.io/?", "h", http.Header{"X-Nil": nil, "X-None": {}}},
		{"long values", "/engine.io/?q=" + long, "h", http.Header{"User-Agent": {long}, strings.Repeat("K", 200): {"é", long}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host = tt.host
			r.Header = tt.header
			r.TLS = &tls.ConnectionState{}
			want := r.Header.Clone()
			if want == nil {
				want = http.Header{}
			}
			if _, ok := want["Host"]; !ok && r.Host != "" {
				want["Host"] = []string{r.Host}
			}
			rec := newHandshake(r)
			for range 2 {
				hs := rec.handshake()
				if !reflect.DeepEqual(hs.Header, want) {
					t.Errorf("Header = %#v, want %#v", hs.Header, want)
				}
				if !reflect.DeepEqual(hs.Query, r.URL.Query()) {
					t.Errorf("Query = %v, want %v", hs.Query, r.URL.Query())
				}
				if hs.URL != r.URL.RequestURI() || hs.RemoteAddr != "192.0.2.1" || !hs.Secure || hs.XDomain || !hs.Time.Equal(rec.time) {
					t.Errorf("handshake = %+v", hs)
				}
				hs.Header.Set("X-Changed", "1") // the next call is unaffected
			}
		})
	}
}
