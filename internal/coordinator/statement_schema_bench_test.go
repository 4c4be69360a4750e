package coordinator_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// BenchmarkSchemaMillion answers schema statements over a million series
// (STRATA_BENCH_SERIES overrides; -short uses 20 000) of one measurement
// with TSBS cpu-like tags: hostname unique per series, nine more keys of
// small cardinality. Building the data takes a while; the statements do
// not read any data block.
func BenchmarkSchemaMillion(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("STRATA_BENCH_SERIES"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	if testing.Short() {
		n = 20_000
	}
	e := newEnv(b, envOptions{})
	e.mustRun("CREATE DATABASE db0", query.ExecutionOptions{})
	began := time.Now()
	writeTSBSLike(b, e, n)
	b.Logf("%d series written in %v", n, time.Since(began).Round(time.Millisecond))
	opts := query.ExecutionOptions{Database: "db0"}
	for _, q := range []string{
		"SHOW SERIES LIMIT 1",
		"SHOW SERIES LIMIT 10 OFFSET 1000",
		`SHOW TAG VALUES WITH KEY = "hostname" LIMIT 10`,
		"SHOW MEASUREMENTS",
		"SHOW SERIES CARDINALITY",
		"SHOW SERIES EXACT CARDINALITY",
		"SHOW TAG KEYS",
		"SHOW TAG VALUES WITH KEY = region",
		"SHOW SERIES WHERE region = 'region3' AND rack = 'rack42' LIMIT 10",
		"SHOW TAG VALUES EXACT CARDINALITY WITH KEY = hostname",
	} {
		b.Run(q, func(b *testing.B) { benchQuery(b, e, q, opts) })
	}
}

// writeTSBSLike writes n series of measurement cpu, one point each.
func writeTSBSLike(b *testing.B, e *env, n int) {
	b.Helper()
	keys := []string{"arch", "datacenter", "hostname", "os", "rack", "region", "service", "service_environment", "service_version", "team"}
	card := []int{2, 30, 0, 3, 100, 10, 20, 3, 2, 4}
	batch := make([]models.Point, 0, 10000)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range n {
		tags := make([]models.Tag, len(keys))
		for k, key := range keys {
			v := fmt.Sprintf("%s%d", key, i%max(card[k], 1))
			if card[k] == 0 {
				v = fmt.Sprintf("host_%d", i)
			}
			tags[k] = models.Tag{Key: []byte(key), Value: []byte(v)}
		}
		batch = append(batch, models.Point{Measurement: []byte("cpu"), Tags: tags,
			Fields: []models.Field{models.FloatField([]byte("usage_user"), float64(i%100))}, Time: t0})
		if len(batch) == cap(batch) || i == n-1 {
			if err := e.writer.WritePoints(context.Background(), "db0", "", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}
