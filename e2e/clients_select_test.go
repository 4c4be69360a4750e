package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/e2e/harness"
)

// Reading results with the real clients: the influx CLI from Debian's
// influxdb-client (json, csv and column output, precisions, chunked
// responses, -import of a `strata inspect export` file) and Debian's
// python3-influxdb (ResultSet, tags, epoch, chunked, bind parameters; it
// asks for msgpack by default). A missing client fails the test.

// cliPoint is one point of the data set the client tests write and read.
type cliPoint struct {
	host, region string
	t            time.Time
	f            float64
	n            int64
	s            string // "" means the field is absent
	b            *bool  // nil means absent
}

func boolp(b bool) *bool { return &b }

// cliPoints are in time order within each host.
func cliPoints() []cliPoint {
	base := time.Date(2020, 9, 13, 12, 26, 40, 0, time.UTC)
	return []cliPoint{
		{"a", "eu", base, 1.5, -3, "x", boolp(true)},
		{"a", "eu", base.Add(10*time.Second + 250*time.Millisecond), 2, 4, "", nil},
		{"a", "eu", base.Add(20 * time.Second), -0.125, 1 << 40, "hello", boolp(false)},
		{"b", "us", base.Add(5 * time.Second), 1e10, 0, "y", boolp(true)},
	}
}

