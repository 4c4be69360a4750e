package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/query":
			_, _ = w.Write([]byte(`{"results":[{"statement_id":0}]}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", []string{"bench"}, 2, "", "Usage: strata bench"},
		{"unknown command", []string{"bench", "nope"}, 2, "", `unknown command "nope"`},
		{"gen", []string{"bench", "gen", "--hosts", "2", "--duration", "20s"}, 0, "host_1,", ""},
		{"gen bad data set", []string{"bench", "gen", "--hosts", "0"}, 2, "", "hosts must be positive"},
		{"gen bad start", []string{"bench", "gen", "--start", "yesterday"}, 2, "", "-start"},
		{"write", []string{"bench", "write", "--url", srv.URL, "--hosts", "3", "--duration", "1m", "--batch", "5",
			"--json", filepath.Join(dir, "w.json")}, 0, "points/s", "writing 18 points"},
		{"query unknown type", []string{"bench", "query", "--url", srv.URL, "--types", "bogus"}, 2, "", "unknown query type"},
		{"query", []string{"bench", "query", "--url", srv.URL, "--types", "lastpoint", "--queries", "2",
			"--json", filepath.Join(dir, "q.json")}, 0, "lastpoint", ""},
		{"wait", []string{"bench", "wait", "--url", srv.URL}, 0, "", ""},
		{"report without dir", []string{"bench", "report"}, 2, "", "usage: strata bench report"},
		{"report of an empty dir", []string{"bench", "report", "-dir", t.TempDir()}, 1, "", "malformed bench results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
		})
	}
	for _, f := range []string{"w.json", "q.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !bytes.HasPrefix(b, []byte("{")) {
			t.Fatalf("%s: %v %q", f, err, b)
		}
	}
}
