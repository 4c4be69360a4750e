package monitor_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/services/monitor"
	"github.com/stratadb/strata/internal/stats"
)

// TestPoints pins the statistic → point mapping through its line-protocol
// text.
func TestPoints(t *testing.T) {
	sts := []stats.Statistic{
		{Name: "shard", Tags: map[string]string{"path": "/a b", "id": "3", "empty": ""}, Values: map[string]any{
			"i": int(-1), "i64": int64(2), "u32": uint32(3), "u64": uint64(4), "huge": uint64(math.MaxUint64),
			"f": 0.25, "nan": math.NaN(), "inf": math.Inf(1), "b": false, "s": `q"x`, "d": 2 * time.Second,
			"skip": []int{1}, "nil": nil,
		}},
		{Name: "novalues", Values: map[string]any{"x": struct{}{}}},
		{Name: "", Values: map[string]any{"x": 1}},
		{Name: "runtime", Values: map[string]any{"NumGC": int64(9)}},
	}
	var got []byte
	for _, p := range monitor.Points(sts, time.Unix(0, 42)) {
		got = lineprotocol.AppendPoint(got, &p)
	}
	want := `shard,id=3,path=/a\ b b=false,d=2000000000i,f=0.25,huge=18446744073709551615u,i=-1i,i64=2i,s="q\"x",u32=3i,u64=4i 42
runtime NumGC=9i 42
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Fatalf("points (-want +got):\n%s", diff)
	}
}

func TestStatsRows(t *testing.T) {
	sts := []stats.Statistic{
		{Name: "write", Tags: map[string]string{}, Values: map[string]any{"writeOk": int64(2), "req": int64(3)}},
		{Name: "shard", Tags: map[string]string{"id": "2"}, Values: map[string]any{"b": 1}},
		{Name: "shard", Tags: map[string]string{"id": "1"}, Values: map[string]any{"b": 2, "a": 3}},
	}
	got := monitor.StatsRows(sts, "")
	want := []*monitor.Row{
		{Name: "shard", Tags: map[string]string{"id": "1"}, Columns: []string{"a", "b"}, Values: [][]any{{3, 2}}},
		{Name: "shard", Tags: map[string]string{"id": "2"}, Columns: []string{"b"}, Values: [][]any{{1}}},
		{Name: "write", Tags: map[string]string{}, Columns: []string{"req", "writeOk"}, Values: [][]any{{int64(3), int64(2)}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SHOW STATS rows (-want +got):\n%s", diff)
	}
	if got := monitor.StatsRows(sts, "write"); len(got) != 1 || got[0].Name != "write" {
		t.Fatalf("SHOW STATS FOR 'write': %+v", got)
	}
	if got := monitor.StatsRows(sts, "nope"); len(got) != 0 {
		t.Fatalf("SHOW STATS FOR 'nope': %+v", got)
	}

	// The monitor adds runtime to its reporters' statistics.
	m := monitor.New(monitor.Config{}, nil, nil, monitor.Options{})
	m.AddReporter(reporter(sts))
	rows := m.StatsRows("runtime")
	if len(rows) != 1 {
		t.Fatalf("SHOW STATS FOR 'runtime': %d rows", len(rows))
	}
	wantCols := []string{"Alloc", "Frees", "HeapAlloc", "HeapIdle", "HeapInUse", "HeapObjects", "HeapReleased",
		"HeapSys", "Lookups", "Mallocs", "NumGC", "NumGoroutine", "PauseTotalNs", "Sys", "TotalAlloc"}
	if diff := cmp.Diff(wantCols, rows[0].Columns); diff != "" {
		t.Fatalf("runtime columns (-want +got):\n%s", diff)
	}
	if len(m.StatsRows("")) != 4 {
		t.Fatalf("SHOW STATS: want 4 rows")
	}
}

func TestDiagnostics(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	cfg := config.NewConfig()
	cfg.Retention.Enabled = false
	m := monitor.New(monitor.Config{}, nil, nil, monitor.Options{
		Now: func() time.Time { return now }, Hostname: "box",
		Build:  monitor.BuildInfo{Version: "1.2.3", Commit: "abc", Branch: "main", Time: "2026-01-01"},
		Config: cfg,
		ExtraDiagnostics: map[string]map[string]any{
			"config-subscriber": {"enabled": true, "http-timeout": "30s"},
		},
	})
	now = start.Add(90 * time.Second)

	var names []string
	for _, r := range m.Diagnostics("") {
		names = append(names, r.Name)
		if len(r.Values) != 1 || len(r.Values[0]) != len(r.Columns) {
			t.Fatalf("section %s: columns %v, values %v", r.Name, r.Columns, r.Values)
		}
	}
	wantNames := []string{"build", "config", "config-coordinator", "config-cqs", "config-data", "config-httpd",
		"config-meta", "config-monitor", "config-precreator", "config-retention", "config-subscriber",
		"network", "runtime", "system"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("sections (-want +got):\n%s", diff)
	}

	tests := []struct {
		module string
		want   *monitor.Row
	}{
		{"build", &monitor.Row{Name: "build", Columns: []string{"Branch", "Build Time", "Commit", "Version"},
			Values: [][]any{{"main", "2026-01-01", "abc", "1.2.3"}}}},
		{"network", &monitor.Row{Name: "network", Columns: []string{"hostname"}, Values: [][]any{{"box"}}}},
		{"config-retention", &monitor.Row{Name: "config-retention", Columns: []string{"enabled"}, Values: [][]any{{false}}}},
		{"config-monitor", &monitor.Row{Name: "config-monitor",
			Columns: []string{"store-database", "store-enabled", "store-interval"},
			Values:  [][]any{{"_internal", true, "10s"}}}},
		{"config-precreator", &monitor.Row{Name: "config-precreator",
			Columns: []string{"advance-period", "check-interval", "enabled"},
			Values:  [][]any{{"30m0s", "10m0s", true}}}},
	}
	for _, tc := range tests {
		got := m.Diagnostics(tc.module)
		if len(got) != 1 {
			t.Fatalf("SHOW DIAGNOSTICS FOR '%s': %d rows", tc.module, len(got))
		}
		if diff := cmp.Diff(tc.want, got[0]); diff != "" {
			t.Fatalf("SHOW DIAGNOSTICS FOR '%s' (-want +got):\n%s", tc.module, diff)
		}
	}

	sys := m.Diagnostics("system")[0]
	if diff := cmp.Diff([]string{"PID", "currentTime", "started", "uptime"}, sys.Columns); diff != "" {
		t.Fatalf("system columns (-want +got):\n%s", diff)
	}
	if got := sys.Values[0][1:]; !cmp.Equal(got, []any{"2026-01-01T00:01:30Z", "2026-01-01T00:00:00Z", "1m30s"}) {
		t.Fatalf("system values: %v", got)
	}
	rt := m.Diagnostics("runtime")[0]
	if diff := cmp.Diff([]string{"GOARCH", "GOMAXPROCS", "GOOS", "version"}, rt.Columns); diff != "" {
		t.Fatalf("runtime columns (-want +got):\n%s", diff)
	}
}

// exposition gathers sts through monitor's collector and a pedantic
// client_golang registry (which checks every metric it is given) and
// renders them in the text format, as a scraper would read them.
func exposition(t testing.TB, sts []stats.Statistic) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(monitor.NewCollector(func() []stats.Statistic { return sts }))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatalf("render: %v", err)
		}
	}
	return b.String()
}

func TestCollector(t *testing.T) {
	sts := []stats.Statistic{
		{Name: "httpd", Tags: map[string]string{"bind": ":8086"}, Values: map[string]any{
			"req": int64(10), "reqActive": int64(1), "pointsWrittenOK": int64(7), "s": "skipped",
		}},
		{Name: "httpd", Tags: map[string]string{"bind": ":8087"}, Values: map[string]any{"req": int64(2)}},
		{Name: "httpd", Tags: map[string]string{"bind": ":8086"}, Values: map[string]any{"req": int64(99)}}, // duplicate series
		{Name: "shard", Tags: map[string]string{"retentionPolicy": "a\"b\\c\nd", "9x": "v"}, Values: map[string]any{
			"diskBytes": int64(4096), "numSeries": int64(3), "writeReqBytes": uint64(5),
		}},
		{Name: "runtime", Values: map[string]any{"HeapInUse": int64(8), "NumGC": int64(2), "ok": true, "f": 0.5}},
	}
	var b strings.Builder
	b.WriteString(exposition(t, sts))
	want := `# HELP strata_httpd_points_written_ok_total Strata statistic httpd value pointsWrittenOK (counter).
# TYPE strata_httpd_points_written_ok_total counter
strata_httpd_points_written_ok_total{bind=":8086"} 7
# HELP strata_httpd_req_active Strata statistic httpd value reqActive (gauge).
# TYPE strata_httpd_req_active gauge
strata_httpd_req_active{bind=":8086"} 1
# HELP strata_httpd_req_total Strata statistic httpd value req (counter).
# TYPE strata_httpd_req_total counter
strata_httpd_req_total{bind=":8086"} 10
strata_httpd_req_total{bind=":8087"} 2
# HELP strata_runtime_f_total Strata statistic runtime value f (counter).
# TYPE strata_runtime_f_total counter
strata_runtime_f_total 0.5
# HELP strata_runtime_heap_in_use Strata statistic runtime value HeapInUse (gauge).
# TYPE strata_runtime_heap_in_use gauge
strata_runtime_heap_in_use 8
# HELP strata_runtime_num_gc_total Strata statistic runtime value NumGC (counter).
# TYPE strata_runtime_num_gc_total counter
strata_runtime_num_gc_total 2
# HELP strata_runtime_ok_total Strata statistic runtime value ok (counter).
# TYPE strata_runtime_ok_total counter
strata_runtime_ok_total 1
# HELP strata_shard_disk_bytes Strata statistic shard value diskBytes (gauge).
# TYPE strata_shard_disk_bytes gauge
strata_shard_disk_bytes{_9x="v",retention_policy="a\"b\\c\nd"} 4096
# HELP strata_shard_num_series Strata statistic shard value numSeries (gauge).
# TYPE strata_shard_num_series gauge
strata_shard_num_series{_9x="v",retention_policy="a\"b\\c\nd"} 3
# HELP strata_shard_write_req_bytes_total Strata statistic shard value writeReqBytes (counter).
# TYPE strata_shard_write_req_bytes_total counter
strata_shard_write_req_bytes_total{_9x="v",retention_policy="a\"b\\c\nd"} 5
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Fatalf("exposition (-want +got):\n%s", diff)
	}
}

func TestSnakeCaseNames(t *testing.T) {
	// Observed through metric names: strata_<stat>_<value>[_total].
	tests := map[string]string{
		"pointsWrittenOK":      "strata_x_points_written_ok_total",
		"HeapInUse":            "strata_x_heap_in_use_total",
		"tsmLevel2Compactions": "strata_x_tsm_level2_compactions_total",
		"writeReqDurationNs":   "strata_x_write_req_duration_ns_total",
		"a.b-c":                "strata_x_a_b_c_total",
		"OKThen":               "strata_x_ok_then_total",
		"already_snake":        "strata_x_already_snake_total",
	}
	for in, want := range tests {
		text := exposition(t, []stats.Statistic{{Name: "x", Values: map[string]any{in: 1}}})
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if got := strings.Fields(lines[len(lines)-1])[0]; got != want {
			t.Errorf("%q: metric %q, want %q", in, got, want)
		}
	}
}
