package monitor_test

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/services/monitor"
	"github.com/stratadb/strata/internal/stats"
)

// benchStats is what a server with n shards reports: five statistics per
// shard, eight values each.
func benchStats(n int) []stats.Statistic {
	var out []stats.Statistic
	for i := range n {
		tags := map[string]string{"database": "db", "retentionPolicy": "autogen", "id": strconv.Itoa(i), "path": "/var/lib/strata/data/db/autogen/" + strconv.Itoa(i)}
		for _, name := range []string{"shard", "tsm1_engine", "tsm1_cache", "tsm1_filestore", "tsm1_wal"} {
			vals := map[string]any{}
			for _, k := range []string{"writeReq", "writePointsOk", "diskBytes", "numSeries", "seriesCreate", "memBytes", "writeOk", "writeErr"} {
				vals[k] = int64(i * 1000)
			}
			out = append(out, stats.Statistic{Name: name, Tags: tags, Values: vals})
		}
	}
	return append(out, monitor.RuntimeStatistic())
}

// BenchmarkMetricsScrape: one GET /metrics of a server with 200 shards,
// through client_golang's registry and text exposition.
func BenchmarkMetricsScrape(b *testing.B) {
	sts := benchStats(200)
	h := monitor.MetricsHandler(func() []stats.Statistic { return sts })
	req := httptest.NewRequest("GET", "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}

func BenchmarkPoints(b *testing.B) {
	sts := benchStats(200)
	at := time.Unix(1700000000, 0)
	// Bytes: the points' line-protocol size, a measure of what is built.
	var size int
	for _, p := range monitor.Points(sts, at) {
		size += len(lineprotocol.AppendPoint(nil, &p))
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if len(monitor.Points(sts, at)) != len(sts) {
			b.Fatal("points lost")
		}
	}
}
