package query_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/query"
)

// benchStack holds 1M points: 10 series of 100,000 float points, one per
// second, flushed to data files.
func benchStack(b *testing.B) (*stack, time.Time) {
	b.Helper()
	s := newStack(b, query.EngineOptions{})
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	const series, points = 10, 100_000
	for h := range series {
		var sb strings.Builder
		for i := range points {
			fmt.Fprintf(&sb, "cpu,host=h%d v=%d.5 %d\n", h, i%1000, start.Add(time.Duration(i)*time.Second).UnixNano())
		}
		s.write("db", "", "", sb.String())
	}
	s.flush()
	return s, start
}

func BenchmarkQuery(b *testing.B) {
	s, start := benchStack(b)
	noPushdown := query.NewEngine(query.EngineOptions{DisablePushdown: true, Now: func() time.Time { return s.now }},
		&query.LocalShardMapper{Meta: s.meta, Store: s.store}, s.meta)
	defer noPushdown.Close()
	end := start.Add(100_000 * time.Second)
	rng := fmt.Sprintf("time >= '%s' AND time < '%s'", start.Format(time.RFC3339), end.Format(time.RFC3339))
	run := func(b *testing.B, e *query.Engine, q string, points int) { runSelect(b, e, q, points) }
	b.Run("raw_scan_100k", func(b *testing.B) {
		run(b, s.engine, "SELECT v FROM cpu WHERE host = 'h3'", 100_000)
	})
	b.Run("raw_scan_1M_merge_10_series", func(b *testing.B) {
		run(b, s.engine, "SELECT v FROM cpu", 1_000_000)
	})
	b.Run("mean_1h_1M/pushdown", func(b *testing.B) {
		run(b, s.engine, "SELECT mean(v) FROM cpu WHERE "+rng+" GROUP BY time(1h)", 1_000_000)
	})
	b.Run("mean_1h_1M/decode", func(b *testing.B) {
		run(b, noPushdown, "SELECT mean(v) FROM cpu WHERE "+rng+" GROUP BY time(1h)", 1_000_000)
	})
	b.Run("mean_1d_1M/pushdown", func(b *testing.B) {
		run(b, s.engine, "SELECT mean(v) FROM cpu WHERE "+rng+" GROUP BY time(1d)", 1_000_000)
	})
	b.Run("mean_1d_1M/decode", func(b *testing.B) {
		run(b, noPushdown, "SELECT mean(v) FROM cpu WHERE "+rng+" GROUP BY time(1d)", 1_000_000)
	})
	b.Run("count_sum_max_1M/pushdown", func(b *testing.B) {
		run(b, s.engine, "SELECT count(v), sum(v), max(v) FROM cpu", 1_000_000)
	})
	b.Run("count_sum_max_1M/decode", func(b *testing.B) {
		run(b, noPushdown, "SELECT count(v), sum(v), max(v) FROM cpu", 1_000_000)
	})
	b.Run("mean_1m_by_host_1M", func(b *testing.B) {
		run(b, s.engine, "SELECT mean(v) FROM cpu WHERE "+rng+" GROUP BY time(1m), host", 1_000_000)
	})
	b.Run("median_1h_1M", func(b *testing.B) {
		run(b, s.engine, "SELECT median(v) FROM cpu WHERE "+rng+" GROUP BY time(1h)", 1_000_000)
	})
	b.Run("where_field_1M", func(b *testing.B) {
		run(b, s.engine, "SELECT count(v) FROM cpu WHERE v > 500", 1_000_000)
	})
	b.Run("limit_5", func(b *testing.B) {
		run(b, s.engine, "SELECT v FROM cpu LIMIT 5", 5)
	})
	b.Run("last", func(b *testing.B) {
		run(b, s.engine, "SELECT last(v) FROM cpu GROUP BY host", 10)
	})
}

func runBench(b *testing.B, s *stack, q string, points int) { runSelect(b, s.engine, q, points) }

// runSelect runs q b.N times and reports the points read per second.
func runSelect(b *testing.B, e *query.Engine, q string, points int) {
	stmt, err := influxql.ParseStatement(q)
	if err != nil {
		b.Fatal(err)
	}
	sel := stmt.(*influxql.SelectStatement)
	b.ReportAllocs()
	b.SetBytes(int64(points) * 16) // a point is a time and a value
	b.ResetTimer()
	for b.Loop() {
		rows := 0
		err := e.Select(context.Background(), sel, query.ExecutionOptions{Database: "db", ChunkSize: 10000}, func(r *query.Result) error {
			if r.Err != nil {
				return r.Err
			}
			for _, row := range r.Series {
				rows += len(row.Values)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if rows == 0 {
			b.Fatal("no rows")
		}
	}
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}