func writeCLIPoints(t *testing.T, s *harness.Server, db string) {
	t.Helper()
	var lp strings.Builder
	for _, p := range cliPoints() {
		fmt.Fprintf(&lp, "cpu,host=%s,region=%s f=%s,n=%di", p.host, p.region, strconv.FormatFloat(p.f, 'f', -1, 64), p.n)
		if p.s != "" {
			fmt.Fprintf(&lp, ",s=%q", p.s)
		}
		if p.b != nil {
			fmt.Fprintf(&lp, ",b=%t", *p.b)
		}
		fmt.Fprintf(&lp, " %d\n", p.t.UnixNano())
	}
	if r := s.Write(url.Values{"db": {db}}, lp.String()); r.Status != http.StatusNoContent {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
}

// cliTable is a client's answer reduced to text: per series (name and
// tags), its columns and rows of values as the CLI prints them.
type cliTable struct {
	Key     string // "cpu host=a"
	Columns []string
	Rows    [][]string
}

// expectedCLITables is what SELECT * FROM cpu GROUP BY host shows, with
// times formatted by timeFmt.
func expectedCLITables(timeFmt func(time.Time) string) []cliTable {
	byHost := map[string]*cliTable{}
	var out []*cliTable
	for _, p := range cliPoints() {
		tb := byHost[p.host]
		if tb == nil {
			tb = &cliTable{Key: "cpu host=" + p.host, Columns: []string{"time", "b", "f", "n", "region", "s"}}
			byHost[p.host] = tb
			out = append(out, tb)
		}
		b := ""
		if p.b != nil {
			b = strconv.FormatBool(*p.b)
		}
		tb.Rows = append(tb.Rows, []string{timeFmt(p.t), b, strconv.FormatFloat(p.f, 'f', -1, 64), strconv.FormatInt(p.n, 10), p.region, p.s})
	}
	var res []cliTable
	for _, tb := range out {
		res = append(res, *tb)
	}
	return res
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func influxCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("influx")
	if err != nil {
		t.Fatalf("the influx CLI (Debian package influxdb-client) is not installed: %v", err)
	}
	return p
}

func runInfluxCLI(t *testing.T, s *harness.Server, args ...string) string {
	t.Helper()
	host, port := s.HostPort()
	cmd := exec.Command(influxCLI(t), append([]string{"-host", host, "-port", port}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no ~/.influx_history
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("influx %v: %v\n%s%s", args, err, out.String(), errOut.String())
	}
	return out.String()
}

// parseCLIJSON reads the CLI's -format json output. The CLI asks for a
// chunked answer and prints each chunk as a result of its own; the rows of
// one series are joined here.
func parseCLIJSON(t *testing.T, out string) []cliTable {
	t.Helper()
	var doc struct {
		Results []struct {
			Series []struct {
				Name    string
				Tags    map[string]string
				Columns []string
				Values  [][]any
				Partial bool
			}
			Error string
		}
		Error string
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("CLI json output %q: %v", out, err)
	}
	var tables []cliTable
	for _, r := range doc.Results {
		if r.Error != "" {
			t.Fatalf("CLI json output holds an error: %s", r.Error)
		}
		for _, s := range r.Series {
			key := s.Name
			for _, k := range slices.Sorted(mapKeys(s.Tags)) {
				key += " " + k + "=" + s.Tags[k]
			}
			var rows [][]string
			for _, v := range s.Values {
				row := make([]string, len(v))
				for i, x := range v {
					switch x := x.(type) {
					case nil:
					case json.Number:
						row[i] = x.String()
					case string:
						row[i] = x
					case bool:
						row[i] = strconv.FormatBool(x)
					default:
						t.Fatalf("unexpected JSON value %v", x)
					}
				}
				rows = append(rows, row)
			}
			if n := len(tables); n > 0 && tables[n-1].Key == key {
				tables[n-1].Rows = append(tables[n-1].Rows, rows...)
				continue
			}
			tables = append(tables, cliTable{Key: key, Columns: s.Columns, Rows: rows})
		}
	}
	return tables
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// parseCLICSV reads -format csv: a header "name,tags,<columns>" before the
// rows of each chunk, then rows "name,k=v,...,<values>"; without tags the
// header is "name,<columns>" and the rows have no tags field. A series
// without a name (SHOW SERIES) has a header of its columns alone.
func parseCLICSV(t *testing.T, out string) []cliTable {
	t.Helper()
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CLI csv output %q: %v", out, err)
	}
	var tables []cliTable
	var columns []string
	first := 1 // the first value's field: 2 after a tags field
	for _, rec := range recs {
		if len(rec) >= 2 && rec[0] == "name" {
			first = 1
			if rec[1] == "tags" {
				first = 2
			}
			columns = rec[first:]
			continue
		}
		if columns == nil { // a nameless series: its columns only
			first, columns = 0, rec
			continue
		}
		if columns == nil || len(rec) != first+len(columns) {
			t.Fatalf("CLI csv record %q does not match the header %q", rec, columns)
		}
		key := ""
		if first > 0 {
			key = rec[0]
		}
		if first == 2 && rec[1] != "" {
			key += " " + strings.ReplaceAll(rec[1], ",", " ")
		}
		if n := len(tables); n > 0 && tables[n-1].Key == key {
			tables[n-1].Rows = append(tables[n-1].Rows, rec[first:])
			continue
		}
		tables = append(tables, cliTable{Key: key, Columns: columns, Rows: [][]string{rec[first:]}})
	}
	return tables
}

// parseCLIColumn reads -format column: blocks of "name: m", "tags: k=v,
// ...", a header, a line of dashes (as long as the widest value: "---"
// under a first column "key") and rows, the values left-aligned under
// their headers (so an empty value is blank space). A series may have no
// name (SHOW SERIES).
func parseCLIColumn(t *testing.T, out string) []cliTable {
	t.Helper()
	var tables []cliTable
	for block := range strings.SplitSeq(strings.TrimSpace(out), "\n\n") {
		if block == "" {
			continue
		}
		lines := strings.Split(block, "\n")
		var key string
		i := 0
		for ; i < len(lines); i++ {
			if name, ok := strings.CutPrefix(lines[i], "name: "); ok {
				key = name
			} else if tags, ok := strings.CutPrefix(lines[i], "tags: "); ok {
				key += " " + strings.ReplaceAll(tags, ", ", " ")
			} else {
				break
			}
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "-") || strings.Trim(lines[i+1], "- ") != "" {
			t.Fatalf("CLI column block without a header:\n%s", block)
		}
		header := lines[i]
		var starts []int
		for j := range header {
			if header[j] != ' ' && (j == 0 || header[j-1] == ' ') {
				starts = append(starts, j)
			}
		}
		tb := cliTable{Key: key, Columns: strings.Fields(header)}
		for _, l := range lines[i+2:] {
			row := make([]string, len(starts))
			for c, st := range starts {
				end := len(l)
				if c+1 < len(starts) && starts[c+1] < end {
					end = starts[c+1]
				}
				if st < len(l) {
					row[c] = strings.TrimSpace(l[st:end])
				}
			}
			tb.Rows = append(tb.Rows, row)
		}
		if n := len(tables); n > 0 && tables[n-1].Key == key {
			tables[n-1].Rows = append(tables[n-1].Rows, tb.Rows...)
			continue
		}
		tables = append(tables, tb)
	}
	return tables
}

func compareTables(t *testing.T, what string, got, want []cliTable) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestInfluxCLISelect(t *testing.T) {
	s := harness.Target(t, "")
	if s.External() {
		s.MustQuery("DROP DATABASE clidb", nil)
		t.Cleanup(func() { s.Query("DROP DATABASE clidb", nil) })
	}
	s.MustQuery("CREATE DATABASE clidb", nil)
	writeCLIPoints(t, s, "clidb")
	const q = "SELECT * FROM cpu GROUP BY host"
	want := expectedCLITables(rfc3339)

	for _, format := range []string{"json", "csv", "column"} {
		out := runInfluxCLI(t, s, "-database", "clidb", "-format", format, "-precision", "rfc3339", "-execute", q)
		var got []cliTable
		switch format {
		case "json":
			got = parseCLIJSON(t, out)
		case "csv":
			got = parseCLICSV(t, out)
		default:
			got = parseCLIColumn(t, out)
		}
		compareTables(t, "-format "+format+" -precision rfc3339", got, want)
	}

	for _, prec := range []struct {
		name string
		unit time.Duration
	}{{"s", time.Second}, {"ms", time.Millisecond}, {"u", time.Microsecond}, {"ns", time.Nanosecond}} {
		out := runInfluxCLI(t, s, "-database", "clidb", "-format", "csv", "-precision", prec.name, "-execute", q)
		want := expectedCLITables(func(tm time.Time) string { return strconv.FormatInt(tm.UnixNano()/int64(prec.unit), 10) })
		compareTables(t, "-format csv -precision "+prec.name, parseCLICSV(t, out), want)
	}

	// The default is nanoseconds, and the CLI passes its database and a
	// retention-policy-qualified source through.
	out := runInfluxCLI(t, s, "-format", "json", "-execute", "SELECT f FROM clidb.autogen.cpu WHERE host = 'b'")
	got := parseCLIJSON(t, out)
	if len(got) != 1 || !reflect.DeepEqual(got[0].Rows, [][]string{{strconv.FormatInt(cliPoints()[3].t.UnixNano(), 10), "10000000000"}}) {
		t.Errorf("qualified source through the CLI: %+v", got)
	}
}

// TestInfluxCLIChunked: the CLI always asks for a chunked answer; a result
// of more than one chunk (10,000 rows each by default) comes back whole,
// and the REPL's "chunk size" setting reaches the server.
func TestInfluxCLIChunked(t *testing.T) {
	s := harness.Target(t, "")
	if s.External() {
		s.MustQuery("DROP DATABASE chunkdb", nil)
		t.Cleanup(func() { s.Query("DROP DATABASE chunkdb", nil) })
	}
	s.MustQuery("CREATE DATABASE chunkdb", nil)
	const n = 25000
	var lp strings.Builder
	for i := range n {
		fmt.Fprintf(&lp, "big v=%di %d\n", i, int64(1600000000+i)*1e9)
	}
	if r := s.Write(url.Values{"db": {"chunkdb"}}, lp.String()); r.Status != http.StatusNoContent {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}

	out := runInfluxCLI(t, s, "-database", "chunkdb", "-format", "csv", "-precision", "s", "-execute", "SELECT v FROM big")
	tables := parseCLICSV(t, out)
	if len(tables) != 1 || len(tables[0].Rows) != n {
		rows := 0
		for _, tb := range tables {
			rows += len(tb.Rows)
		}
		t.Fatalf("%d series and %d rows through the CLI, want 1 and %d", len(tables), rows, n)
	}
	for i, row := range tables[0].Rows {
		if want := []string{strconv.Itoa(1600000000 + i), strconv.Itoa(i)}; !slices.Equal(row, want) {
			t.Fatalf("row %d is %q, want %q", i, row, want)
		}
	}
	// The same request as the CLI's comes in three documents.
	r := s.Query("SELECT v FROM big", url.Values{"db": {"chunkdb"}, "chunked": {"true"}, "epoch": {"s"}})
	if docs, err := harness.JSONDocuments([]byte(r.Body)); err != nil || len(docs) != 3 {
		t.Errorf("chunked=true over %d rows: %d documents (%v), want 3 of at most 10000 rows", n, len(docs), err)
	}
	if !s.External() && !harness.ParityMode() && !strings.Contains(s.Log(), "chunked=true") {
		t.Errorf("the access log shows no chunked query from the CLI")
	}

	// The REPL, through a pseudo-terminal (util-linux's script), with a
	// chunk size of 7: 20 rows come back as 3 results, marked partial.
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script (util-linux) is needed to drive the influx REPL: %v", err)
	}
	host, port := s.HostPort()
	cli := fmt.Sprintf("%s -host %s -port %s -database chunkdb -format json -precision s", influxCLI(t), host, port)
	cmd := exec.Command(script, "-qec", cli, "/dev/null")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TERM=dumb")
	cmd.Stdin = strings.NewReader("chunk size 7\nSELECT v FROM big WHERE time < 1600000020s\nexit\n")
	raw, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("influx REPL: %v\n%s", err, raw)
	}
	var doc string
	for l := range strings.SplitSeq(string(raw), "\n") {
		if i := strings.Index(l, `{"results"`); i >= 0 {
			doc = strings.TrimSpace(l[i:])
		}
	}
	if doc == "" {
		t.Fatalf("no result in the REPL's output:\n%s", raw)
	}
	var parsed struct {
		Results []struct {
			Series []struct {
				Values  [][]int64
				Partial bool
			}
		}
	}
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		t.Fatalf("REPL output %s: %v", doc, err)
	}
	var values [][]int64
	var partial []bool
	for _, r := range parsed.Results {
		for _, s := range r.Series {
			values = append(values, s.Values...)
			partial = append(partial, s.Partial)
		}
	}
	if !slices.Equal(partial, []bool{true, true, false}) {
		t.Errorf("chunk size 7 over 20 rows: partial flags %v, want [true true false]", partial)
	}
	for i, v := range values {
		if len(v) != 2 || v[0] != int64(1600000000+i) || v[1] != int64(i) {
			t.Fatalf("REPL row %d is %v", i, v)
		}
	}
	if len(values) != 20 {
		t.Errorf("the REPL showed %d rows, want 20", len(values))
	}
	if !s.External() && !harness.ParityMode() && !strings.Contains(s.Log(), "chunk_size=7") {
		t.Errorf("the access log shows no query with chunk_size=7")
	}
}

