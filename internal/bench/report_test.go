package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type fakeRun struct {
	rates  []float64
	p99    time.Duration
	facts  string
	failed int
	query  *QueryResult
}

func writeResults(t *testing.T, dir string, hosts string, runs map[string]fakeRun) {
	t.Helper()
	ds := testDataset(100, time.Hour)
	for name, r := range runs {
		d := filepath.Join(dir, hosts, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, rate := range r.rates {
			w := WriteResult{Dataset: ds, PointsOK: ds.Points(), PointsPerSec: rate, Failed: r.failed,
				BatchLatency: Latency{Count: 8, P50: r.p99 / 2, P99: r.p99}}
			if r.failed > 0 {
				w.Failures = []StatusCount{{Status: 500, Requests: r.failed, Points: 5000, FirstBody: `{"error":"boom"}`}}
			}
			writeFile(t, filepath.Join(d, "write-"+string(rune('1'+i))+".json"), w)
		}
		if r.query != nil {
			writeFile(t, filepath.Join(d, "query.json"), r.query)
		}
		if err := os.WriteFile(filepath.Join(d, "facts.tsv"), []byte(r.facts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func queryResult(types ...QueryTypeResult) *QueryResult { return &QueryResult{Types: types} }

func TestReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "machine.tsv"), []byte("# comment\ncpu\tTest CPU @ 2GHz\nnproc\t2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	writeResults(t, dir, "100", map[string]fakeRun{
		Subject: {rates: []float64{300000, 900000, 330000}, p99: 40 * ms,
			facts: "rss_kb\t100000\nrss_kb\t120000\nrss_kb\t90000\ndisk_bytes\t540000\ncoldstart_ms\t500\ncoldstart_ms\t20\ncoldstart_ms\t15\n",
			query: queryResult(
				QueryTypeResult{Type: SingleGroupby111, Queries: 2, Latency: Latency{Count: 2, P50: 2 * ms}, Rows: 122, Hash: "aa",
					Outcomes: []QueryOutcome{{Statement: "q1", Hash: "1", Rows: 61}, {Statement: "q2", Hash: "2", Rows: 61}}},
				QueryTypeResult{Type: Lastpoint, Queries: 2, Errors: 2, FirstError: "not implemented", Hash: "bb"},
				QueryTypeResult{Type: HighCPU1, Queries: 2, Latency: Latency{Count: 2, P50: 30 * ms}, Rows: 10, Hash: "cc",
					Outcomes: []QueryOutcome{{Statement: "h1", Hash: "1", Rows: 5}, {Statement: "h2", Hash: "9", Rows: 5}}},
			)},
		Baseline: {rates: []float64{100000, 110000, 90000}, p99: 200 * ms, failed: 1,
			facts: "rss_kb\t400000\nrss_kb\t300000\nrss_kb\t350000\ndisk_bytes\t720000\ncoldstart_ms\t100\nversion\tInfluxDB v1.6.7\nerror\tinfluxd printed a warning\n",
			query: queryResult(
				QueryTypeResult{Type: SingleGroupby111, Queries: 2, Latency: Latency{Count: 2, P50: 5 * ms}, Rows: 122, Hash: "aa"},
				QueryTypeResult{Type: Lastpoint, Queries: 2, Latency: Latency{Count: 2, P50: 50 * ms}, Rows: 200, Hash: "dd"},
				QueryTypeResult{Type: HighCPU1, Queries: 2, Latency: Latency{Count: 2, P50: 40 * ms}, Rows: 11, Hash: "ee",
					Outcomes: []QueryOutcome{{Statement: "h1", Hash: "1", Rows: 5}, {Statement: "h2", Hash: "8", Rows: 6}}},
			)},
	})
	writeResults(t, dir, "4000", map[string]fakeRun{Baseline: {rates: []float64{50000}, facts: "error\tstratad did not build\n"}})

	rep, err := LoadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sizes) != 2 || rep.Sizes[0].Hosts != 100 || rep.Sizes[1].Hosts != 4000 || len(rep.Machine) != 2 {
		t.Fatalf("sizes %+v machine %v", rep.Sizes, rep.Machine)
	}
	rows := map[string]Row{}
	for _, r := range rep.Sizes[0].Rows() {
		rows[r.Metric] = r
	}
	check := func(metric string, ratio float64, met string) {
		t.Helper()
		r, ok := rows[metric]
		if !ok {
			t.Fatalf("no row %q", metric)
		}
		if math.Abs(r.Ratio-ratio) > 1e-9 && !(math.IsNaN(ratio) && math.IsNaN(r.Ratio)) || r.Met != met {
			t.Fatalf("%s: ratio %v met %q, want %v %q (%+v)", metric, r.Ratio, r.Met, ratio, met, r)
		}
	}
	check("ingest points/s (median)", 330000.0/100000, "yes")
	check("p99 batch latency (median)", 0.2, "")
	check("peak RSS during ingest (median)", 100000.0/350000, "yes")
	check("bytes/point on disk after compaction", 540000.0/720000, "NO")
	check("query p50 "+SingleGroupby111, 0.4, "yes")
	check("query p50 "+HighCPU1, 0.75, "NO")
	check("query p50 "+Lastpoint, math.NaN(), "")
	check("cold start until /ping (median)", 0.2, "yes")
	if r := rows["ingest points/s (median)"]; r.Subject != "330,000" || r.Baseline != "100,000" || !strings.Contains(r.Note, "influxdb: 3 failed") {
		t.Fatalf("ingest row %+v", r)
	}
	if n := rows["query p50 "+SingleGroupby111].Note; n != "same answers (122 rows)" {
		t.Fatalf("note %q", n)
	}
	if n := rows["query p50 "+HighCPU1].Note; !strings.Contains(n, "ANSWERS DIFFER") {
		t.Fatalf("note %q", n)
	}
	problems := strings.Join(rep.Sizes[0].Problems(), "\n")
	for _, want := range []string{
		"strata lastpoint: 2 of 2 queries failed; first: not implemented",
		"influxdb: influxd printed a warning",
		`influxdb run 2: status 500 on 1 write requests (5,000 points); first: {"error":"boom"}`,
		"high-cpu-1: answers differ, first at query 2 (5 vs 6 rows): h2",
	} {
		if !strings.Contains(problems, want) {
			t.Fatalf("problems lack %q:\n%s", want, problems)
		}
	}
	if p := strings.Join(rep.Sizes[1].Problems(), "\n"); !strings.Contains(p, "strata: no results at all") {
		t.Fatalf("missing server not reported:\n%s", p)
	}

	var text, md bytes.Buffer
	rep.WriteText(&text)
	rep.WriteMarkdown(&md)
	for _, want := range []string{"== 100 hosts", "3.30×", "PROBLEM: strata lastpoint"} {
		if !strings.Contains(text.String(), want) {
			t.Fatalf("text lacks %q:\n%s", want, text.String())
		}
	}
	for _, want := range []string{"- **cpu**: Test CPU @ 2GHz", "| ingest points/s (median) | 330,000 | 100,000 | 3.30× | ≥ 3 | yes |", "## Method", "Problems ("} {
		if !strings.Contains(md.String(), want) {
			t.Fatalf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestLoadReportErrors(t *testing.T) {
	if _, err := LoadReport(t.TempDir()); !errors.Is(err, ErrBadResults) {
		t.Fatalf("empty dir: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "100", "strata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "100", "strata", "write-1.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadReport(dir); !errors.Is(err, ErrBadResults) {
		t.Fatalf("bad json: %v", err)
	}
}

func TestParseTSV(t *testing.T) {
	kv, err := ParseTSV([]byte("a\t1\n\n# c\nb\tx\ty\r\na\t2"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"a", "1"}, {"b", "x\ty"}, {"a", "2"}}
	if len(kv) != len(want) {
		t.Fatalf("%v", kv)
	}
	for i := range want {
		if kv[i] != want[i] {
			t.Fatalf("%v, want %v", kv, want)
		}
	}
	if _, err := ParseTSV([]byte("ok\t1\nno tab here\n")); !errors.Is(err, ErrBadResults) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err %v", err)
	}
}

func FuzzParseTSV(f *testing.F) {
	f.Add([]byte("rss_kb\t1234\ndisk_bytes\t99\n"))
	f.Add([]byte("# x\n\nerror\tstratad: exit 1\tmore\n"))
	f.Add([]byte("\t\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kv, err := ParseTSV(b)
		if err != nil {
			if !errors.Is(err, ErrBadResults) {
				t.Fatalf("error %v is not ErrBadResults", err)
			}
			return
		}
		for _, p := range kv {
			if p[0] == "" || strings.Contains(p[0], "\t") || strings.Contains(p[1], "\n") {
				t.Fatalf("bad pair %q", p)
			}
		}
	})
}
