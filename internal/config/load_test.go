package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/config"
)

// clearEnv removes every INFLUXDB_ and STRATA_ variable for the test, so
// that Load sees no overrides from the machine running it.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "INFLUXDB_") || strings.HasPrefix(k, "STRATA_") {
			t.Setenv(k, "") // restores the old value after the test
			os.Unsetenv(k)
		}
	}
}

// The file Debian's influxdb package installs must load as it is.
func TestLoadDebianFile(t *testing.T) {
	clearEnv(t)
	if _, err := os.Stat(debianConf); err != nil {
		t.Fatalf("%s is missing (install Debian's influxdb package; CI does): %v", debianConf, err)
	}
	c, warns, err := config.Load(debianConf)
	if err != nil {
		t.Fatalf("Load(%s): %v", debianConf, err)
	}
	if c.Meta.Dir != "/var/lib/influxdb/meta" || c.Data.Dir != "/var/lib/influxdb/data" || c.Data.WALDir != "/var/lib/influxdb/wal" {
		t.Errorf("directories: %q %q %q", c.Meta.Dir, c.Data.Dir, c.Data.WALDir)
	}
	// Debian writes reporting-enabled = false, its inverse of 1.x's key.
	if !c.ReportingDisabled {
		t.Error("reporting-enabled = false should read as reporting-disabled = true")
	}
	// Everything else is commented out there: the rest is the defaults.
	want := config.NewConfig()
	want.SetDataRoot("/var/lib/influxdb")
	want.ReportingDisabled = true
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Debian file (-defaults +loaded):\n%s", diff)
	}
	// One warning per section Strata does not implement, each with a line.
	for _, sec := range []string{"[ifql]", "[[graphite]]", "[[collectd]]", "[[opentsdb]]", "[[udp]]"} {
		n := 0
		for _, w := range warns {
			if strings.Contains(w, sec+" is not supported") {
				n++
				if !strings.HasPrefix(w, debianConf+":") || !strings.Contains(w, ": "+sec) {
					t.Errorf("warning without file:line: %q", w)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d warnings about %s, want 1 (warnings: %q)", n, sec, warns)
		}
	}
	if len(warns) != 5 {
		t.Errorf("%d warnings, want 5: %q", len(warns), warns)
	}
}

func TestLoadFullFile(t *testing.T) {
	clearEnv(t)
	c, warns, err := config.Load("testdata/full.conf")
	if err != nil || len(warns) != 0 {
		t.Fatalf("Load: %v %q", err, warns)
	}
	want := &config.Config{
		ReportingDisabled: true,
		BindAddress:       "127.0.0.1:18088",
		Meta:              config.MetaConfig{Dir: "/srv/strata/meta"},
		Data: config.DataConfig{
			Dir: "/srv/strata/data", WALDir: "/srv/strata/wal",
			WALFsyncDelay:                  config.Duration(50 * time.Millisecond),
			IndexVersion:                   "tsi1",
			TraceLoggingEnabled:            true,
			ValidateKeys:                   true,
			CacheMaxMemorySize:             2 << 30,
			CacheSnapshotMemorySize:        50 << 20,
			CacheSnapshotWriteColdDuration: config.Duration(5 * time.Minute),
			CompactFullWriteColdDuration:   config.Duration(90 * time.Minute),
			CompactThroughput:              64 << 20,
			CompactThroughputBurst:         96 << 20,
			MaxConcurrentCompactions:       3,
			MaxIndexLogFileSize:            2 << 20,
		},
		Coordinator: config.CoordinatorConfig{
			WriteTimeout: config.Duration(20 * time.Second), MaxConcurrentQueries: 8,
			QueryTimeout: config.Duration(time.Minute), LogQueriesAfter: config.Duration(5 * time.Second),
			MaxSelectPoint: 1000000, MaxSelectSeries: 5000, MaxSelectBuckets: 10000,
		},
		Retention:        config.RetentionConfig{CheckInterval: config.Duration(time.Hour)},
		ShardPrecreation: config.ShardPrecreationConfig{CheckInterval: config.Duration(5 * time.Minute), AdvancePeriod: config.Duration(time.Hour)},
		Monitor:          config.MonitorConfig{StoreDatabase: "_monitor", StoreInterval: config.Duration(time.Minute)},
		HTTP: config.HTTPConfig{
			BindAddress: "[::1]:18086", AuthEnabled: true, Realm: `Strata "test" realm`,
			SuppressWriteLog: true, AccessLogPath: "/var/log/strata/access.log",
			AccessLogStatusFilters: []string{"5xx", "404"},
			WriteTracing:           true, FluxEnabled: true, PprofAuthEnabled: true, DebugPprofEnabled: true,
			PingAuthEnabled: true, HTTPSEnabled: true,
			HTTPSCertificate: "/etc/strata/cert.pem", HTTPSPrivateKey: "/etc/strata/key.pem",
			SharedSecret: `literal-secret\with\backslashes`, MaxRowLimit: 10000, MaxConnectionLimit: 100,
			UnixSocketEnabled: true, BindSocket: "/run/strata.sock", MaxBodySize: 1000000,
			MaxConcurrentWriteLimit: 4, MaxEnqueuedWriteLimit: 16, EnqueuedWriteTimeout: config.Duration(45 * time.Second),
		},
		Logging:           config.LoggingConfig{Format: "json", Level: "debug", SuppressLogo: true},
		ContinuousQueries: config.ContinuousQueriesConfig{QueryStatsEnabled: true, RunInterval: config.Duration(10 * time.Second)},
		Subscriber: config.SubscriberConfig{HTTPTimeout: config.Duration(5 * time.Second), InsecureSkipVerify: true,
			CACerts: "/etc/strata/ca.pem", WriteConcurrency: 4, WriteBufferSize: 50},
		TLS: config.TLSConfig{
			Ciphers:    []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
			MinVersion: "tls1.2", MaxVersion: "TLS1.3",
		},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("full.conf (-want +got):\n%s", diff)
	}
	// The file sets every field to a non-default value.
	def := config.NewConfig()
	if diff := cmp.Diff(def, c); diff == "" {
		t.Fatal("full.conf equals the defaults")
	}
}

func TestLoadMinimalFile(t *testing.T) {
	clearEnv(t)
	c, warns, err := config.Load("testdata/minimal.conf")
	if err != nil || len(warns) != 0 {
		t.Fatalf("Load: %v %q", err, warns)
	}
	want := config.NewConfig()
	want.SetDataRoot("/srv/strata")
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("minimal.conf (-want +got):\n%s", diff)
	}
}

