package httpd

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURIHidesEveryPasswordForm(t *testing.T) {
	for _, q := range []string{
		"SET PASSWORD FOR bob='N0spaces-pw'",
		"CREATE USER bob WITH PASSWORD 'has some spaces' WITH ALL PRIVILEGES",
		"SET PASSWORD FOR bob 'N0spaces-pw'", // does not parse: hidden whole
		"create user bob with password 'N0spaces-pw'",
	} {
		u := &url.URL{Path: "/query", RawQuery: "db=x&q=" + url.QueryEscape(q)}
		got := redactURI(u)
		for _, secret := range []string{"N0spaces-pw", "has", "spaces"} {
			if strings.Contains(got, secret) {
				t.Errorf("%q logged as %q: contains %q", q, got, secret)
			}
		}
		if !strings.Contains(got, "db=x") {
			t.Errorf("%q: other parameters lost: %q", q, got)
		}
	}
	u := &url.URL{Path: "/query", RawQuery: "q=" + url.QueryEscape("SELECT * FROM cpu")}
	if got := redactURI(u); got != "/query?q=SELECT+%2A+FROM+cpu" && got != "/query?"+u.RawQuery {
		t.Errorf("a query without a password was changed: %q", got)
	}
}
