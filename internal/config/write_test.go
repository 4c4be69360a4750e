package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/config"
)

// roundTrip writes c and parses it back.
func roundTrip(t *testing.T, c *config.Config) (*config.Config, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteTOML(&b); err != nil {
		t.Fatalf("WriteTOML: %v", err)
	}
	back, warns, err := config.Parse("written.conf", b.Bytes(), nil)
	if err != nil || len(warns) != 0 {
		t.Fatalf("written config does not load cleanly: %v %q\n%s", err, warns, b.Bytes())
	}
	return back, b.Bytes()
}

func TestWriteTOMLRoundTrip(t *testing.T) {
	clearEnv(t)
	full, _, err := config.Load("testdata/full.conf")
	if err != nil {
		t.Fatal(err)
	}
	odd := config.NewConfig()
	odd.HTTP.Realm = "quote \" backslash \\ tab \t newline \n nul \x00 del \x7f unicode é 😀"
	odd.HTTP.SharedSecret = `'''"""`
	odd.HTTP.AccessLogPath = "C:\\logs\\access.log"
	odd.Data.CacheMaxMemorySize = 1<<30 + 1
	odd.Data.WALFsyncDelay = config.Duration(1500 * time.Microsecond)
	odd.Coordinator.QueryTimeout = config.Duration(time.Hour + time.Nanosecond)
	odd.HTTP.AccessLogStatusFilters = []string{"5xx"}

	for name, c := range map[string]*config.Config{"defaults": config.NewConfig(), "full.conf": full, "odd strings": odd} {
		t.Run(name, func(t *testing.T) {
			back, _ := roundTrip(t, c)
			if diff := cmp.Diff(c, back); diff != "" {
				t.Fatalf("round trip changed the config (-before +after):\n%s", diff)
			}
		})
	}
}

// Every key appears, uncommented, with a comment line above it, and the
// file the loader reads back is the one Load reads from disk.
func TestWriteTOMLDocumentsEveryKey(t *testing.T) {
	var b bytes.Buffer
	if err := config.NewConfig().WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	keys := 0
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "[") {
			continue
		}
		keys++
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("line %d %q has no comment above it", i+1, l)
		}
	}
	// 2 top-level keys + 3 meta + 18 data + 7 coordinator + 2 retention +
	// 3 shard-precreation + 3 monitor + 26 http + 3 logging + 4 cq +
	// 6 subscriber + 3 tls.
	if keys != 80 {
		t.Errorf("%d keys written, want 80", keys)
	}
	for _, want := range []string{
		"[meta]", "[data]", "[coordinator]", "[retention]", "[shard-precreation]", "[monitor]",
		"[http]", "[logging]", "[continuous_queries]", "[tls]",
		`  cache-max-memory-size = "1g"`, `  max-body-size = 25000000`, `  write-timeout = "10s"`,
		`reporting-disabled = false`, `  ciphers = []`,
	} {
		if !strings.Contains(b.String(), "\n"+want+"\n") {
			t.Errorf("output lacks line %q", want)
		}
	}

	path := filepath.Join(t.TempDir(), "strata.conf")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	clearEnv(t)
	c, warns, err := config.Load(path)
	if err != nil || len(warns) != 0 || !cmp.Equal(c, config.NewConfig()) {
		t.Fatalf("Load of written defaults: %v %q %v", err, warns, cmp.Diff(config.NewConfig(), c))
	}
}

func TestWriteTOMLInvalidUTF8(t *testing.T) {
	c := config.NewConfig()
	c.HTTP.Realm = "bad \xff"
	err := c.WriteTOML(&bytes.Buffer{})
	var e *config.Error
	if !errors.As(err, &e) || e.Section != "http" || e.Key != "realm" {
		t.Fatalf("got %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTOMLWriteError(t *testing.T) {
	if err := config.NewConfig().WriteTOML(failWriter{}); err == nil || err.Error() != "disk full" {
		t.Fatalf("got %v", err)
	}
}
