package query_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/query"
)

// The golden tests are data: testdata/*.test files of blocks
//
//	<command> <args...>
//	<input lines>
//	----
//	<expected output lines>
//	<blank line>
//
// Commands:
//
//	write <db> [rp=<rp>] [precision=<p>] [oracle=skip]
//	                                        line protocol to write (oracle=skip:
//	                                        not to the oracle, for data 1.6
//	                                        cannot take, such as unsigned)
//	create-rp <db> <rp> shard=<dur> [default]
//	flush                                   snapshot every cache into data files
//	query <db> [chunk=N] [rp=<rp>] [now=<RFC3339>] [oracle=skip]
//	                                        one SELECT; the expected output is
//	                                        one line per Result, as 1.x's JSON
//
// EXPLAIN statements go to Engine.Explain. With -oracle, SELECT … INTO
// goes by POST (by GET 1.x adds a warning, which Strata's statement
// executor adds) and once.
//
// -rewrite replaces the expected output with what Strata produces.
// -oracle=http://host:port replaces it with what a real InfluxDB 1.x at that
// address answers (each file's databases are dropped and recreated there),
// which is how the expected outputs were made; blocks marked oracle=skip
// (results that depend on the clock, or on behaviour where Strata follows
// the 1.x documentation rather than 1.6) keep theirs. The oracle runs with
// [coordinator] max-select-buckets = 100000, as the stack below does; a
// temporary config with [meta], [data] and [http] under a temporary
// directory and reporting-disabled is all influxd needs:
//
//	influxd -config /tmp/oracle/influxdb.conf &
//	go test -run TestGolden -oracle=http://127.0.0.1:18186 ./internal/query
var (
	rewrite = flag.Bool("rewrite", false, "rewrite the expected output of golden tests with Strata's")
	oracle  = flag.String("oracle", "", "rewrite the expected output of golden tests with an InfluxDB 1.x server's at this URL")
)

type goldenBlock struct {
	cmd      string
	args     []string
	opts     map[string]string
	input    []string
	expected []string
	line     int // 1-based line of the command
}

// parseFile splits a golden file into its blocks and the text around them.
func parseFile(t *testing.T, path string) ([]*goldenBlock, []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var blocks []*goldenBlock
	var prefix []string // text before each block (comments, blank lines)
	var pending []string
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			i++
			continue
		}
		if strings.HasPrefix(l, "#") {
			pending = append(pending, l)
			i++
			continue
		}
		b := &goldenBlock{line: i + 1, opts: map[string]string{}}
		fields := strings.Fields(l)
		b.cmd = fields[0]
		for _, f := range fields[1:] {
			if k, v, ok := strings.Cut(f, "="); ok {
				b.opts[k] = v
			} else {
				b.args = append(b.args, f)
			}
		}
		i++
		for i < len(lines) && lines[i] != "----" {
			b.input = append(b.input, lines[i])
			i++
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: block without ----", path, b.line)
		}
		i++
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			b.expected = append(b.expected, lines[i])
			i++
		}
		blocks = append(blocks, b)
		prefix = append(prefix, strings.Join(pending, "\n"))
		pending = nil
	}
	prefix = append(prefix, strings.Join(pending, "\n"))
	return blocks, prefix
}

func writeFile(t *testing.T, path string, blocks []*goldenBlock, prefix []string) {
	var buf bytes.Buffer
	for i, b := range blocks {
		if prefix[i] != "" {
			buf.WriteString(prefix[i] + "\n")
		}
		buf.WriteString(b.cmd)
		for _, a := range b.args {
			buf.WriteString(" " + a)
		}
		for _, k := range sortedKeys(b.opts) {
			buf.WriteString(" " + k + "=" + b.opts[k])
		}
		buf.WriteString("\n")
		for _, l := range b.input {
			buf.WriteString(l + "\n")
		}
		buf.WriteString("----\n")
		for _, l := range b.expected {
			buf.WriteString(l + "\n")
		}
		if i < len(blocks)-1 || prefix[len(blocks)] != "" {
			buf.WriteString("\n")
		}
	}
	if tail := prefix[len(blocks)]; tail != "" {
		buf.WriteString(tail + "\n")
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".test"), func(t *testing.T) {
			runGoldenFile(t, path)
		})
	}
}

