package config

import (
	"reflect"
	"strings"
	"testing"
)

// debianConf is installed by Debian's influxdb package (CI installs it).
const debianConf = "/etc/influxdb/influxdb.conf"

// TestSchemaMatchesStructTags checks that the key table and the toml tags
// on Config describe the same keys and fields, so that neither can drift.
func TestSchemaMatchesStructTags(t *testing.T) {
	c := &Config{}
	s := newSchema()
	tagged := map[string]uintptr{} // "section.key" → field address
	var walk func(prefix string, v reflect.Value)
	walk = func(section string, v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			tag := sf.Tag.Get("toml")
			if tag == "" {
				t.Fatalf("field %s has no toml tag", sf.Name)
			}
			if sf.Type.Kind() == reflect.Struct && section == "" {
				walk(tag, v.Field(i))
				continue
			}
			tagged[section+"."+tag] = v.Field(i).Addr().Pointer()
		}
	}
	walk("", reflect.ValueOf(c).Elem())

	seen := map[string]bool{}
	for _, f := range s {
		name := f.section + "." + f.key
		if seen[name] {
			t.Errorf("key %s listed twice", name)
		}
		seen[name] = true
		addr, ok := tagged[name]
		if !ok {
			t.Errorf("key %s is in the table but no Config field has that tag", name)
			continue
		}
		if got := reflect.ValueOf(f.ptr(c)).Pointer(); got != addr {
			t.Errorf("key %s points at a different field than the one tagged %q", name, f.key)
		}
		if strings.TrimSpace(f.doc) == "" {
			t.Errorf("key %s has no comment for WriteTOML", name)
		}
		if f.section != "" {
			if _, ok := knownSection(f.section); !ok {
				t.Errorf("key %s is in a section missing from sectionList", name)
			}
		}
	}
	for name := range tagged {
		if !seen[name] {
			t.Errorf("Config field tagged %s is missing from the key table", name)
		}
	}
}

func TestEnvNamesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, f := range newSchema() {
		n := envBase(&f)
		if prev, ok := seen[n]; ok {
			t.Errorf("%s.%s and %s share the environment name %s", f.section, f.key, prev, n)
		}
		seen[n] = f.section + "." + f.key
	}
	for _, tc := range []struct{ section, key, want string }{
		{"http", "bind-address", "HTTP_BIND_ADDRESS"},
		{"data", "wal-dir", "DATA_WAL_DIR"},
		{"meta", "dir", "META_DIR"},
		{"shard-precreation", "advance-period", "SHARD_PRECREATION_ADVANCE_PERIOD"},
		{"continuous_queries", "run-interval", "CONTINUOUS_QUERIES_RUN_INTERVAL"},
		{"", "reporting-disabled", "REPORTING_DISABLED"},
	} {
		f := field{section: tc.section, key: tc.key}
		if got := envBase(&f); got != tc.want {
			t.Errorf("envBase(%s.%s) = %s, want %s", tc.section, tc.key, got, tc.want)
		}
	}
}

func TestSchemaIndexFoldsCase(t *testing.T) {
	s := newSchema()
	for _, tc := range []struct {
		section, key string
		want         string // "" for not found
	}{
		{"data", "wal-dir", "wal-dir"},
		{"data", "WAL-Dir", "wal-dir"},
		{"", "Bind-Address", "bind-address"},
		{"data", "wal_dir", ""},
		{"http", "dir", ""},
	} {
		i := s.index(tc.section, tc.key)
		got := ""
		if i >= 0 {
			got = s[i].key
		}
		if got != tc.want {
			t.Errorf("index(%q, %q) found %q, want %q", tc.section, tc.key, got, tc.want)
		}
	}
	if name, ok := knownSection("Continuous_Queries"); !ok || name != "continuous_queries" {
		t.Errorf("knownSection folds case: got %q, %v", name, ok)
	}
	if equalFold("k", "\u212a") {
		t.Error("equalFold must not fold the Kelvin sign to k")
	}
}
