package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/e2e/harness"
)

// InfluxQL end to end (issue 6): schema exploration, deletes,
// transformations, subqueries, SELECT … INTO and EXPLAIN through the real
// stratad, as case files in testdata/influxql run by the runner of
// testdata/select (select_test.go describes the format); and, as Go
// tests, what a case file cannot pin: writes going on during a large
// DROP MEASUREMENT, the shapes of EXPLAIN ANALYZE, SHOW STATS and SHOW
// DIAGNOSTICS (whose values vary), and a session of the real influx CLI
// compared with the JSON answers over HTTP.
//
// Every test here also runs against a real InfluxDB 1.x:
//
//	STRATA_E2E_INFLUXD=/usr/bin/influxd go test -run TestInfluxQL ./e2e/

// TestInfluxQLCases runs testdata/influxql/*.txt, one server per file.
func TestInfluxQLCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "influxql", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files under testdata/influxql (%v)", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			iqlParallel(t)
			runSelectFile(t, path)
		})
	}
}

// iqlParallel runs t in parallel unless all tests share one attached
// server.
func iqlParallel(t *testing.T) {
	if os.Getenv(harness.EnvURL) == "" {
		t.Parallel()
	}
}

// iqlFreshDB creates db, dropping what an attached server kept of it
// from an earlier run (and again when the test ends).
func iqlFreshDB(t *testing.T, s *harness.Server, db string) {
	t.Helper()
	if s.External() {
		s.MustQuery("DROP DATABASE "+db, nil)
		t.Cleanup(func() { s.Query("DROP DATABASE "+db, nil) })
	}
	s.MustQuery("CREATE DATABASE "+db, nil)
}

// iqlWrite writes line protocol with second timestamps and wants a 204.
func iqlWrite(t *testing.T, s *harness.Server, db, lp string) {
	t.Helper()
	if r := s.Write(url.Values{"db": {db}, "precision": {"s"}}, lp); r.Status != http.StatusNoContent {
		t.Fatalf("write to %s: %d %s", db, r.Status, r.Body)
	}
}

// iqlMustAnswer runs q on db and wants exactly the body want.
func iqlMustAnswer(t *testing.T, s *harness.Server, db, q, want string) {
	t.Helper()
	if got := strings.TrimSpace(s.MustQuery(q, url.Values{"db": {db}})); got != want {
		t.Errorf("%s:\n got %s\nwant %s", q, got, want)
	}
}