// TestInfluxCLIImportsStrataExport: data exported by `strata inspect
// export` goes back in through `influx -import`, and the second server
// then exports exactly the same points: measurements and tags that need
// escaping, every field type, two databases and two retention policies.
func TestInfluxCLIImportsStrataExport(t *testing.T) {
	ddl := []string{
		"CREATE DATABASE one",
		"CREATE RETENTION POLICY forever ON one DURATION INF REPLICATION 1",
		"CREATE DATABASE two",
	}
	a := harness.Start(t, harness.Options{})
	for _, q := range ddl {
		a.MustQuery(q, nil)
	}
	writes := []struct {
		params url.Values
		body   string
	}{
		{url.Values{"db": {"one"}}, strings.Join([]string{
			`cpu,host=a,region=eu\ west f=1.5,n=-3i,s="say \"hi\" \\ bye",b=true 1600000000000000000`,
			`cpu,host=a,region=eu\ west f=2e-7,n=9223372036854775807i 1600000001000000001`,
			`my\ measurement,tag\,key=v\=1 value="ünïcödé" 1600000002000000000`,
			`neg f=-1 -1000000000`,
		}, "\n")},
		{url.Values{"db": {"one"}, "rp": {"forever"}}, "cpu,host=z f=42 1500000000000000000\n"},
		{url.Values{"db": {"two"}, "precision": {"s"}}, "mem,host=b free=10i,u=7u 1600000000\nmem,host=b free=11i 1600000010\n"},
	}
	for _, w := range writes {
		if r := a.Write(w.params, w.body); r.Status != http.StatusNoContent {
			t.Fatalf("write %v: %d %s", w.params, r.Status, r.Body)
		}
	}
	a.Stop()
	exportA := harness.Export(t, a.Dir)
	file := filepath.Join(t.TempDir(), "export.lp")
	if _, errOut, err := harness.RunStrata(t, "inspect", "export", "-dir", filepath.Join(a.Dir, "data"),
		"-wal-dir", filepath.Join(a.Dir, "wal"), "-out", file); err != nil {
		t.Fatalf("strata inspect export: %v\n%s", err, errOut)
	}

	b := harness.Start(t, harness.Options{})
	for _, q := range ddl {
		b.MustQuery(q, nil)
	}
	out := runInfluxCLI(t, b, "-import", "-path", file, "-precision", "ns")
	t.Logf("influx -import: %s", strings.TrimSpace(out))
	// The CLI reports its counts on stderr when it logs; the data decide.
	want := map[string]string{
		"one": `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",2]]}]}]}`,
		"two": `{"results":[{"statement_id":0,"series":[{"name":"mem","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",2]]}]}]}`,
	}
	for db, q := range map[string]string{"one": "SELECT count(f) FROM cpu", "two": "SELECT count(free) FROM mem"} {
		if got := strings.TrimSpace(b.MustQuery(q, url.Values{"db": {db}})); got != want[db] {
			t.Errorf("%s after the import: %s\nwant %s", q, got, want[db])
		}
	}
	b.Stop()
	exportB := harness.Export(t, b.Dir)
	if !slices.Equal(exportA, exportB) {
		t.Fatalf("the imported server exports\n%s\nthe original exported\n%s", strings.Join(exportB, "\n"), strings.Join(exportA, "\n"))
	}
	if len(exportA) != 12 {
		t.Errorf("the export holds %d field values, want 12:\n%s", len(exportA), strings.Join(exportA, "\n"))
	}
}

