package query_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
)

// discardWriter accepts the points of SELECT … INTO and drops them.
type discardWriter struct{}

func (discardWriter) WritePoints(context.Context, string, string, []models.Point) error { return nil }

// FuzzSelect parses arbitrary text and runs every SELECT it finds against a
// small fixed data set: errors are fine, panics and hangs are not.
func FuzzSelect(f *testing.F) {
	// Seeds: every query of the golden files, and a few odd ones.
	files, _ := filepath.Glob("testdata/*.test")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "query ") && i+1 < len(lines) {
				f.Add(lines[i+1])
			}
		}
	}
	for _, q := range []string{
		"SELECT top(v, h, nothere, 3), * FROM /.*/ GROUP BY *",
		"SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1ns) fill(linear)",
		"SELECT percentile(v, -5), percentile(v, 1e300) FROM cpu",
		"SELECT v FROM cpu WHERE v =~ /x/ OR h =~ /a/ AND s > 1",
		"SELECT integral(v, 1ns) FROM cpu GROUP BY time(1s, -1ns) tz('Asia/Kolkata')",
		"SELECT count(distinct(s)) + 1 FROM cpu ORDER BY time DESC SLIMIT 1 SOFFSET 1",
		"SELECT derivative(mean(v), 1ns), holt_winters_with_fit(max(i), 3, 2) FROM cpu WHERE time > 0 GROUP BY time(7s) fill(linear)",
		"SELECT moving_average(difference(v), 2), chande_momentum_oscillator(i, 1, 0, 'none') FROM cpu GROUP BY *",
		"SELECT max(x) FROM (SELECT derivative(v) AS x FROM (SELECT * FROM cpu GROUP BY h) GROUP BY r) GROUP BY h, time(20s)",
		"SELECT sqrt(v) INTO db.autogen.:MEASUREMENT FROM /.*/ GROUP BY *",
		"EXPLAIN ANALYZE SELECT kaufmans_adaptive_moving_average(v, 1), abs(i) FROM cpu WHERE sqrt(v) > 1",
		"EXPLAIN SELECT mean(m) FROM (SELECT max(v) AS m FROM cpu GROUP BY time(1s))",
	} {
		f.Add(q)
	}
	s := newStack(f, query.EngineOptions{
		MaxSelectBucketsN: 2000,
		MaxSelectPointN:   100000,
		QueryTimeout:      5 * time.Second,
		Workers:           2,
		PointsWriter:      discardWriter{}, // SELECT … INTO must not change the data set
	})
	s.now = time.Date(1970, 1, 1, 0, 2, 0, 0, time.UTC)
	s.write("db", "", "", strings.Join([]string{
		`cpu,h=a,r=x v=1,i=1i,s="a",b=true 10000000000`,
		`cpu,h=b v=2.5,i=-2i,s="b" 20000000000`,
		`cpu,h=a,r=y v=-3,b=false 30000000000`,
		`cpu v=4,i=4i 40000000000`,
		`mem,h=a free=1i,u=5u 15000000000`,
	}, "\n"))
	s.flush()
	s.write("db", "", "", `cpu,h=a,r=x v=7,i=7i 50000000000`)

	f.Fuzz(func(t *testing.T, text string) {
		q, err := influxql.NewParser(strings.NewReader(text)).ParseQuery()
		if err != nil {
			return
		}
		for _, stmt := range q.Statements {
			rows := 0
			count := func(r *query.Result) error {
				for _, row := range r.Series {
					rows += len(row.Values)
				}
				return nil
			}
			opts := query.ExecutionOptions{Database: "db", ChunkSize: 100}
			var err error
			switch stmt := stmt.(type) {
			case *influxql.SelectStatement:
				err = s.engine.Select(context.Background(), stmt, opts, count)
			case *influxql.ExplainStatement:
				err = s.engine.Explain(context.Background(), stmt, opts, count)
			default:
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
			if rows > 1000000 {
				t.Fatalf("%s: %d rows", stmt, rows)
			}
		}
	})
}
