package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/e2e/harness"
)

func runStratad(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestDebianConfigLoads: the influxdb.conf Debian's influxdb package
// installs loads as it is, with one warning per section Strata does not
// implement.
func TestDebianConfigLoads(t *testing.T) {
	const debian = "/etc/influxdb/influxdb.conf"
	if _, err := os.Stat(debian); err != nil {
		t.Fatalf("%s is missing (Debian package influxdb, installed by .ci/deps): %v", debian, err)
	}
	out, errOut, code := runStratad(t, "config", "-config", debian)
	if code != 0 {
		t.Fatalf("stratad config -config %s: exit %d\n%s", debian, code, errOut)
	}
	if !strings.Contains(out, `dir = "/var/lib/influxdb/data"`) {
		t.Fatalf("the file's [data] dir did not come through:\n%s", out)
	}
	for _, section := range []string{"graphite", "collectd", "opentsdb", "udp"} {
		if n := strings.Count(errOut, section); n != 1 {
			t.Errorf("want exactly one warning naming [%s], got %d:\n%s", section, n, errOut)
		}
	}
}

func TestMalformedConfigExitsNamingFileLineAndKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(path, []byte("[meta]\n  dir = \"/tmp/x\"\n\n[data]\n  cache-max-memory-size = \"12q\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runStratad(t, "run", "-config", path)
	if code == 0 {
		t.Fatal("stratad started with a bad size")
	}
	for _, want := range []string{path + ":5", "cache-max-memory-size", "12q"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error output lacks %q:\n%s", want, errOut)
		}
	}
	if err := os.WriteFile(path, []byte("[http]\nbind-address = \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = runStratad(t, "run", "-config", path); code == 0 || !strings.Contains(errOut, path+":2") {
		t.Fatalf("TOML syntax error: exit %d\n%s", code, errOut)
	}
}

// TestConfigOutputLoadsBack: what `stratad config` prints is a complete
// config file that loads again to the same output.
func TestConfigOutputLoadsBack(t *testing.T) {
	out, errOut, code := runStratad(t, "config")
	if code != 0 {
		t.Fatalf("stratad config: %d\n%s", code, errOut)
	}
	for _, key := range []string{"[http]", "bind-address", "auth-enabled", "max-body-size", "[data]", "wal-fsync-delay", "cache-snapshot-memory-size", "[coordinator]", "write-timeout"} {
		if !strings.Contains(out, key) {
			t.Errorf("stratad config lacks %q", key)
		}
	}
	path := filepath.Join(t.TempDir(), "full.conf")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	again, errOut, code := runStratad(t, "config", "-config", path)
	if code != 0 || again != out {
		t.Fatalf("reloading the printed config: exit %d, same output %v\n%s", code, again == out, errOut)
	}
}

func TestSeriesLimitIsPartialWrite(t *testing.T) {
	s := harness.Start(t, harness.Options{Config: "[data]\nmax-series-per-database = 2\n"})
	createDB(t, s, "db")
	r := s.Write(params("db", "db"), "m,k=1 v=1 1\nm,k=2 v=1 1\nm,k=3 v=1 1\nm,k=1 v=2 2")
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	want := "partial write: max-series-per-database limit exceeded: (2) dropped=1"
	if got := errorText(t, r.Body); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	s.Stop()
	if got := harness.Export(t, s.Dir); len(got) != 3 {
		t.Fatalf("exported %v, want the 3 points within the limit", got)
	}
}

func TestDebugVarsStatistics(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "db")
	if r := s.Write(params("db", "db"), "cpu v=1 1\ncpu v=2 2"); r.Status != 204 {
		t.Fatalf("write: %d", r.Status)
	}
	r := s.Do(http.MethodGet, "/debug/vars", nil, nil)
	var vars map[string]json.RawMessage
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &vars) != nil {
		t.Fatalf("/debug/vars: %d %.200s", r.Status, r.Body)
	}
	for _, k := range []string{"cmdline", "memstats"} {
		if _, ok := vars[k]; !ok {
			t.Errorf("/debug/vars lacks %q", k)
		}
	}
	type stat struct {
		Name   string         `json:"name"`
		Tags   map[string]any `json:"tags"`
		Values map[string]any `json:"values"`
	}
	found := map[string]stat{}
	for k, raw := range vars {
		var st stat
		if json.Unmarshal(raw, &st) == nil && st.Name != "" {
			found[st.Name] = st
			_ = k
		}
	}
	want := map[string][]string{
		"httpd": {"req", "writeReq", "pointsWrittenOK", "queryReq", "clientError", "serverError", "recoveredPanics"},
		"write": {"pointReq", "writeOk"},
		"shard": {"writePointsOk", "seriesCreate", "diskBytes"},
	}
	for name, keys := range want {
		st, ok := found[name]
		if !ok {
			t.Errorf("no %q statistic in /debug/vars", name)
			continue
		}
		for _, k := range keys {
			if _, ok := st.Values[k]; !ok {
				t.Errorf("%s lacks %q (has %v)", name, k, st.Values)
			}
		}
	}
	if v, _ := found["httpd"].Values["pointsWrittenOK"].(float64); v != 2 {
		t.Errorf("httpd pointsWrittenOK = %v, want 2", found["httpd"].Values["pointsWrittenOK"])
	}
}
