package host

import (
	"net/http"
	"strconv"
	"strings"
)

// corsPolicy applies CORSOptions the way the npm "cors" middleware does.
type corsPolicy struct {
	opts           CORSOptions
	anyOrigin      bool
	origins        map[string]struct{}
	methods        string
	allowedHeaders string
	reflectHeaders bool
	exposedHeaders string
	maxAge         string
	status         int
}

func newCORSPolicy(o *CORSOptions) *corsPolicy {
	if o == nil {
		return nil
	}
	p := &corsPolicy{opts: *o, status: o.OptionsSuccessStatus}
	if p.status == 0 {
		p.status = http.StatusNoContent
	}
	if o.OriginFunc == nil {
		if len(o.Origins) == 0 || (len(o.Origins) == 1 && o.Origins[0] == "*") {
			p.anyOrigin = true
		} else {
			p.origins = make(map[string]struct{}, len(o.Origins))
			for _, origin := range o.Origins {
				p.origins[origin] = struct{}{}
			}
		}
	}
	p.methods = "GET,HEAD,PUT,PATCH,POST,DELETE"
	if o.Methods != nil {
		p.methods = strings.Join(o.Methods, ",")
	}
	if o.AllowedHeaders == nil {
		p.reflectHeaders = true
	} else {
		p.allowedHeaders = strings.Join(o.AllowedHeaders, ",")
	}
	p.exposedHeaders = strings.Join(o.ExposedHeaders, ",")
	if o.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(o.MaxAge.Seconds()), 10)
	}
	return p
}

// apply adds the CORS headers for r to w. It answers a preflight (OPTIONS)
// request itself and then reports handled. An error from OriginFunc is
// returned for the caller to refuse the request.
func (p *corsPolicy) apply(w http.ResponseWriter, r *http.Request) (handled bool, err error) {
	origin := r.Header.Get("Origin")
	allow, vary := "", false
	switch {
	case p.opts.OriginFunc != nil:
		ok, err := p.opts.OriginFunc(origin, r)
		if err != nil {
			return false, err
		}
		if !ok {
			// The cors middleware adds nothing and passes the request on.
			return false, nil
		}
		allow, vary = origin, true
	case p.anyOrigin:
		allow = "*"
	default:
		if _, ok := p.origins[origin]; ok {
			allow = origin
		}
		vary = true
	}
	h := w.Header()
	if allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
	}
	if vary {
		addVary(h, "Origin")
	}
	if p.opts.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodOptions {
		if p.exposedHeaders != "" {
			h.Set("Access-Control-Expose-Headers", p.exposedHeaders)
		}
		return false, nil
	}
	h.Set("Access-Control-Allow-Methods", p.methods)
	allowed := p.allowedHeaders
	if p.reflectHeaders {
		allowed = r.Header.Get("Access-Control-Request-Headers")
		addVary(h, "Access-Control-Request-Headers")
	}
	if allowed != "" {
		h.Set("Access-Control-Allow-Headers", allowed)
	}
	if p.maxAge != "" {
		h.Set("Access-Control-Max-Age", p.maxAge)
	}
	if p.exposedHeaders != "" {
		h.Set("Access-Control-Expose-Headers", p.exposedHeaders)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(p.status)
	return true, nil
}

// addVary adds field to the Vary header unless it is already listed (or "*").
func addVary(h http.Header, field string) {
	current := h.Get("Vary")
	for _, f := range strings.Split(current, ",") {
		f = strings.TrimSpace(f)
		if f == "*" || strings.EqualFold(f, field) {
			return
		}
	}
	if current == "" {
		h.Set("Vary", field)
		return
	}
	h.Set("Vary", current+", "+field)
}
