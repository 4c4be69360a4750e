package config_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stratadb/strata/internal/config"
)

// Loading happens once per start, so these numbers matter little; they are
// here to catch an accidental blow-up (a quadratic key lookup, a parse per
// key).

func benchParse(b *testing.B, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := config.Parse(path, data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDebian(b *testing.B) { benchParse(b, debianConf) }

func BenchmarkParseFull(b *testing.B) { benchParse(b, "testdata/full.conf") }

func BenchmarkWriteTOML(b *testing.B) {
	c := config.NewConfig()
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if err := c.WriteTOML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyEnv(b *testing.B) {
	// A typical process environment: some unrelated variables and a few
	// overrides.
	env := []string{"PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8", "TERM=xterm", "INFLUXDB_DB=telegraf",
		"INFLUXDB_HTTP_BIND_ADDRESS=:9999", "STRATA_DATA_CACHE_MAX_MEMORY_SIZE=2g", "INFLUXDB_TLS_CIPHERS=A,B"}
	b.ReportAllocs()
	for b.Loop() {
		if err := config.NewConfig().ApplyEnv(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSize(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(3)
	for b.Loop() {
		if _, err := config.ParseSize("25m"); err != nil {
			b.Fatal(err)
		}
	}
}
