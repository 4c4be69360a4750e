package httpd

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/influxql"
)

// buildLogLine formats one access-log line as 1.x does, Apache's combined
// format plus the request id and the duration in microseconds:
//
//	host - user [02/Jan/2006:15:04:05 -0700] "GET /query?… HTTP/1.1" 200 123 "referer" "agent" <request-id> <µs>
//
// The host is prefixed by X-Forwarded-For when present. Passwords never
// appear: the p parameter's value is replaced by [REDACTED] and passwords
// inside the q parameter (CREATE USER … WITH PASSWORD, SET PASSWORD) are
// redacted as influxql.Sanitize does; the Authorization header is never
// logged.
func buildLogLine(req *request, status int, size int64, now time.Time) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		host = strings.Join(append(xff, host), ",")
	}
	user := userName(req.user)
	if user == "" {
		user = logUsername(req)
	}
	var b strings.Builder
	b.Grow(256)
	b.WriteString(host)
	b.WriteString(" - ")
	b.WriteString(dash(user))
	b.WriteString(" [")
	b.WriteString(req.start.Format("02/Jan/2006:15:04:05 -0700"))
	b.WriteString(`] "`)
	b.WriteString(req.Method)
	b.WriteByte(' ')
	b.WriteString(redactURI(req.URL))
	b.WriteByte(' ')
	b.WriteString(req.Proto)
	b.WriteString(`" `)
	b.WriteString(strconv.Itoa(status))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(size, 10))
	b.WriteString(` "`)
	b.WriteString(dash(req.Referer()))
	b.WriteString(`" "`)
	b.WriteString(dash(req.UserAgent()))
	b.WriteString(`" `)
	b.WriteString(req.id)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(int64(now.Sub(req.start)/time.Microsecond), 10))
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// logUsername names the caller of an unauthenticated request from the URL
// user info, the u parameter or Basic auth — never from a password.
func logUsername(req *request) string {
	if req.URL.User != nil && req.URL.User.Username() != "" {
		return req.URL.User.Username()
	}
	if u, _, ok := req.BasicAuth(); ok && u != "" {
		return u
	}
	return req.params.Get("u")
}

// redactURI returns the request URI with passwords redacted. Unlike 1.x,
// which re-encodes the whole query (turning [REDACTED] into
// %5BREDACTED%5D and reordering parameters), only the affected values
// change.
// redactQuery hides the passwords of an InfluxQL query. influxql.Sanitize
// alone is not enough: it misses `bob='pw'` without spaces and cuts a
// quoted password at its first space. A query that mentions a password is
// parsed and printed again (statements print passwords as [REDACTED]); one
// that does not parse is hidden whole, since its password cannot be found.
func redactQuery(q string) string {
	if !strings.Contains(strings.ToLower(q), "password") {
		return q
	}
	parsed, err := influxql.ParseQuery(q)
	if err != nil {
		return "[REDACTED]"
	}
	return parsed.String()
}

func redactURI(u *url.URL) string {
	uri := u.RequestURI()
	if u.RawQuery == "" {
		return uri
	}
	path, _, _ := strings.Cut(uri, "?")
	parts := strings.Split(u.RawQuery, "&")
	for i, part := range parts {
		key, value, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		switch name {
		case "p":
			parts[i] = key + "=[REDACTED]"
		case "q":
			q, err := url.QueryUnescape(value)
			if err != nil {
				q = value
			}
			if s := redactQuery(q); s != q {
				parts[i] = key + "=" + url.QueryEscape(s)
			}
		}
	}
	return path + "?" + strings.Join(parts, "&")
}