// iqlRow is one series of a /query answer, values kept as JSON numbers.
type iqlRow struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// iqlRows runs one statement and returns its series; a statement error
// fails the test.
func iqlRows(t *testing.T, s *harness.Server, db, q string) []iqlRow {
	t.Helper()
	params := url.Values{}
	if db != "" {
		params.Set("db", db)
	}
	body := s.MustQuery(q, params)
	var resp struct {
		Results []struct {
			Series []iqlRow `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil || len(resp.Results) != 1 || resp.Results[0].Error != "" {
		t.Fatalf("%s answered %s (%v)", q, clip(body, 2000), err)
	}
	return resp.Results[0].Series
}

// TestInfluxQLDropMeasurementUnderWrites: DROP MEASUREMENT of a
// measurement of 100,000 points (5,000 series over three shards, in data
// files) while a client keeps writing to another measurement of the same
// database: every write is acknowledged (204) within 2 s, the dropped
// data is gone from SELECT and SHOW, every acknowledged point of the other
// measurement is there, and both stay so after a restart.
func TestInfluxQLDropMeasurementUnderWrites(t *testing.T) {
	iqlParallel(t)
	s := harness.Target(t, "")
	const db = "dropload"
	iqlFreshDB(t, s, db)
	const nSeries, perSeries = 5000, 20
	const base = int64(1600000000)
	var lp strings.Builder
	for j := range perSeries {
		lp.Reset()
		// Every 12 hours: the points fall into three weekly shard groups.
		ts := base + int64(j)*43200
		for i := range nSeries {
			fmt.Fprintf(&lp, "big,host=h%04d,rack=r%d v=%d.5,n=%di %d\n", i, i%10, j, i, ts)
		}
		iqlWrite(t, s, db, lp.String())
	}
	if !harness.ParityMode() {
		// Into data files: the drop must tombstone and rewrite files, not
		// only forget cache entries.
		s.Stop()
		s = s.Restart(harness.Options{})
	}
	iqlMustAnswer(t, s, db, "SELECT count(v) FROM big",
		`{"results":[{"statement_id":0,"series":[{"name":"big","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",100000]]}]}]}`)

	type write struct {
		start, end time.Time
		status     int
		err        error
	}
	const maxLatency = 2 * time.Second
	var count atomic.Int64
	stop := make(chan struct{})
	done := make(chan []write, 1)
	var writes []write
	var stopOnce sync.Once
	stopWriter := func() {
		stopOnce.Do(func() {
			close(stop)
			writes = <-done
		})
	}
	t.Cleanup(stopWriter) // also when the test fails half-way
	go func() {
		var out []write
		client := &http.Client{Timeout: 30 * time.Second}
		// Bounded in count and time whatever happens to the test.
		deadline := time.Now().Add(90 * time.Second)
		for k := int64(0); k < 50000 && time.Now().Before(deadline); k++ {
			select {
			case <-stop:
				done <- out
				return
			default:
			}
			w := write{start: time.Now()}
			body := fmt.Sprintf("other,w=1 n=%di %d\n", k, base*int64(time.Second)+k)
			resp, err := client.Post(s.URL+"/write?db="+db, "text/plain", strings.NewReader(body))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				w.status = resp.StatusCode
			}
			w.end, w.err = time.Now(), err
			out = append(out, w)
			count.Add(1)
		}
		done <- out
	}()
	waitWrites := func(n int64) {
		for deadline := time.Now().Add(30 * time.Second); count.Load() < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				stopWriter()
				t.Fatalf("the writer made %d writes in 30 s, want %d", count.Load(), n)
			}
		}
	}
	waitWrites(20)
	dropStart := time.Now()
	r := s.Query("DROP MEASUREMENT big", url.Values{"db": {db}})
	dropEnd := time.Now()
	waitWrites(count.Load() + 20)
	stopWriter()

	if want := `{"results":[{"statement_id":0}]}`; r.Status != http.StatusOK || strings.TrimSpace(r.Body) != want {
		t.Fatalf("DROP MEASUREMENT big: %d %s, want 200 %s", r.Status, r.Body, want)
	}
	// A drop that holds writers back would let no write finish while it
	// runs: those arriving meanwhile would all end after it.
	during, inside, worst := 0, 0, time.Duration(0)
	for i, w := range writes {
		lat := w.end.Sub(w.start)
		if w.err != nil || w.status != http.StatusNoContent || lat > maxLatency {
			t.Errorf("write %d (%s after the drop started): status %d, error %v, in %s; want 204 within %s",
				i, w.start.Sub(dropStart), w.status, w.err, lat, maxLatency)
		}
		if w.start.Before(dropEnd) && w.end.After(dropStart) {
			during++
			worst = max(worst, lat)
		}
		if w.start.After(dropStart) && w.end.Before(dropEnd) {
			inside++
		}
	}
	dropTime := dropEnd.Sub(dropStart)
	if during == 0 {
		t.Fatalf("no write overlapped the drop (%s): the test proves nothing", dropTime)
	}
	if dropTime >= 200*time.Millisecond && inside == 0 {
		t.Errorf("no write began and ended while the drop ran (%s): writes wait for it", dropTime)
	}
	t.Logf("DROP MEASUREMENT of 100000 points took %s; %d of %d writes overlapped it, %d wholly inside it, the slowest in %s",
		dropTime, during, len(writes), inside, worst)

	check := func(when string) {
		t.Helper()
		for _, c := range []struct{ q, want string }{
			{"SHOW MEASUREMENTS", `{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["other"]]}]}]}`},
			{"SHOW SERIES", `{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["other,w=1"]]}]}]}`},
			{"SELECT count(v) FROM big", `{"results":[{"statement_id":0}]}`},
			{"SHOW TAG KEYS FROM big", `{"results":[{"statement_id":0}]}`},
			{"SELECT count(n) FROM other", fmt.Sprintf(`{"results":[{"statement_id":0,"series":[{"name":"other","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",%d]]}]}]}`, len(writes))},
		} {
			if got := strings.TrimSpace(s.MustQuery(c.q, url.Values{"db": {db}})); got != c.want {
				t.Errorf("%s, %s:\n got %s\nwant %s", when, c.q, clip(got, 1000), c.want)
			}
		}
	}
	check("after the drop")
	if !harness.ParityMode() {
		s.Stop()
		s = s.Restart(harness.Options{})
		check("after a restart")
	}
}

// TestInfluxQLIntoWithGET: SELECT … INTO needs POST. Sent with GET, 1.x
// still runs it (the refusal planned in influxdb#6290 never came) and
// adds a warning that names the statement as 1.x normalized it, database
// and retention policy filled in; with POST there is no warning.
func TestInfluxQLIntoWithGET(t *testing.T) {
	iqlParallel(t)
	s := harness.Target(t, "")
	const db = "intoget"
	iqlFreshDB(t, s, db)
	iqlWrite(t, s, db, "c,h=a v=1 1600000000\nc,h=b v=5 1600000005\nc,h=b v=1 1600000025\n")

	const result = `{"statement_id":0,"series":[{"name":"result","columns":["time","written"],"values":[["1970-01-01T00:00:00Z",2]]}]`
	iqlMustAnswer(t, s, db, "SELECT v INTO c_post FROM c WHERE h = 'b'", `{"results":[`+result+`}]}`)

	q := "SELECT v INTO c_get FROM c WHERE h = 'b'"
	r := s.Do(http.MethodGet, "/query?"+url.Values{"db": {db}, "q": {q}}.Encode(), nil, nil)
	const copied = `{"results":[{"statement_id":0,"series":[{"name":"%s","columns":["time","v"],"values":[["2020-09-13T12:26:45Z",5],["2020-09-13T12:27:05Z",1]]}]}]}`
	iqlMustAnswer(t, s, db, "SELECT * FROM c_post", fmt.Sprintf(copied, "c_post"))
	iqlMustAnswer(t, s, db, "SELECT * FROM c_get", fmt.Sprintf(copied, "c_get"))

	want := `{"results":[` + result + `,"messages":[{"level":"warning","text":"deprecated use of 'SELECT v INTO intoget.autogen.c_get FROM intoget.autogen.c WHERE h = 'b'' in a read only context, please use a POST request instead"}]}]}`
	got := strings.TrimSpace(r.Body)
	if r.Status == http.StatusOK && got == want {
		return
	}
	t.Errorf("SELECT INTO with GET: %d %s\nwant 200 %s", r.Status, got, want)
}

// iqlPlan runs an EXPLAIN and returns its lines, checking 1.x's shape:
// one result, one series without a name or tags, the one column column,
// one string per row.
func iqlPlan(t *testing.T, s *harness.Server, db, q, column string) []string {
	t.Helper()
	rows := iqlRows(t, s, db, q)
	if len(rows) != 1 || rows[0].Name != "" || len(rows[0].Tags) != 0 || !slices.Equal(rows[0].Columns, []string{column}) {
		t.Fatalf("%s: %d series %+v, want one without name or tags, with the single column %q", q, len(rows), rows, column)
	}
	var lines []string
	for i, v := range rows[0].Values {
		l, ok := v[0].(string)
		if len(v) != 1 || !ok {
			t.Fatalf("%s: row %d is %v, want one string", q, i, v)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestInfluxQLExplainShapes: EXPLAIN answers one column "QUERY PLAN" whose
// blocks start with the expression read, and EXPLAIN ANALYZE one column
// "EXPLAIN ANALYZE" holding the tree 1.x prints, rooted at "select" with
// its execution, planning and total times, for aggregates, raw rows,
// transformations and subqueries. The plans' content is Strata's own
// (docs/compat.md); the shape is what tools parse.
func TestInfluxQLExplainShapes(t *testing.T) {
	iqlParallel(t)
	s := harness.Target(t, "")
	const db = "exshape"
	iqlFreshDB(t, s, db)
	iqlWrite(t, s, db, "c,h=a v=1,i=1i 1600000000\nc,h=a v=2,i=3i 1600000010\nc,h=b v=5,i=5i 1600000005\n")

	treeHead := []*regexp.Regexp{
		regexp.MustCompile(`^\.$`),
		regexp.MustCompile(`^└── select$`),
		regexp.MustCompile(`^    ├── execution_time: (\S+)$`),
		regexp.MustCompile(`^    ├── planning_time: (\S+)$`),
		regexp.MustCompile(`^    ├── total_time: (\S+)$`),
	}
	for _, c := range []struct {
		q      string
		exprs  []string // one block each, in any order (1.x's order varies)
		series string   // each block's NUMBER OF SERIES
	}{
		{"SELECT mean(v), max(i) FROM c WHERE time >= 1600000000s AND time < 1600000060s GROUP BY time(10s)", []string{"max(i::integer)", "mean(v::float)"}, "2"},
		{"SELECT v FROM c WHERE h = 'a'", []string{"<nil>"}, "1"},
		{"SELECT derivative(v) FROM c", []string{"v::float"}, "2"},
		{"SELECT mean(m) FROM (SELECT max(v) AS m FROM c GROUP BY h)", []string{"max(v::float)"}, "2"},
	} {
		plan := iqlPlan(t, s, db, "EXPLAIN "+c.q, "QUERY PLAN")
		var exprs []string
		for block := range strings.SplitSeq(strings.Join(plan, "\n"), "\n\n") {
			lines := strings.Split(block, "\n")
			expr, ok := strings.CutPrefix(lines[0], "EXPRESSION: ")
			if !ok || !slices.Contains(lines, "NUMBER OF SHARDS: 1") || !slices.Contains(lines, "NUMBER OF SERIES: "+c.series) {
				t.Errorf("EXPLAIN %s: block %q, want EXPRESSION, then NUMBER OF SHARDS: 1 and NUMBER OF SERIES: %s among its lines", c.q, lines, c.series)
			}
			exprs = append(exprs, expr)
		}
		if slices.Sort(exprs); !slices.Equal(exprs, c.exprs) {
			t.Errorf("EXPLAIN %s: expressions %q, want %q", c.q, exprs, c.exprs)
		}
		tree := iqlPlan(t, s, db, "EXPLAIN ANALYZE "+c.q, "EXPLAIN ANALYZE")
		if len(tree) <= len(treeHead) {
			t.Errorf("EXPLAIN ANALYZE %s: only %d lines: %q", c.q, len(tree), tree)
			continue
		}
		for i, re := range treeHead {
			m := re.FindStringSubmatch(tree[i])
			if m == nil {
				t.Errorf("EXPLAIN ANALYZE %s: line %d is %q, want %s", c.q, i, tree[i], re)
				continue
			}
			if len(m) > 1 {
				if _, err := time.ParseDuration(m[1]); err != nil {
					t.Errorf("EXPLAIN ANALYZE %s: line %d: %v", c.q, i, err)
				}
			}
		}
		// The rest of the tree hangs below "select".
		for i, l := range tree[len(treeHead):] {
			if l != "" && !strings.HasPrefix(l, "    ") {
				t.Errorf("EXPLAIN ANALYZE %s: line %d %q is outside the select node", c.q, len(treeHead)+i, l)
			}
		}
	}
}

// iqlStatsRows runs SHOW STATS or SHOW DIAGNOSTICS and checks each row's
// shape: a name, one row of values matching the columns.
func iqlStatsRows(t *testing.T, s *harness.Server, q string) []iqlRow {
	t.Helper()
	rows := iqlRows(t, s, "", q)
	for _, r := range rows {
		if r.Name == "" || len(r.Values) != 1 || len(r.Values[0]) != len(r.Columns) {
			t.Errorf("%s: malformed row %+v", q, r)
		}
	}
	return rows
}

// iqlValue is a row's value in column col, and whether it is there.
func iqlValue(r iqlRow, col string) (any, bool) {
	i := slices.Index(r.Columns, col)
	if i < 0 || len(r.Values) == 0 || i >= len(r.Values[0]) {
		return nil, false
	}
	return r.Values[0][i], true
}

func iqlInt(t *testing.T, r iqlRow, col string) int64 {
	t.Helper()
	v, ok := iqlValue(r, col)
	n, isNum := v.(json.Number)
	if !ok || !isNum {
		t.Fatalf("%s has no number %s: %+v", r.Name, col, r)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s %s = %s: %v", r.Name, col, n, err)
	}
	return i
}

// TestInfluxQLShowStatsAndDiagnostics: SHOW STATS lists 1.x's statistics
// (httpd, runtime, write, shard with its database tag) with their value
// names as columns, FOR 'module' keeps one module, and the counters move
// with the requests made; SHOW DIAGNOSTICS lists 1.x's sections (build,
// runtime, network, system, config) with their keys, the server's own PID
// among them.
func TestInfluxQLShowStatsAndDiagnostics(t *testing.T) {
	iqlParallel(t)
	s := harness.Target(t, "")
	const db = "statsdb"
	iqlFreshDB(t, s, db)
	iqlWrite(t, s, db, "cpu,host=a v=1 1600000000\ncpu,host=b v=2 1600000000\n")

	rows := iqlStatsRows(t, s, "SHOW STATS")
	byName := map[string][]iqlRow{}
	for _, r := range rows {
		byName[r.Name] = append(byName[r.Name], r)
	}
	wantCols := map[string][]string{
		"httpd":   {"req", "queryReq", "writeReq", "pointsWrittenOK", "queryRespBytes", "writeReqBytes", "clientError", "serverError"},
		"runtime": {"Alloc", "HeapAlloc", "HeapInUse", "HeapObjects", "NumGC", "NumGoroutine", "Sys", "TotalAlloc"},
		"write":   {"pointReq", "writeOk", "writeError", "writeDrop", "writeTimeout"},
		"shard":   {"writePointsOk", "seriesCreate", "diskBytes"},
	}
	for name, cols := range wantCols {
		if len(byName[name]) == 0 {
			t.Errorf("SHOW STATS has no %q statistic; it has %v", name, slices.Sorted(func(yield func(string) bool) {
				for k := range byName {
					if !yield(k) {
						return
					}
				}
			}))
			continue
		}
		for _, r := range byName[name] {
			for _, c := range cols {
				if _, ok := iqlValue(r, c); !ok {
					t.Errorf("SHOW STATS %s %v has no %q among %v", name, r.Tags, c, r.Columns)
				}
			}
			if !slices.IsSorted(r.Columns) {
				t.Errorf("SHOW STATS %s: columns not sorted: %v", name, r.Columns)
			}
		}
	}
	shardOK := false
	for _, r := range byName["shard"] {
		if r.Tags["database"] == db && r.Tags["retentionPolicy"] == "autogen" && r.Tags["id"] != "" {
			shardOK = shardOK || iqlInt(t, r, "writePointsOk") == 2
		}
	}
	if !shardOK {
		t.Errorf("no shard statistic of %s.autogen counts the 2 points written: %+v", db, byName["shard"])
	}

	httpd := func() iqlRow {
		t.Helper()
		rs := iqlStatsRows(t, s, "SHOW STATS FOR 'httpd'")
		if len(rs) != 1 || rs[0].Name != "httpd" {
			t.Fatalf("SHOW STATS FOR 'httpd': %+v", rs)
		}
		return rs[0]
	}
	before := httpd()
	iqlWrite(t, s, db, "cpu,host=c v=3 1600000000\ncpu,host=d v=4 1600000000\ncpu,host=e v=5 1600000000\n")
	after := httpd()
	if d := iqlInt(t, after, "queryReq") - iqlInt(t, before, "queryReq"); d != 1 {
		t.Errorf("httpd queryReq moved by %d over one query, want 1", d)
	}
	if d := iqlInt(t, after, "writeReq") - iqlInt(t, before, "writeReq"); d != 1 {
		t.Errorf("httpd writeReq moved by %d over one write, want 1", d)
	}
	if d := iqlInt(t, after, "pointsWrittenOK") - iqlInt(t, before, "pointsWrittenOK"); d != 3 {
		t.Errorf("httpd pointsWrittenOK moved by %d over 3 points, want 3", d)
	}
	if rs := iqlRows(t, s, "", "SHOW STATS FOR 'nothing'"); len(rs) != 0 {
		t.Errorf("SHOW STATS FOR 'nothing': %+v, want no series", rs)
	}

	diag := map[string]iqlRow{}
	for _, r := range iqlStatsRows(t, s, "SHOW DIAGNOSTICS") {
		diag[r.Name] = r
	}
	for name, cols := range map[string][]string{
		"build":   {"Branch", "Build Time", "Commit", "Version"},
		"runtime": {"GOARCH", "GOMAXPROCS", "GOOS", "version"},
		"network": {"hostname"},
		"system":  {"PID", "currentTime", "started", "uptime"},
		// Debian's 1.6.7 shows reporting-enabled where upstream shows
		// reporting-disabled: only the address is common.
		"config": {"bind-address"},
	} {
		r, ok := diag[name]
		if !ok {
			t.Errorf("SHOW DIAGNOSTICS has no %q section", name)
			continue
		}
		if !slices.Equal(r.Columns, cols) && name != "config" {
			t.Errorf("SHOW DIAGNOSTICS %s: columns %q, want %q", name, r.Columns, cols)
		}
		for _, c := range cols {
			if _, ok := iqlValue(r, c); !ok {
				t.Errorf("SHOW DIAGNOSTICS %s has no %q", name, c)
			}
		}
	}
	if r, ok := diag["runtime"]; ok {
		if v, _ := iqlValue(r, "GOOS"); v != runtime.GOOS {
			t.Errorf("SHOW DIAGNOSTICS runtime GOOS = %v, want %s", v, runtime.GOOS)
		}
	}
	if r, ok := diag["system"]; ok && !s.External() {
		if pid := iqlInt(t, r, "PID"); pid != int64(s.PID()) {
			t.Errorf("SHOW DIAGNOSTICS system PID = %d, want the server's %d", pid, s.PID())
		}
		if v, _ := iqlValue(r, "uptime"); v != nil {
			if _, err := time.ParseDuration(fmt.Sprint(v)); err != nil {
				t.Errorf("SHOW DIAGNOSTICS system uptime %v: %v", v, err)
			}
		}
	}
	build := iqlStatsRows(t, s, "SHOW DIAGNOSTICS FOR 'build'")
	if len(build) != 1 || build[0].Name != "build" {
		t.Errorf("SHOW DIAGNOSTICS FOR 'build': %+v, want the build section alone", build)
	}
}

// iqlCLI runs one statement through the influx CLI in format and reads
// its output as tables.
func iqlCLI(t *testing.T, s *harness.Server, db, format, q string) []cliTable {
	t.Helper()
	out := runInfluxCLI(t, s, "-database", db, "-format", format, "-precision", "rfc3339", "-execute", q)
	switch format {
	case "json":
		return parseCLIJSON(t, out)
	case "column":
		return parseCLIColumn(t, out)
	default:
		return parseCLICSV(t, out)
	}
}

// TestInfluxQLCLISession: the real influx CLI (Debian's influxdb-client)
// runs SHOW MEASUREMENTS, SHOW SERIES, SHOW TAG VALUES, DERIVATIVE over
// raw values and over an aggregate, a subquery, SELECT INTO and DROP
// SERIES through -execute in json, csv and column format, and shows what
// the server answers over HTTP in JSON.
func TestInfluxQLCLISession(t *testing.T) {
	iqlParallel(t)
	s := harness.Target(t, "")
	const db = "iqlcli"
	iqlFreshDB(t, s, db)
	iqlWrite(t, s, db, strings.Join([]string{
		"c,h=a,r=eu v=1,i=1i 1600000000",
		"c,h=a,r=eu v=2,i=3i 1600000010",
		"c,h=a,r=eu v=4,i=2i 1600000020",
		"c,h=a,r=eu v=3.5,i=8i 1600000035",
		"c,h=b,r=us v=5,i=5i 1600000005",
		"c,h=b,r=us v=1,i=1i 1600000025",
		"mem,h=a free=10i 1600000000",
	}, "\n"))

	compare := func(q string) {
		t.Helper()
		want := parseCLIJSON(t, s.MustQuery(q, url.Values{"db": {db}}))
		if len(want) == 0 {
			t.Fatalf("%s answers nothing over HTTP: the comparison would prove nothing", q)
		}
		for _, format := range []string{"json", "csv", "column"} {
			compareTables(t, "influx -format "+format+" -execute "+strconv.Quote(q), iqlCLI(t, s, db, format, q), want)
		}
	}
	compare("SHOW MEASUREMENTS")
	compare("SHOW SERIES")
	compare("SHOW TAG VALUES WITH KEY = h")
	compare("SHOW TAG VALUES FROM c WITH KEY IN (h, r) WHERE r = 'eu'")
	compare("SELECT derivative(v, 10s), difference(i) FROM c GROUP BY h")
	compare("SELECT derivative(mean(v)), non_negative_derivative(max(i), 1s) FROM c WHERE time >= 1600000000s AND time < 1600000040s GROUP BY time(10s)")
	compare("SELECT mean(m) FROM (SELECT max(v) AS m FROM c WHERE time >= 1600000000s AND time < 1600000040s GROUP BY time(10s), h) GROUP BY h")

	// SELECT INTO through the CLI: its result row, then the copy read
	// back over HTTP, tags kept as tags.
	got := iqlCLI(t, s, db, "json", "SELECT v, i INTO c_copy FROM c GROUP BY *")
	want := []cliTable{{Key: "result", Columns: []string{"time", "written"}, Rows: [][]string{{"1970-01-01T00:00:00Z", "6"}}}}
	compareTables(t, "SELECT INTO through the CLI", got, want)
	orig := parseCLIJSON(t, s.MustQuery("SELECT v, i FROM c GROUP BY *", url.Values{"db": {db}}))
	copied := parseCLIJSON(t, s.MustQuery("SELECT v, i FROM c_copy GROUP BY *", url.Values{"db": {db}}))
	for i := range orig {
		orig[i].Key = "c_copy" + strings.TrimPrefix(orig[i].Key, "c")
	}
	compareTables(t, "SELECT INTO through the CLI, read back", copied, orig)
	compare("SELECT * FROM c_copy GROUP BY *")

	// DROP SERIES through the CLI: it prints no table, and the series is
	// gone over HTTP and through the CLI.
	out := runInfluxCLI(t, s, "-database", db, "-format", "column", "-execute", "DROP SERIES FROM c WHERE h = 'b'")
	if strings.TrimSpace(out) != "" {
		t.Errorf("DROP SERIES through the CLI printed %q", out)
	}
	iqlMustAnswer(t, s, db, "SHOW SERIES",
		`{"results":[{"statement_id":0,"series":[{"columns":["key"],"values":[["c,h=a,r=eu"],["c_copy,h=a,r=eu"],["c_copy,h=b,r=us"],["mem,h=a"]]}]}]}`)
	compare("SHOW SERIES")
	compare("SELECT derivative(v, 10s) FROM c GROUP BY h")
}