// pythonSelectScript queries with python3-influxdb and prints one JSON
// object: for each case, the points get_points yields, every value as
// [python type name, value].
const pythonSelectScript = `
import json, sys
from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError

host, port = sys.argv[1], int(sys.argv[2])
mp = InfluxDBClient(host=host, port=port, database="pydb")  # asks for msgpack
js = InfluxDBClient(host=host, port=port, database="pydb", headers={"Accept": "application/json"})

def typed(points):
    return [{k: [type(v).__name__, v] for k, v in p.items()} for p in points]

out = {}
for name, c in (("msgpack", mp), ("json", js)):
    rs = c.query("SELECT * FROM cpu GROUP BY host")
    out[name + "_keys"] = [[m, t] for m, t in rs.keys()]
    out[name + "_a"] = typed(rs.get_points(measurement="cpu", tags={"host": "a"}))
    out[name + "_b"] = typed(rs.get_points(tags={"host": "b"}))
    out[name + "_none"] = typed(rs.get_points(tags={"host": "nobody"}))
    out[name + "_epoch_s"] = typed(c.query("SELECT f, n FROM cpu WHERE host = 'a'", epoch="s").get_points())
    out[name + "_bind"] = typed(c.query("SELECT f, s FROM cpu WHERE host = $h AND f > $min",
                                        bind_params={"h": "a", "min": 1.75}).get_points())
    out[name + "_agg"] = typed(c.query("SELECT count(f), max(n), last(s) FROM cpu GROUP BY region").get_points(tags={"region": "eu"}))
    multi = c.query("SELECT f FROM cpu WHERE host = 'b'; SELECT n FROM cpu WHERE host = 'b'")
    out[name + "_multi"] = [typed(r.get_points()) for r in multi]
    try:
        c.query("SELECT f FROM cpu", database="nope")
        out[name + "_error"] = "no error"
    except InfluxDBClientError as e:
        out[name + "_error"] = str(e)

# Chunked answers must be JSON: with its default msgpack Accept the client
# cannot read a chunked answer (it decodes the whole body as one msgpack
# document), against InfluxDB 1.x as well.
chunks = js.query("SELECT f FROM cpu GROUP BY host", chunked=True, chunk_size=2)
out["json_chunked"] = [[[[m, t] for m, t in rs.keys()], typed(rs.get_points())] for rs in chunks]
print(json.dumps(out))
`

