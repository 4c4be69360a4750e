package config_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/config"
)

func TestApplyEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		check   func(c *config.Config) bool
	}{
		{"influxdb prefix", []string{"INFLUXDB_HTTP_BIND_ADDRESS=:9999"},
			func(c *config.Config) bool { return c.HTTP.BindAddress == ":9999" }},
		{"strata prefix", []string{"STRATA_DATA_WAL_DIR=/wal"},
			func(c *config.Config) bool { return c.Data.WALDir == "/wal" }},
		{"strata wins over influxdb", []string{"STRATA_META_DIR=/s", "INFLUXDB_META_DIR=/i"},
			func(c *config.Config) bool { return c.Meta.Dir == "/s" }},
		{"strata wins whatever the order", []string{"INFLUXDB_META_DIR=/i", "STRATA_META_DIR=/s"},
			func(c *config.Config) bool { return c.Meta.Dir == "/s" }},
		{"empty strata falls back to influxdb", []string{"STRATA_META_DIR=", "INFLUXDB_META_DIR=/i"},
			func(c *config.Config) bool { return c.Meta.Dir == "/i" }},
		{"last duplicate wins", []string{"INFLUXDB_META_DIR=/a", "INFLUXDB_META_DIR=/b"},
			func(c *config.Config) bool { return c.Meta.Dir == "/b" }},
		{"values are trimmed", []string{"INFLUXDB_META_DIR=  /m  "},
			func(c *config.Config) bool { return c.Meta.Dir == "/m" }},
		{"top-level key", []string{"INFLUXDB_REPORTING_DISABLED=true", "INFLUXDB_BIND_ADDRESS=:1"},
			func(c *config.Config) bool { return c.ReportingDisabled && c.BindAddress == ":1" }},
		{"section with dash", []string{"INFLUXDB_SHARD_PRECREATION_ADVANCE_PERIOD=1h"},
			func(c *config.Config) bool { return c.ShardPrecreation.AdvancePeriod == config.Duration(time.Hour) }},
		{"section with underscore", []string{"INFLUXDB_CONTINUOUS_QUERIES_RUN_INTERVAL=5s"},
			func(c *config.Config) bool { return c.ContinuousQueries.RunInterval == config.Duration(5*time.Second) }},
		{"bool forms", []string{"INFLUXDB_HTTP_AUTH_ENABLED=1", "INFLUXDB_HTTP_PPROF_ENABLED=F"},
			func(c *config.Config) bool { return c.HTTP.AuthEnabled && !c.HTTP.PprofEnabled }},
		{"int with base prefix", []string{"INFLUXDB_HTTP_MAX_ROW_LIMIT=0x10"},
			func(c *config.Config) bool { return c.HTTP.MaxRowLimit == 16 }},
		{"size", []string{"INFLUXDB_DATA_CACHE_MAX_MEMORY_SIZE=2g"},
			func(c *config.Config) bool { return c.Data.CacheMaxMemorySize == 2<<30 }},
		{"nanosecond duration where 1.x had time.Duration", []string{"INFLUXDB_HTTP_ENQUEUED_WRITE_TIMEOUT=1000"},
			func(c *config.Config) bool { return c.HTTP.EnqueuedWriteTimeout == 1000 }},
		{"list, comma-separated", []string{"INFLUXDB_TLS_CIPHERS=A, B,,C"},
			func(c *config.Config) bool { return cmp.Equal(c.TLS.Ciphers, []string{"A", "B", "C"}) }},
		{"list, indexed", []string{"INFLUXDB_HTTP_ACCESS_LOG_STATUS_FILTERS_0=5xx", "INFLUXDB_HTTP_ACCESS_LOG_STATUS_FILTERS_1=404"},
			func(c *config.Config) bool { return cmp.Equal(c.HTTP.AccessLogStatusFilters, []string{"5xx", "404"}) }},
		{"list, indexed replaces one element", []string{"INFLUXDB_TLS_CIPHERS=A,B,C", "INFLUXDB_TLS_CIPHERS_1=X"},
			func(c *config.Config) bool { return cmp.Equal(c.TLS.Ciphers, []string{"A", "X", "C"}) }},
		{"list, indexed gap stops", []string{"INFLUXDB_TLS_CIPHERS_0=A", "INFLUXDB_TLS_CIPHERS_2=C"},
			func(c *config.Config) bool { return cmp.Equal(c.TLS.Ciphers, []string{"A"}) }},
		{"list, strata replaces influxdb", []string{"INFLUXDB_TLS_CIPHERS=A,B", "STRATA_TLS_CIPHERS=C"},
			func(c *config.Config) bool { return cmp.Equal(c.TLS.Ciphers, []string{"C"}) }},
		{"unrelated and unknown variables are ignored", []string{"PATH=/bin", "INFLUXDB_DB=telegraf", "INFLUXDB_HTTP_NOPE=1", "STRATA_X", "=x"},
			func(c *config.Config) bool { return cmp.Equal(c, config.NewConfig()) }},
		{"empty value is ignored", []string{"INFLUXDB_HTTP_BIND_ADDRESS="},
			func(c *config.Config) bool { return c.HTTP.BindAddress == ":8086" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.NewConfig()
			if err := c.ApplyEnv(tc.environ); err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("%q not applied as expected", tc.environ)
			}
		})
	}
}

func TestApplyEnvErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env      string
		sentinel error
		want     string
	}{
		{"INFLUXDB_DATA_CACHE_MAX_MEMORY_SIZE=12q", config.ErrInvalidSize,
			`environment variable INFLUXDB_DATA_CACHE_MAX_MEMORY_SIZE: [data] cache-max-memory-size: invalid size "12q": unknown suffix "q" (want k, m or g)`},
		{"STRATA_HTTP_AUTH_ENABLED=yes please", config.ErrInvalidValue,
			`environment variable STRATA_HTTP_AUTH_ENABLED: [http] auth-enabled: invalid value "yes please": want true or false`},
		{"INFLUXDB_HTTP_MAX_BODY_SIZE=25m", config.ErrInvalidValue,
			`environment variable INFLUXDB_HTTP_MAX_BODY_SIZE: [http] max-body-size: invalid value "25m": want an integer`},
		{"INFLUXDB_COORDINATOR_QUERY_TIMEOUT=30", config.ErrInvalidDuration,
			`environment variable INFLUXDB_COORDINATOR_QUERY_TIMEOUT: [coordinator] query-timeout: invalid duration "30" (want a number with a unit: ns, us, ms, s, m, h; e.g. "10s", "1h30m")`},
		{"INFLUXDB_REPORTING_DISABLED=maybe", config.ErrInvalidValue,
			`environment variable INFLUXDB_REPORTING_DISABLED: reporting-disabled: invalid value "maybe": want true or false`},
	} {
		c := config.NewConfig()
		err := c.ApplyEnv([]string{tc.env})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.env, err, tc.want)
		}
		if !errors.Is(err, tc.sentinel) {
			t.Errorf("%s: %v does not wrap %v", tc.env, err, tc.sentinel)
		}
	}

	// A bad INFLUXDB_ value shadowed by a good STRATA_ one is not parsed.
	c := config.NewConfig()
	if err := c.ApplyEnv([]string{"INFLUXDB_HTTP_MAX_ROW_LIMIT=x", "STRATA_HTTP_MAX_ROW_LIMIT=5"}); err != nil || c.HTTP.MaxRowLimit != 5 {
		t.Errorf("shadowed bad value: %v, max-row-limit %d", err, c.HTTP.MaxRowLimit)
	}

	// Growth of a list from indexed variables is bounded.
	var env []string
	for i := range 70 {
		env = append(env, "INFLUXDB_TLS_CIPHERS_"+strconv.Itoa(i)+"=X")
	}
	if err := config.NewConfig().ApplyEnv(env); err == nil || !strings.Contains(err.Error(), "INFLUXDB_TLS_CIPHERS_64") {
		t.Errorf("unbounded list growth: %v", err)
	}
}

// Load applies the process environment over the file, and a value the
// environment set that Validate rejects is blamed on the variable.
func TestLoadEnvOverridesFile(t *testing.T) {
	clearEnv(t)
	t.Setenv("INFLUXDB_DATA_WAL_DIR", "/from-influx")
	t.Setenv("STRATA_META_DIR", "/from-strata")
	t.Setenv("INFLUXDB_META_DIR", "/loses")
	c, _, err := config.Load("testdata/minimal.conf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Data.WALDir != "/from-influx" || c.Meta.Dir != "/from-strata" || c.Data.Dir != "/srv/strata/data" {
		t.Fatalf("dirs: meta %q data %q wal %q", c.Meta.Dir, c.Data.Dir, c.Data.WALDir)
	}

	t.Setenv("INFLUXDB_HTTP_BIND_ADDRESS", "nowhere")
	_, _, err = config.Load("testdata/full.conf")
	want := `environment variable INFLUXDB_HTTP_BIND_ADDRESS: [http] bind-address: invalid value bind address "nowhere"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want it to start with %s", err, want)
	}
	var e *config.Error
	if !errors.As(err, &e) || e.Env != "INFLUXDB_HTTP_BIND_ADDRESS" || e.File != "" {
		t.Fatalf("error location: %#v", e)
	}
}
