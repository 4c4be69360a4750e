package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stratadb/strata/e2e/harness"
)

// monitorStoreConfig stores statistics every second into store-database
// ("" keeps the default, _internal).
func monitorStoreConfig(db string) string {
	c := "[monitor]\nstore-enabled = true\nstore-interval = \"1s\"\n"
	if db != "" {
		c += fmt.Sprintf("store-database = %q\n", db)
	}
	return c
}

// internalMeasurements are the measurements 1.x's monitor stores that
// Strata has too (1.x's queryExecutor is checked on its own).
func internalMeasurements() []string {
	return []string{
		"cq", "database", "httpd", "runtime", "shard", "subscriber",
		"tsm1_cache", "tsm1_engine", "tsm1_filestore", "tsm1_wal", "write",
	}
}

// showNames answers a SHOW statement whose rows are one name each.
func showNames(t testing.TB, s *harness.Server, q string, kv ...string) []string {
	t.Helper()
	var out []string
	for _, ser := range svcQuery(t, s, q, kv...) {
		for _, row := range ser.Values {
			name, _ := row[0].(string)
			out = append(out, name)
		}
	}
	return out
}

// svcMissing returns the elements of want that have lacks.
func svcMissing(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// TestMonitorStoresStatistics: with store-enabled the monitor creates
// _internal with 1.x's "monitor" policy and stores 1.x's measurements
// under 1.x's field names, with values that follow the traffic; SHOW STATS
// and SHOW DIAGNOSTICS answer in 1.x's shape.
func TestMonitorStoresStatistics(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Config: monitorStoreConfig(""), Env: monitorEnv()})
	createDB(t, s, "db")
	writes, points := 0, 0
	write := func(body string) {
		t.Helper()
		if r := s.Write(params("db", "db"), body); r.Status != http.StatusNoContent {
			t.Fatalf("write: %d %s", r.Status, r.Body)
		}
		writes++
		points += strings.Count(body, "\n") + 1
	}
	write("cpu,host=a v=1 1\ncpu,host=b v=2 2\nmem,host=a v=3 3")

	svcEventually(t, svcTimeout, "the monitor's measurements", func() string {
		if !slices.Contains(showNames(t, s, "SHOW DATABASES"), "_internal") {
			return "no _internal database"
		}
		if m := svcMissing(showNames(t, s, "SHOW MEASUREMENTS ON _internal"), internalMeasurements()); len(m) > 0 {
			return fmt.Sprintf("_internal lacks %v", m)
		}
		return ""
	})
	rps := svcQuery(t, s, "SHOW RETENTION POLICIES ON _internal")
	if len(rps) != 1 || len(rps[0].Values) != 1 {
		t.Fatalf("SHOW RETENTION POLICIES ON _internal: %v", rps)
	}
	for col, want := range map[string]any{"name": "monitor", "duration": "168h0m0s", "shardGroupDuration": "24h0m0s", "default": true} {
		if got := rps[0].get(0, col); got != want {
			t.Errorf("_internal's policy: %s = %v, want %v", col, got, want)
		}
	}
	if n, _ := svcNum(rps[0].get(0, "replicaN")); n != 1 {
		t.Errorf("_internal's policy: replicaN = %v", rps[0].get(0, "replicaN"))
	}

	t.Run("field names", func(t *testing.T) {
		want := map[string][]string{
			"httpd": {"req", "writeReq", "queryReq", "pointsWrittenOK", "pointsWrittenDropped", "pointsWrittenFail",
				"writeReqBytes", "queryRespBytes", "authFail", "clientError", "serverError", "recoveredPanics", "pingReq"},
			"write":          {"pointReq", "writeOk", "writeError", "writeDrop", "writePartial", "writeTimeout", "req"},
			"shard":          {"diskBytes", "writePointsOk", "seriesCreate", "writeReq"},
			"database":       {"numSeries", "numMeasurements"},
			"runtime":        {"Alloc", "HeapAlloc", "HeapInUse", "NumGC", "NumGoroutine", "TotalAlloc", "Sys", "PauseTotalNs"},
			"tsm1_cache":     {"memBytes", "snapshotCount"},
			"tsm1_filestore": {"diskBytes"},
			"tsm1_wal":       {"currentSegmentDiskBytes", "writeOk"},
			"cq":             {"queryOk", "queryFail"},
			"subscriber":     {"pointsWritten", "writeFailures", "createFailures"},
		}
		for m, fields := range want {
			series := svcQuery(t, s, `SHOW FIELD KEYS ON _internal FROM "`+m+`"`)
			if len(series) != 1 {
				t.Errorf("SHOW FIELD KEYS FROM %s: %v", m, series)
				continue
			}
			types := map[string]string{}
			for _, row := range series[0].Values {
				k, _ := row[0].(string)
				typ, _ := row[1].(string)
				types[k] = typ
			}
			for _, f := range fields {
				if types[f] != "integer" {
					t.Errorf("_internal %s: field %q has type %q, want integer (fields: %v)", m, f, types[f], types)
				}
			}
		}
		// The stored points carry the host name, as 1.x's do.
		host, _ := os.Hostname()
		tags := svcQuery(t, s, `SHOW TAG VALUES ON _internal FROM runtime WITH KEY = "hostname"`)
		if len(tags) != 1 || len(tags[0].Values) != 1 || tags[0].Values[0][1] != host {
			t.Errorf("runtime's hostname tag: %v, want %q", tags, host)
		}
	})

	// The values follow the traffic: httpd counts exactly the points and
	// write requests sent; the write and shard statistics at least those.
	httpdUpTo := func(wantWrites, wantPoints int) func() string {
		return func() string {
			ser := svcQuery(t, s, `SELECT last(writeReq) AS w, last(pointsWrittenOK) AS p FROM "_internal"."monitor"."httpd"`)
			if len(ser) != 1 {
				return fmt.Sprintf("httpd: %v", ser)
			}
			w, _ := svcNum(ser[0].get(0, "w"))
			p, _ := svcNum(ser[0].get(0, "p"))
			if int(w) != wantWrites || int(p) != wantPoints {
				return fmt.Sprintf("last writeReq %v, pointsWrittenOK %v; want %d and %d", w, p, wantWrites, wantPoints)
			}
			return ""
		}
	}
	numSeries := func(want int) func() string {
		return func() string {
			v, ok := svcScalar(t, s, `SELECT last(numSeries) AS n FROM "_internal"."monitor"."database" WHERE "database" = 'db'`, "n")
			if !ok || int(v) != want {
				return fmt.Sprintf("db's last numSeries %v (%v), want %d", v, ok, want)
			}
			return ""
		}
	}
	svcEventually(t, svcTimeout, "httpd statistics", httpdUpTo(writes, points))
	svcEventually(t, svcTimeout, "database statistics", numSeries(3))
	write("cpu,host=c v=4 4\ncpu,host=d v=5 5")
	write("disk,host=a v=6 6")
	svcEventually(t, svcTimeout, "httpd statistics after more writes", httpdUpTo(writes, points))
	svcEventually(t, svcTimeout, "database statistics after more writes", numSeries(6))
	svcEventually(t, svcTimeout, "shard and write statistics", func() string {
		shard, _ := svcScalar(t, s, `SELECT sum(p) AS n FROM (SELECT last(writePointsOk) AS p FROM "_internal"."monitor"."shard" WHERE "database" = 'db' GROUP BY "id")`, "n", "db", "_internal")
		pointReq, _ := svcScalar(t, s, `SELECT last(pointReq) AS n FROM "_internal"."monitor"."write"`, "n")
		if int(shard) != points || int(pointReq) < points {
			return fmt.Sprintf("db's shards wrote %v points, the points writer was asked %v; want %d", shard, pointReq, points)
		}
		return ""
	})

	t.Run("queryExecutor", func(t *testing.T) {
		if m := svcMissing(showNames(t, s, "SHOW MEASUREMENTS ON _internal"), []string{"queryExecutor"}); len(m) > 0 {
			t.Fatalf("_internal lacks %v", m)
		}
		ser := svcQuery(t, s, "SHOW FIELD KEYS ON _internal FROM queryExecutor")
		if len(ser) != 1 || len(ser[0].Values) == 0 {
			t.Fatalf("queryExecutor fields: %v", ser)
		}
	})

	t.Run("SHOW STATS", func(t *testing.T) {
		all := svcQuery(t, s, "SHOW STATS")
		var names []string
		for _, ser := range all {
			names = append(names, ser.Name)
			if len(ser.Values) != 1 || len(ser.Values[0]) != len(ser.Columns) {
				t.Errorf("SHOW STATS %s: want one row of %d values, got %v", ser.Name, len(ser.Columns), ser.Values)
			}
			if !slices.IsSorted(ser.Columns) {
				t.Errorf("SHOW STATS %s: columns not sorted: %v", ser.Name, ser.Columns)
			}
		}
		if m := svcMissing(names, internalMeasurements()); len(m) > 0 {
			t.Errorf("SHOW STATS lacks %v (has %v)", m, names)
		}
		httpd := svcQuery(t, s, "SHOW STATS FOR 'httpd'")
		if len(httpd) != 1 || httpd[0].Name != "httpd" {
			t.Fatalf("SHOW STATS FOR 'httpd': %v", httpd)
		}
		for _, c := range []string{"req", "writeReq", "queryReq", "pointsWrittenOK"} {
			if _, ok := svcNum(httpd[0].get(0, c)); !ok {
				t.Errorf("SHOW STATS FOR 'httpd' lacks %s: %v", c, httpd[0].Columns)
			}
		}
		if p, _ := svcNum(httpd[0].get(0, "pointsWrittenOK")); int(p) != points {
			t.Errorf("SHOW STATS FOR 'httpd': pointsWrittenOK %v, want %d", p, points)
		}
		for _, ser := range svcQuery(t, s, "SHOW STATS FOR 'shard'") {
			if ser.Name != "shard" || ser.Tags["database"] == "" || ser.Tags["id"] == "" {
				t.Errorf("SHOW STATS FOR 'shard': %s %v", ser.Name, ser.Tags)
			}
		}
	})

	t.Run("SHOW DIAGNOSTICS", func(t *testing.T) {
		diag := map[string]svcSeries{}
		for _, ser := range svcQuery(t, s, "SHOW DIAGNOSTICS") {
			if len(ser.Values) != 1 || !slices.IsSorted(ser.Columns) {
				t.Errorf("SHOW DIAGNOSTICS %s: %v %v", ser.Name, ser.Columns, ser.Values)
			}
			diag[ser.Name] = ser
		}
		for name, cols := range map[string][]string{
			"build":          {"Branch", "Build Time", "Commit", "Version"},
			"runtime":        {"GOARCH", "GOMAXPROCS", "GOOS", "version"},
			"network":        {"hostname"},
			"system":         {"PID", "currentTime", "started", "uptime"},
			"config-monitor": {"store-database", "store-enabled", "store-interval"},
			"config-data":    {"dir", "wal-dir"},
		} {
			ser, ok := diag[name]
			if !ok {
				t.Errorf("SHOW DIAGNOSTICS lacks %s (has %v)", name, diag)
				continue
			}
			if m := svcMissing(ser.Columns, cols); len(m) > 0 {
				t.Errorf("SHOW DIAGNOSTICS %s lacks %v: %v", name, m, ser.Columns)
			}
		}
		if pid := svcInt(t, diag["system"].get(0, "PID")); int(pid) != s.PID() {
			t.Errorf("SHOW DIAGNOSTICS system PID %d, want %d", pid, s.PID())
		}
		if v, _ := diag["build"].get(0, "Version").(string); v == "" {
			t.Error("SHOW DIAGNOSTICS build has no Version")
		}
		if got := diag["config-monitor"].get(0, "store-database"); got != "_internal" {
			t.Errorf("config-monitor store-database = %v", got)
		}
		build := svcQuery(t, s, "SHOW DIAGNOSTICS FOR 'build'")
		if len(build) != 1 || build[0].Name != "build" {
			t.Errorf("SHOW DIAGNOSTICS FOR 'build': %v", build)
		}
	})
}