func TestPythonClientSelect(t *testing.T) {
	s := harness.Target(t, "")
	if s.External() {
		s.MustQuery("DROP DATABASE pydb", nil)
		t.Cleanup(func() { s.Query("DROP DATABASE pydb", nil) })
	}
	s.MustQuery("CREATE DATABASE pydb", nil)
	// Whole seconds: the client turns msgpack times into text through
	// microseconds, which would show as ".250000".
	body := strings.Join([]string{
		`cpu,host=a,region=eu f=1.5,n=-3i,s="x",b=true 1600000000000000000`,
		`cpu,host=a,region=eu f=2,n=4i 1600000010000000000`,
		`cpu,host=a,region=eu f=-0.125,n=1099511627776i,s="hello world",b=false 1600000020000000000`,
		`cpu,host=b,region=us f=10000000000,n=0i,s="y",b=true 1600000005000000000`,
	}, "\n")
	if r := s.Write(url.Values{"db": {"pydb"}}, body); r.Status != http.StatusNoContent {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	host, port := s.HostPort()
	out := runPython(t, pythonSelectScript, host, port)
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}

	for _, format := range []string{"msgpack", "json"} {
		for k, w := range expectedPython(format == "json") {
			g := got[format+"_"+k]
			if !reflect.DeepEqual(normalizeJSON(t, g), normalizeJSON(t, w)) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				t.Errorf("%s %s:\n got %s\nwant %s", format, k, gj, wj)
			}
		}
	}
}