func runGoldenFile(t *testing.T, path string) {
	blocks, prefix := parseFile(t, path)
	// The limits match the oracle's configuration (see -oracle).
	s := newStack(t, query.EngineOptions{Workers: 2, MaxSelectBucketsN: 100000})
	var orc *oracleClient
	if *oracle != "" {
		orc = &oracleClient{t: t, base: *oracle, reset: map[string]bool{}}
	}
	changed := false
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", path, b.line)
		switch b.cmd {
		case "write":
			s.write(b.args[0], b.opts["rp"], b.opts["precision"], strings.Join(b.input, "\n"))
			if orc != nil && b.opts["oracle"] != "skip" {
				orc.write(b.args[0], b.opts["rp"], b.opts["precision"], strings.Join(b.input, "\n"))
			}
		case "create-rp":
			d, err := time.ParseDuration(b.opts["shard"])
			if err != nil {
				t.Fatalf("%s: shard: %v", where, err)
			}
			_, def := b.opts["default"]
			if len(b.args) > 2 && b.args[2] == "default" {
				def = true
			}
			s.createRP(b.args[0], b.args[1], d, def)
			if orc != nil {
				q := fmt.Sprintf("CREATE RETENTION POLICY %q ON %q DURATION INF REPLICATION 1 SHARD DURATION %s", b.args[1], b.args[0], b.opts["shard"])
				if def {
					q += " DEFAULT"
				}
				orc.resetDB(b.args[0])
				orc.query("", q, "", 0, true)
			}
		case "flush":
			s.flush()
		case "query":
			q := strings.Join(b.input, "\n")
			opts := query.ExecutionOptions{RetentionPolicy: b.opts["rp"]}
			if n, ok := b.opts["chunk"]; ok {
				opts.ChunkSize, _ = strconv.Atoi(n)
			}
			s.now = testNow
			if n, ok := b.opts["now"]; ok {
				tm, err := time.Parse(time.RFC3339Nano, n)
				if err != nil {
					t.Fatalf("%s: now: %v", where, err)
				}
				s.now = tm
			}
			var got []string
			for _, r := range s.query(b.args[0], q, opts) {
				got = append(got, encodeResult(r))
			}
			switch {
			case orc != nil && b.opts["oracle"] != "skip":
				// 1.6 answers the first query after some writes with nothing
				// (seen with a field whose type differs across shards): ask
				// twice.
				// SELECT … INTO goes by POST (by GET 1.x adds a warning,
				// which the statement executor adds in Strata) and only
				// once.
				post := writesInto(q)
				if !post {
					orc.query(b.args[0], q, b.opts["rp"], opts.ChunkSize, false)
				}
				want := orc.query(b.args[0], q, b.opts["rp"], opts.ChunkSize, post)
				if strings.Join(want, "\n") != strings.Join(got, "\n") {
					t.Logf("%s: Strata differs from the oracle\nquery: %s\nstrata: %s\noracle: %s", where, q, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if strings.Join(want, "\n") != strings.Join(b.expected, "\n") {
					b.expected, changed = want, true
				}
			case *rewrite:
				if strings.Join(got, "\n") != strings.Join(b.expected, "\n") {
					b.expected, changed = got, true
				}
			default:
				if g, w := strings.Join(got, "\n"), strings.Join(b.expected, "\n"); g != w {
					t.Errorf("%s: %s\n got: %s\nwant: %s", where, q, g, w)
				}
			}
		default:
			t.Fatalf("%s: unknown command %q", where, b.cmd)
		}
	}
	if changed {
		writeFile(t, path, blocks, prefix)
	}
}

// writesInto reports whether q is a SELECT … INTO.
func writesInto(q string) bool {
	parsed, err := influxql.ParseQuery(q)
	if err != nil || len(parsed.Statements) != 1 {
		return false
	}
	sel, ok := parsed.Statements[0].(*influxql.SelectStatement)
	return ok && sel.Target != nil
}

// oracleClient talks to a real InfluxDB 1.x.
type oracleClient struct {
	t     *testing.T
	base  string
	reset map[string]bool
}

// http returns a client that keeps no idle connections, whose goroutines
// goleak would report.
func (o *oracleClient) http() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func (o *oracleClient) resetDB(db string) {
	if o.reset[db] {
		return
	}
	o.reset[db] = true
	o.query("", fmt.Sprintf("DROP DATABASE %q", db), "", 0, true)
	o.query("", fmt.Sprintf("CREATE DATABASE %q", db), "", 0, true)
}

func (o *oracleClient) write(db, rp, precision, lines string) {
	o.resetDB(db)
	v := url.Values{"db": {db}}
	if rp != "" {
		v.Set("rp", rp)
	}
	if precision != "" {
		v.Set("precision", precision)
	}
	resp, err := o.http().Post(o.base+"/write?"+v.Encode(), "text/plain", strings.NewReader(lines))
	if err != nil {
		o.t.Fatalf("oracle write: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		o.t.Fatalf("oracle write: %s: %s", resp.Status, body)
	}
}

// query returns the results of q, one JSON object per line.
func (o *oracleClient) query(db, q, rp string, chunk int, post bool) []string {
	v := url.Values{"q": {q}}
	if db != "" {
		v.Set("db", db)
	}
	if rp != "" {
		v.Set("rp", rp)
	}
	if chunk > 0 {
		v.Set("chunked", "true")
		v.Set("chunk_size", strconv.Itoa(chunk))
	}
	var resp *http.Response
	var err error
	if post {
		resp, err = o.http().PostForm(o.base+"/query", v)
	} else {
		resp, err = o.http().Get(o.base + "/query?" + v.Encode())
	}
	if err != nil {
		o.t.Fatalf("oracle query: %v", err)
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var doc struct {
			Results []json.RawMessage `json:"results"`
			Error   string            `json:"error"`
		}
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			o.t.Fatalf("oracle response %q: %v", sc.Text(), err)
		}
		if doc.Error != "" {
			out = append(out, `{"statement_id":0,"error":`+jsonString(doc.Error)+`}`)
		}
		for _, r := range doc.Results {
			out = append(out, string(r))
		}
	}
	return out
}