// TestMonitorStoreDatabaseAndDisabled: store-database names the database
// the monitor creates and writes; with store-enabled = false it writes
// nothing, while SHOW STATS still answers.
func TestMonitorStoreDatabaseAndDisabled(t *testing.T) {
	t.Parallel()
	t.Run("store-database", func(t *testing.T) {
		t.Parallel()
		s := harness.Start(t, harness.Options{Config: monitorStoreConfig("strata_mon"), Env: monitorEnv()})
		svcEventually(t, svcTimeout, "strata_mon's measurements", func() string {
			if !slices.Contains(showNames(t, s, "SHOW DATABASES"), "strata_mon") {
				return "no strata_mon database"
			}
			if m := svcMissing(showNames(t, s, "SHOW MEASUREMENTS ON strata_mon"), []string{"httpd", "runtime", "write"}); len(m) > 0 {
				return fmt.Sprintf("strata_mon lacks %v", m)
			}
			return ""
		})
		if got := showNames(t, s, "SHOW RETENTION POLICIES ON strata_mon"); !slices.Equal(got, []string{"monitor"}) {
			t.Errorf("strata_mon's policies: %v", got)
		}
		if got := showNames(t, s, "SHOW DATABASES"); slices.Contains(got, "_internal") {
			t.Errorf("_internal was created although store-database is strata_mon: %v", got)
		}
	})
	t.Run("store-enabled false", func(t *testing.T) {
		t.Parallel()
		// Set both ways: in the file, and (as the harness does) in the
		// environment, which wins.
		s := harness.Start(t, harness.Options{
			Config: "[monitor]\nstore-enabled = false\nstore-interval = \"100ms\"\n",
			Env:    []string{"STRATA_MONITOR_STORE_ENABLED=false"},
		})
		createDB(t, s, "db")
		if r := s.Write(params("db", "db"), "cpu v=1 1"); r.Status != http.StatusNoContent {
			t.Fatalf("write: %d %s", r.Status, r.Body)
		}
		// Ten store intervals: a store that is not there cannot be polled
		// for.
		time.Sleep(time.Second)
		if got := showNames(t, s, "SHOW DATABASES"); !slices.Equal(got, []string{"db"}) {
			t.Fatalf("databases %v, want only db", got)
		}
		if _, err := os.Stat(filepath.Join(s.Dir, "data", "_internal")); !os.IsNotExist(err) {
			t.Fatalf("data/_internal exists (%v)", err)
		}
		httpd := svcQuery(t, s, "SHOW STATS FOR 'httpd'")
		if len(httpd) != 1 {
			t.Fatalf("SHOW STATS FOR 'httpd' with the store off: %v", httpd)
		}
		if p, _ := svcNum(httpd[0].get(0, "pointsWrittenOK")); p != 1 {
			t.Fatalf("SHOW STATS FOR 'httpd': pointsWrittenOK %v, want 1", p)
		}
	})
}