// expectedPython is what the script prints for each case. In JSON a float
// without a fraction is written as an integer (2, not 2.0), so the client
// reads it as a Python int, from InfluxDB 1.x as well; msgpack keeps the
// type.
func expectedPython(jsonBody bool) map[string]any {
	type tv = []any // [type, value]
	str := func(v string) tv { return tv{"str", v} }
	flt := func(v float64) tv {
		if jsonBody && v == math.Trunc(v) {
			return tv{"int", v}
		}
		return tv{"float", v}
	}
	num := func(v int64) tv { return tv{"int", float64(v)} }
	bl := func(v bool) tv { return tv{"bool", v} }
	null := tv{"NoneType", nil}
	want := map[string]any{
		"keys": []any{[]any{"cpu", map[string]any{"host": "a"}}, []any{"cpu", map[string]any{"host": "b"}}},
		"a": []any{
			map[string]any{"time": str("2020-09-13T12:26:40Z"), "b": bl(true), "f": flt(1.5), "n": num(-3), "region": str("eu"), "s": str("x")},
			map[string]any{"time": str("2020-09-13T12:26:50Z"), "b": null, "f": flt(2), "n": num(4), "region": str("eu"), "s": null},
			map[string]any{"time": str("2020-09-13T12:27:00Z"), "b": bl(false), "f": flt(-0.125), "n": num(1099511627776), "region": str("eu"), "s": str("hello world")},
		},
		"b": []any{
			map[string]any{"time": str("2020-09-13T12:26:45Z"), "b": bl(true), "f": flt(1e10), "n": num(0), "region": str("us"), "s": str("y")},
		},
		"none": []any{},
		"epoch_s": []any{
			map[string]any{"time": num(1600000000), "f": flt(1.5), "n": num(-3)},
			map[string]any{"time": num(1600000010), "f": flt(2), "n": num(4)},
			map[string]any{"time": num(1600000020), "f": flt(-0.125), "n": num(1099511627776)},
		},
		"bind": []any{
			map[string]any{"time": str("2020-09-13T12:26:50Z"), "f": flt(2), "s": null},
		},
		"agg": []any{
			map[string]any{"time": str("1970-01-01T00:00:00Z"), "count": num(3), "max": num(1099511627776), "last": str("hello world")},
		},
		"multi": []any{
			[]any{map[string]any{"time": str("2020-09-13T12:26:45Z"), "f": flt(1e10)}},
			[]any{map[string]any{"time": str("2020-09-13T12:26:45Z"), "n": num(0)}},
		},
		"error": "database not found: nope",
	}
	if jsonBody {
		// chunk_size=2 over host a's 3 points and host b's 1: three
		// chunks, each a ResultSet of its own.
		want["chunked"] = []any{
			[]any{[]any{[]any{"cpu", map[string]any{"host": "a"}}}, []any{
				map[string]any{"time": str("2020-09-13T12:26:40Z"), "f": flt(1.5)},
				map[string]any{"time": str("2020-09-13T12:26:50Z"), "f": flt(2)}}},
			[]any{[]any{[]any{"cpu", map[string]any{"host": "a"}}}, []any{
				map[string]any{"time": str("2020-09-13T12:27:00Z"), "f": flt(-0.125)}}},
			[]any{[]any{[]any{"cpu", map[string]any{"host": "b"}}}, []any{
				map[string]any{"time": str("2020-09-13T12:26:45Z"), "f": flt(1e10)}}},
		}
	}
	return want
}

// normalizeJSON round-trips v through JSON so that Go values built by hand
// compare with decoded ones.
func normalizeJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