func TestLoadLegacyFileWarnings(t *testing.T) {
	clearEnv(t)
	path := "testdata/legacy.conf"
	c, warns, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if time.Duration(c.ContinuousQueries.RunInterval) != 2*time.Second {
		t.Errorf("keys after ignored sections still apply: run-interval = %v", c.ContinuousQueries.RunInterval)
	}
	want := []string{
		path + `:11: [data] tsm-use-madv-willneed: InfluxDB 1.x setting that Strata does not use; ignored`,
		path + `:12: [data] unknown key "cache-max-memmory-size"; ignored`,
		path + `:15: [coordinator] log-timedout-queries: InfluxDB 1.x setting that Strata does not use; ignored`,
		path + `:19: [http] headers: InfluxDB 1.x setting that Strata does not use; ignored`,
		path + `:26: [[graphite]] is not supported by Strata yet; section ignored`,
		path + `:38: [[collectd]] is not supported by Strata yet; section ignored`,
		path + `:41: [[opentsdb]] is not supported by Strata yet; section ignored`,
		path + `:44: [[udp]] is not supported by Strata yet; section ignored`,
		path + `:48: [admin] is not supported by Strata yet; section ignored`,
		path + `:51: [hinted-handoff] is not supported by Strata yet; section ignored`,
		path + `:54: unknown section [my-plugin]; ignored`,
	}
	if diff := cmp.Diff(want, warns); diff != "" {
		t.Fatalf("warnings (-want +got):\n%s", diff)
	}
}

func TestParseWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"unknown top-level key", "hostname = \"x\"\n", []string{`f.conf:1: unknown key "hostname"; ignored`}},
		{"unknown table in known section", "[data]\n[data.extra]\nx = 1\n", []string{`f.conf:2: [data] unknown key "extra"; ignored`}},
		{"dotted unknown section", "plugin.x = 1\nplugin.y = 2\n", []string{`f.conf:1: unknown section [plugin]; ignored`}},
		{"section named only in a dotted header", "[graphite.sub]\nx = 1\n", []string{`f.conf:1: [graphite] is not supported by Strata yet; section ignored`}},
		{"case-insensitive keys are not unknown", "[Data]\nWAL-Dir = \"/w\"\n", nil},
		{"reporting-enabled is Debian's", "reporting-enabled = true\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := config.Parse("f.conf", []byte(tc.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, warns); diff != "" {
				t.Fatalf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLayouts(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		check     func(c *config.Config) bool
	}{
		{"dotted keys", "data.wal-dir = \"/w\"\n", func(c *config.Config) bool { return c.Data.WALDir == "/w" }},
		{"inline table", "http = { bind-address = \":9\", auth-enabled = true }\n",
			func(c *config.Config) bool { return c.HTTP.BindAddress == ":9" && c.HTTP.AuthEnabled }},
		{"case folding", "[HTTP]\nBind-Address = \":9\"\n", func(c *config.Config) bool { return c.HTTP.BindAddress == ":9" }},
		{"the later spelling wins", "[http]\nbind-address = \":1\"\nBIND-ADDRESS = \":2\"\n", func(c *config.Config) bool { return c.HTTP.BindAddress == ":2" }},
		{"empty array is nil", "[tls]\nciphers = []\n", func(c *config.Config) bool { return c.TLS.Ciphers == nil }},
		{"integer duration 0", "[coordinator]\nquery-timeout = 0\n", func(c *config.Config) bool { return c.Coordinator.QueryTimeout == 0 }},
		{"empty duration keeps the default", "[coordinator]\nwrite-timeout = \"\"\n",
			func(c *config.Config) bool { return c.Coordinator.WriteTimeout == config.Duration(10*time.Second) }},
		{"enqueued-write-timeout as nanoseconds, as 1.x", "[http]\nenqueued-write-timeout = 1000000000\n",
			func(c *config.Config) bool { return c.HTTP.EnqueuedWriteTimeout == config.Duration(time.Second) }},
		{"size as integer", "[data]\ncache-max-memory-size = 1048576\n", func(c *config.Config) bool { return c.Data.CacheMaxMemorySize == 1<<20 }},
		{"reporting-enabled inverts", "reporting-enabled = true\n", func(c *config.Config) bool { return !c.ReportingDisabled }},
		{"index-version tsi1", "[data]\nindex-version = \"tsi1\"\n", func(c *config.Config) bool { return c.Data.IndexVersion == "tsi1" }},
		{"byte order mark and CRLF", "\ufeff[meta]\r\ndir = \"/m\"\r\n", func(c *config.Config) bool { return c.Meta.Dir == "/m" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := config.Parse("f.conf", []byte(tc.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("unexpected result for %q", tc.doc)
			}
		})
	}
}

// Every kind of error names the file, the line and the key.
func TestParseErrors(t *testing.T) {
	const file = "/etc/strata/influxdb.conf"
	for _, tc := range []struct {
		name, doc string
		sentinel  error
		want      string
	}{
		{"syntax", "[data]\ndir = \"/d\n", config.ErrSyntax,
			file + `:2: data.dir: syntax error: strings cannot contain newlines`},
		{"syntax without key", "a = 1\n[data\n", config.ErrSyntax,
			file + `:2: syntax error: expected '.' or ']' to end table name, but got '\n' instead`},
		{"bad size", "[data]\n\n\ncache-max-memory-size = \"12q\"\n", config.ErrInvalidSize,
			file + `:4: [data] cache-max-memory-size: invalid size "12q": unknown suffix "q" (want k, m or g)`},
		{"negative size", "[data]\ncache-snapshot-memory-size = -1\n", config.ErrInvalidSize,
			file + `:2: [data] cache-snapshot-memory-size: invalid size -1: must not be negative`},
		{"bad duration", "[retention]\ncheck-interval = \"30 minutes\"\n", config.ErrInvalidDuration,
			file + `:2: [retention] check-interval: invalid duration "30 minutes" (want a number with a unit: ns, us, ms, s, m, h; e.g. "10s", "1h30m")`},
		{"duration without unit", "[coordinator]\nquery-timeout = 30\n", config.ErrInvalidDuration,
			file + `:2: [coordinator] query-timeout: invalid duration 30: a duration needs a unit and quotes, e.g. "30s"`},
		{"wrong type bool", "[http]\nauth-enabled = \"yes\"\n", config.ErrType,
			file + `:2: [http] auth-enabled: wrong type: want a boolean, got the string "yes"`},
		{"wrong type int", "[http]\nmax-body-size = \"25m\"\n", config.ErrType,
			file + `:2: [http] max-body-size: wrong type: want an integer, got the string "25m"`},
		{"wrong type string", "[meta]\ndir = 5\n", config.ErrType,
			file + `:2: [meta] dir: wrong type: want a string, got the integer 5`},
		{"wrong type list element", "[tls]\nciphers = [\"a\", 1]\n", config.ErrType,
			file + `:2: [tls] ciphers: wrong type: element 1: want a string, got the integer 1`},
		{"wrong type top-level", "bind-address = true\n", config.ErrType,
			file + `:1: bind-address: wrong type: want a string, got the boolean true`},
		{"section as a value", "meta = 1\n", config.ErrType,
			file + `:1: [meta]: wrong type: want a table, got the integer 1`},
		{"section as array of tables", "[[meta]]\ndir = \"/m\"\n", config.ErrType,
			file + `:1: [meta]: wrong type: want a table [meta], got an array of tables [[meta]]`},
		{"top-level key as a table", "[bind-address]\nport = 1\n", config.ErrType,
			file + `:1: bind-address: wrong type: want a single value, got a table`},
		{"key as a table", "[data.dir]\nx = 1\n", config.ErrType,
			file + `:1: [data] dir: wrong type: want a string, got a table`},
		{"bind address", "[http]\n  bind-address = \"8086\"\n", config.ErrInvalidValue,
			file + `:2: [http] bind-address: invalid value bind address "8086": want host:port, e.g. ":8086" or "127.0.0.1:8086"`},
		{"bind address port", "bind-address = \"localhost:http\"\n", config.ErrInvalidValue,
			file + `:1: bind-address: invalid value bind address "localhost:http": port "http" is not a number from 0 to 65535`},
		{"negative limit", "[coordinator]\nmax-select-series = -5\n", config.ErrInvalidValue,
			file + `:2: [coordinator] max-select-series: invalid value -5: must not be negative`},
		{"negative duration", "[coordinator]\nquery-timeout = \"-1s\"\n", config.ErrInvalidValue,
			file + `:2: [coordinator] query-timeout: invalid value "-1s": must not be negative`},
		{"zero interval", "[retention]\ncheck-interval = \"0s\"\n", config.ErrInvalidValue,
			file + `:2: [retention] check-interval: invalid value "0s": must be positive while the service is enabled`},
		{"index", "[data]\nindex-version = \"tsm\"\n", config.ErrInvalidValue,
			file + `:2: [data] index-version: invalid value "tsm": want "inmem" or "tsi1"`},
		{"empty dir", "[data]\nwal-dir = \"\"\n", config.ErrInvalidValue,
			file + `:2: [data] wal-dir: invalid value: must not be empty`},
		{"log level", "[logging]\nlevel = \"verbose\"\n", config.ErrInvalidValue,
			file + `:2: [logging] level: invalid value "verbose": want "debug", "info", "warn" or "error"`},
		{"status filter", "[http]\naccess-log-status-filters = [\"5xx\", \"6xx\"]\n", config.ErrInvalidValue,
			file + `:2: [http] access-log-status-filters: invalid value element 1 "6xx": want three characters, a digit 1-5 then digits or x ("5xx", "404")`},
		{"tls version", "[tls]\nmin-version = \"ssl3.0\"\n", config.ErrInvalidValue,
			file + `:2: [tls] min-version: invalid value "ssl3.0": want "tls1.0", "tls1.1", "tls1.2" or "tls1.3"`},
		{"tls order", "[tls]\nmin-version = \"tls1.3\"\nmax-version = \"tls1.2\"\n", config.ErrInvalidValue,
			file + `:3: [tls] max-version: invalid value "tls1.2" is older than min-version "tls1.3"`},
		{"cipher", "[tls]\nciphers = [\"RC4\"]\n", config.ErrInvalidValue,
			file + `:2: [tls] ciphers: invalid value unknown cipher suite "RC4" (names are crypto/tls's, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")`},
		{"https without certificate", "[http]\nhttps-enabled = true\nhttps-certificate = \"\"\n", config.ErrInvalidValue,
			file + `:3: [http] https-certificate: invalid value: must not be empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := config.Parse(file, []byte(tc.doc), nil)
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if c != nil {
				t.Error("a Config came back with the error")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tc.sentinel)
			}
			var e *config.Error
			if !errors.As(err, &e) || e.File != file || e.Line == 0 {
				t.Errorf("error is not an *Error with file and line: %#v", e)
			}
		})
	}
}

// All problems are reported at once, in file order, then the environment's.
func TestParseReportsEveryProblem(t *testing.T) {
	doc := "[data]\ncache-max-memory-size = \"12q\"\nmax-series-per-database = -1\n[http]\nbind-address = \"foo\"\n"
	_, _, err := config.Parse("f.conf", []byte(doc), []string{"INFLUXDB_COORDINATOR_QUERY_TIMEOUT=soon"})
	want := `f.conf:2: [data] cache-max-memory-size: invalid size "12q": unknown suffix "q" (want k, m or g)
environment variable INFLUXDB_COORDINATOR_QUERY_TIMEOUT: [coordinator] query-timeout: invalid duration "soon" (want a number with a unit: ns, us, ms, s, m, h; e.g. "10s", "1h30m")
f.conf:3: [data] max-series-per-database: invalid value -1: must not be negative
f.conf:5: [http] bind-address: invalid value bind address "foo": want host:port, e.g. ":8086" or "127.0.0.1:8086"`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.conf")
	_, _, err := config.Load(path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load of a missing file: %v", err)
	}
}

func TestLoadErrorNamesPath(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "influxdb.conf")
	if err := os.WriteFile(path, []byte("[data]\n\ncache-max-memory-size = \"12q\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := config.Load(path)
	want := path + `:3: [data] cache-max-memory-size: invalid size "12q"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want it to start with %s", err, want)
	}
}

func TestWarningsAndErrorsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("[data]\n")
	for i := range 300 {
		b.WriteString("unknown-" + strconv.Itoa(i) + " = 1\n")
	}
	_, warns, err := config.Parse("f.conf", []byte(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 101 || !strings.Contains(warns[100], "200 more warnings not shown") {
		t.Fatalf("%d warnings, last %q", len(warns), warns[len(warns)-1])
	}

	b.Reset()
	b.WriteString("[http]\naccess-log-status-filters = [")
	for range 300 {
		b.WriteString(`"999",`)
	}
	b.WriteString("]\n")
	_, _, err = config.Parse("f.conf", []byte(b.String()), nil)
	if err == nil || strings.Count(err.Error(), "\n") != 100 || !strings.Contains(err.Error(), "200 more errors not shown") {
		t.Fatalf("errors not capped: %d lines", strings.Count(err.Error(), "\n"))
	}
}