// scrape answers GET /metrics parsed, with its Content-Type.
func scrape(t testing.TB, s *harness.Server, header http.Header) (map[string]metricFamily, string) {
	t.Helper()
	r, err := tryDo(s, http.MethodGet, "/metrics", header, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	return parseMetrics(t, r.Body), r.Header.Get("Content-Type")
}

// metricFamily is what the tests read of a parsed family: its type and
// its samples' values by label set ("k=v,k=v", sorted).
type metricFamily struct {
	typ    string
	values map[string]float64
}

// total is the sum of a family's samples.
func (f metricFamily) total() float64 {
	var n float64
	for _, v := range f.values {
		n += v
	}
	return n
}

// parseMetrics parses the text exposition format with Prometheus' own
// parser.
func parseMetrics(t testing.TB, body string) map[string]metricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%.2000s", err, body)
	}
	out := make(map[string]metricFamily, len(fams))
	for name, mf := range fams {
		f := metricFamily{typ: mf.GetType().String(), values: map[string]float64{}}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(labels)
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				v = m.GetUntyped().GetValue()
			}
			f.values[strings.Join(labels, ",")] = v
		}
		out[name] = f
	}
	return out
}

// TestMetricsEndpoint: GET /metrics serves the statistics in Prometheus'
// text format, parsed by Prometheus' own parser, under the names the
// monitor package documents, with the standard go_* and process_*
// metrics, and the counters follow the requests exactly.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "db")
	if r := s.Write(params("db", "db"), "cpu,host=a v=1 1"); r.Status != http.StatusNoContent {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	before, ct := scrape(t, s, nil)
	if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want text/plain; version=0.0.4", ct)
	}
	for name, typ := range map[string]string{
		"strata_httpd_req_total":                     "COUNTER",
		"strata_httpd_write_req_total":               "COUNTER",
		"strata_httpd_points_written_ok_total":       "COUNTER",
		"strata_httpd_req_active":                    "GAUGE",
		"strata_write_point_req_total":               "COUNTER",
		"strata_write_write_ok_total":                "COUNTER",
		"strata_shard_write_points_ok_total":         "COUNTER",
		"strata_shard_disk_bytes":                    "GAUGE",
		"strata_database_num_series":                 "GAUGE",
		"strata_runtime_heap_in_use":                 "GAUGE",
		"strata_subscriber_points_written_total":     "COUNTER",
		"strata_cq_query_ok_total":                   "COUNTER",
		"go_goroutines":                              "GAUGE",
		"go_memstats_alloc_bytes":                    "GAUGE",
		"process_resident_memory_bytes":              "GAUGE",
		"process_cpu_seconds_total":                  "COUNTER",
		"strata_tsm1_wal_current_segment_disk_bytes": "GAUGE",
	} {
		f, ok := before[name]
		switch {
		case !ok:
			t.Errorf("/metrics lacks %s", name)
		case f.typ != typ:
			t.Errorf("%s is a %s, want %s", name, f.typ, typ)
		case len(f.values) == 0:
			t.Errorf("%s has no sample", name)
		}
	}
	if v := before["strata_database_num_series"].values["database=db"]; v != 1 {
		t.Errorf("strata_database_num_series{database=db} = %v, want 1 (%v)", v, before["strata_database_num_series"].values)
	}
	if v := before["process_resident_memory_bytes"].total(); v <= 0 {
		t.Errorf("process_resident_memory_bytes = %v", v)
	}

	// Five pings and three writes of 2 points: req counts them and the
	// second scrape (counted as it starts), the write counters the points.
	for range 5 {
		if r := s.Do(http.MethodGet, "/ping", nil, nil); r.Status != http.StatusNoContent {
			t.Fatalf("/ping: %d", r.Status)
		}
	}
	for i := range 3 {
		if r := s.Write(params("db", "db"), fmt.Sprintf("cpu,host=b v=%d %d\ncpu,host=c v=1 %d", i, 10+i, 20+i)); r.Status != http.StatusNoContent {
			t.Fatalf("write: %d %s", r.Status, r.Body)
		}
	}
	after, _ := scrape(t, s, nil)
	for name, want := range map[string]float64{
		"strata_httpd_req_total":               5 + 3 + 1,
		"strata_httpd_write_req_total":         3,
		"strata_httpd_points_written_ok_total": 6,
		"strata_httpd_ping_req_total":          5,
		"strata_write_point_req_total":         6,
		"strata_write_write_ok_total":          3,
		"strata_shard_write_points_ok_total":   6,
	} {
		if got := after[name].total() - before[name].total(); got != want {
			t.Errorf("%s grew by %v, want %v", name, got, want)
		}
	}
	if v := after["strata_database_num_series"].values["database=db"]; v != 3 {
		t.Errorf("strata_database_num_series{database=db} = %v, want 3", v)
	}

	t.Run("OpenMetrics", func(t *testing.T) {
		r, err := tryDo(s, http.MethodGet, "/metrics",
			http.Header{"Accept": {"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if ct := r.Header.Get("Content-Type"); r.Status != http.StatusOK || !strings.HasPrefix(ct, "application/openmetrics-text") {
			t.Fatalf("GET /metrics asking for OpenMetrics: %d, Content-Type %q", r.Status, ct)
		}
		if !strings.HasSuffix(strings.TrimSpace(r.Body), "# EOF") {
			t.Fatalf("an OpenMetrics body ends with # EOF:\n%.500s", r.Body)
		}
	})
}

// TestMetricsAuth: with auth and pprof-auth-enabled, /metrics asks for an
// admin exactly as /debug/vars does; without pprof-auth-enabled it is
// open, like /debug/vars.
func TestMetricsAuth(t *testing.T) {
	t.Parallel()
	t.Run("pprof-auth-enabled", func(t *testing.T) {
		t.Parallel()
		s := harness.Start(t, harness.Options{Config: authConfig("pprof-enabled = true\npprof-auth-enabled = true")})
		const adminOnly = "error authorizing admin access"
		paths := []string{"/metrics", "/debug/vars"}
		// Bootstrap: nobody can be authenticated yet.
		for _, p := range paths {
			wantError(t, "bootstrap "+p, getAs(t, s, anon(), p), http.StatusForbidden, adminOnly)
		}
		bootstrapAdmin(t, s)
		const bobPass = "B0b-metrics-e2e-pw"
		mustAdmin(t, s, "CREATE USER bob WITH PASSWORD '"+bobPass+"'")
		bob := basic("bob", bobPass)
		for _, p := range paths {
			wantError(t, "anonymous "+p, getAs(t, s, anon(), p), http.StatusUnauthorized,
				"unable to parse authentication credentials")
			wantError(t, "wrong password "+p, getAs(t, s, basic(authAdmin, "nope"), p), http.StatusUnauthorized,
				"authorization failed")
			wantError(t, "non-admin "+p, getAs(t, s, bob, p), http.StatusForbidden, adminOnly)
			wantStatus(t, "admin "+p, getAs(t, s, adminCred(), p), http.StatusOK)
			wantStatus(t, "admin (params) "+p, getAs(t, s, adminCred().with(credParams), p), http.StatusOK)
		}
		r := getAs(t, s, adminCred(), "/metrics")
		fams := parseMetrics(t, r.Body)
		if fams["strata_httpd_auth_fail_total"].total() < 2 {
			t.Errorf("strata_httpd_auth_fail_total = %v after the refused requests", fams["strata_httpd_auth_fail_total"].total())
		}
	})
	t.Run("pprof-auth-disabled", func(t *testing.T) {
		t.Parallel()
		s := harness.Start(t, harness.Options{Config: authConfig("pprof-enabled = true\npprof-auth-enabled = false")})
		for _, p := range []string{"/metrics", "/debug/vars"} {
			wantStatus(t, "anonymous "+p, getAs(t, s, anon(), p), http.StatusOK)
		}
	})
}
