package host

import (
	"net/http"
	"strings"
	"time"
)

// setCookie adds the session cookie for id to h, when a cookie is configured.
func (o *CookieOptions) setCookie(h http.Header, id string) {
	if o == nil {
		return
	}
	c := http.Cookie{
		Name:        o.Name,
		Value:       encodeURIComponent(id),
		Path:        o.Path,
		Domain:      o.Domain,
		Expires:     o.Expires,
		HttpOnly:    !o.DisableHTTPOnly,
		Secure:      o.Secure,
		SameSite:    o.SameSite,
		Partitioned: o.Partitioned,
	}
	if c.Name == "" {
		c.Name = "io"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	if o.MaxAge > 0 {
		c.MaxAge = int((o.MaxAge + time.Second - 1) / time.Second)
	}
	h.Add("Set-Cookie", c.String())
}

// encodeURIComponent escapes s like JavaScript's encodeURIComponent, which
// the reference cookie serializer applies to the value.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-_.!~*'()", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
