package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/config"
)

// FuzzLoad feeds arbitrary bytes to the loader (Parse is Load after the
// file is read). It must never panic; every error must say where it is;
// and whatever loads must write out and load back to the same Config.
func FuzzLoad(f *testing.F) {
	// Small seeds only: the fuzzer minimizes every input that finds new
	// coverage, and minimizing a whole sample file takes longer than a
	// smoke run lasts. The sample files are loaded by the unit tests.
	for _, s := range []string{
		"", "[", "[[meta]]", "meta = 1", "[data]\ncache-max-memory-size = \"1x\"",
		"[meta]\ndir = \"/m\"\n[data]\ndir = \"/d\"\nwal-dir = \"/w\"\n",
		"reporting-enabled = false\n[http]\nbind-address = \":8086\"\nmax-body-size = 25000000\n",
		"[http]\naccess-log-status-filters = [\"5xx\", \"404\"]\nenqueued-write-timeout = 0\n",
		"[tls]\nciphers = [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"]\nmin-version = \"tls1.2\"\n",
		"[[graphite]]\nenabled = true\n[subscriber]\n[my-plugin]\nx = 1\n",
		"[data]\ntsm-use-madv-willneed = true\nunknown = 1\n[http.headers]\nX = \"y\"\n",
		"[coordinator]\nquery-timeout = \"1h30m\"\nmax-select-point = -1\n",
		"[http]\nbind-address = \"::1\"", "a.b.c.d = 1", "[data.dir]", "x = \"\"\"\n\"\"\"",
		"[tls]\nciphers = [1, \"a\"]", "[coordinator]\nquery-timeout = 1e3",
		"[http]\nrealm = \"\\u0000\\u007f\"", "reporting-enabled = 5",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := config.Parse("f.conf", data, nil)
		if err != nil {
			if c != nil {
				t.Fatal("Config returned with an error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.conf") {
					t.Fatalf("error line without a location: %q", line)
				}
			}
			var e *config.Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		var b bytes.Buffer
		if err := c.WriteTOML(&b); err != nil {
			t.Fatalf("WriteTOML of a loaded config: %v", err)
		}
		back, warns, err := config.Parse("written.conf", b.Bytes(), nil)
		if err != nil || len(warns) != 0 {
			t.Fatalf("written config does not load cleanly: %v %q\n%s", err, warns, b.Bytes())
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("round trip changed the config:\n%s", diff)
		}
	})
}

// FuzzApplyEnv sets one variable to anything. No panic, errors name the
// variable, and a valid result writes out and loads back unchanged.
func FuzzApplyEnv(f *testing.F) {
	for _, s := range [][2]string{
		{"INFLUXDB_HTTP_REALM", "a\"b\\c\n"}, {"STRATA_TLS_CIPHERS", "A,,B"}, {"INFLUXDB_TLS_CIPHERS_0", "x"},
		{"INFLUXDB_DATA_CACHE_MAX_MEMORY_SIZE", "9g"}, {"INFLUXDB_HTTP_ENQUEUED_WRITE_TIMEOUT", "-5"},
		{"INFLUXDB_HTTP_MAX_BODY_SIZE", "0b101"}, {"INFLUXDB_META_DIR", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		c := config.NewConfig()
		if err := c.ApplyEnv([]string{name + "=" + value}); err != nil {
			if !strings.HasPrefix(err.Error(), "environment variable "+name) {
				t.Fatalf("error does not name %s: %v", name, err)
			}
			return
		}
		if c.Validate() != nil {
			return
		}
		var b bytes.Buffer
		if err := c.WriteTOML(&b); err != nil {
			t.Fatalf("WriteTOML of a valid config: %v", err)
		}
		back, _, err := config.Parse("written.conf", b.Bytes(), nil)
		if err != nil {
			t.Fatalf("written config does not load: %v", err)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("round trip changed the config:\n%s", diff)
		}
	})
}

// FuzzParseSize: no panic, and a parsed size prints back to itself.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1k", "25M", "1g", "8589934591g", "8589934592g", "12q", "", "-1", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := config.ParseSize(s)
		if err != nil {
			if !errors.Is(err, config.ErrInvalidSize) {
				t.Fatalf("error %v does not wrap ErrInvalidSize", err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, int64(v))
		}
		back, err := config.ParseSize(v.String())
		if err != nil || back != v {
			t.Fatalf("ParseSize(%q) = %d prints as %q, which parses as %d, %v", s, int64(v), v.String(), int64(back), err)
		}
	})
}
