package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/e2e/harness"
)

// The SELECT cases are data: testdata/select/*.txt, one server per file,
// blocks run in order:
//
//	config
//	<TOML merged into the server's config; first block only>
//	----
//
//	write db=<db> [rp=<rp>] [precision=<p>] [differs=<why>]
//	<line protocol>
//	----
//	<status>
//	[<body>]
//
//	restart
//	----
//	(stops stratad gracefully and starts it again on the same data)
//
//	query [name=<subtest>] [method=GET|POST] [in=url|form] [accept=<type>]
//	      [differs=<why>] [<any /query parameter>=<value> ...]
//	<statements>
//	----
//	<status> [<Content-Type>, shown when accept is set]
//	<body>
//
// Values may be quoted, 'like this' (taken literally) or "like this" (Go
// syntax). The expected output ends at a blank line; an output that holds
// blank lines (CSV) is fenced by a second "----" line after the first one
// and a "----" "----" pair after it. Bodies are shown as sent, except that
// a chunked JSON answer is split into its documents, one a line, and a
// msgpack answer is rendered as text (harness.MsgpackText). A chunked JSON
// answer is also merged, following the partial flags, and compared with
// the same query unchunked, unless the config sets max-row-limit.
//
// -rewrite replaces the expected outputs with what the server answered.
//
// The same files run against a real InfluxDB 1.x to show parity:
//
//	STRATA_E2E_INFLUXD=/usr/bin/influxd go test -run TestSelectCases ./e2e/
//	STRATA_E2E_URL=http://127.0.0.1:8086 go test -run TestSelectCases ./e2e/
//
// There, a block marked differs=<why> may answer differently (the reason
// names where docs/compat.md or internal/query/doc.go explain it); the
// difference is logged, not failed. Any other difference fails.
var rewriteSelect = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/select with the server's answers")

type selectBlock struct {
	cmd      string
	opts     map[string]string
	order    []string // option keys in file order
	input    []string
	expected []string
	line     int // 1-based line of the command
	// outStart and outEnd delimit the expected output's lines (0-based,
	// end exclusive), fences excluded, for -rewrite.
	outStart, outEnd int
	fenced           bool
}

func parseSelectFile(t *testing.T, path string) ([]*selectBlock, []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var blocks []*selectBlock
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		b := &selectBlock{line: i + 1, opts: map[string]string{}}
		tokens, err := splitArgs(l)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, b.line, err)
		}
		b.cmd = tokens[0]
		for _, tok := range tokens[1:] {
			k, v, ok := strings.Cut(tok, "=")
			if !ok {
				t.Fatalf("%s:%d: argument %q is not key=value", path, b.line, tok)
			}
			b.opts[k] = v
			b.order = append(b.order, k)
		}
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			b.input = append(b.input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: block without ----", path, b.line)
		}
		i++
		if i < len(lines) && lines[i] == "----" {
			b.fenced = true
			i++
			b.outStart = i
			for ; i < len(lines) && (lines[i] != "----" || i+1 >= len(lines) || lines[i+1] != "----"); i++ {
				b.expected = append(b.expected, lines[i])
			}
			if i >= len(lines) {
				t.Fatalf("%s:%d: fenced output without its closing ---- ----", path, b.line)
			}
			b.outEnd = i
			i += 2
		} else {
			b.outStart = i
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				b.expected = append(b.expected, lines[i])
			}
			b.outEnd = i
		}
		blocks = append(blocks, b)
	}
	return blocks, lines
}

// splitArgs splits a command line at spaces, keeping quoted values whole.
func splitArgs(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inTok := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inTok {
				out = append(out, cur.String())
				cur.Reset()
				inTok = false
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' at column %d", i+1)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inTok = true
		case c == '"':
			prefix, err := strconv.QuotedPrefix(line[i:])
			if err != nil {
				return nil, fmt.Errorf("bad quoted value at column %d: %w", i+1, err)
			}
			v, _ := strconv.Unquote(prefix)
			cur.WriteString(v)
			i += len(prefix) - 1
			inTok = true
		default:
			cur.WriteByte(c)
			inTok = true
		}
	}
	if inTok {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return out, nil
}

// rewriteSelectFile replaces each block's expected output with got.
func rewriteSelectFile(t *testing.T, path string, lines []string, blocks []*selectBlock, got map[*selectBlock]string) {
	t.Helper()
	var out []string
	next := 0
	for _, b := range blocks {
		g, ok := got[b]
		if !ok {
			continue
		}
		out = append(out, lines[next:b.outStart]...)
		gl := strings.Split(g, "\n")
		needFence := false
		for _, l := range gl {
			if strings.TrimSpace(l) == "" {
				needFence = true
			}
		}
		switch {
		case needFence && !b.fenced:
			out = append(out, "----")
			out = append(out, gl...)
			out = append(out, "----", "----")
			next = b.outEnd
		case !needFence && b.fenced:
			out = out[:len(out)-1] // drop the opening fence
			out = append(out, gl...)
			next = b.outEnd + 2
		default:
			out = append(out, gl...)
			next = b.outEnd
		}
	}
	out = append(out, lines[next:]...)
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

var createDatabaseRE = regexp.MustCompile(`(?i)\bCREATE\s+DATABASE\s+"?([A-Za-z0-9_]+)`)

// TestSelectCases runs testdata/select/*.txt against the real stratad (or,
// in parity mode, against InfluxDB 1.x).
func TestSelectCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "select", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files under testdata/select (%v)", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			if !harness.ParityMode() || os.Getenv(harness.EnvURL) == "" {
				t.Parallel() // one server per file; an attached server is shared
			}
			runSelectFile(t, path)
		})
	}
}

func runSelectFile(t *testing.T, path string) {
	blocks, lines := parseSelectFile(t, path)
	config := ""
	if len(blocks) > 0 && blocks[0].cmd == "config" {
		config = strings.Join(blocks[0].input, "\n") + "\n"
		blocks = blocks[1:]
	}
	mergeCheck := !strings.Contains(config, "max-row-limit")
	s := harness.Target(t, config)
	if s.External() {
		// A shared server keeps what earlier runs wrote: start clean.
		for _, b := range blocks {
			for _, m := range createDatabaseRE.FindAllStringSubmatch(strings.Join(b.input, "\n"), -1) {
				s.MustQuery("DROP DATABASE "+m[1], nil)
				t.Cleanup(func() { s.Query("DROP DATABASE "+m[1], nil) })
			}
		}
	}
	got := map[*selectBlock]string{}
	for _, b := range blocks {
		var out string
		switch b.cmd {
		case "write":
			out = runSelectWrite(t, s, b)
		case "query":
			out = runSelectQuery(t, s, b, mergeCheck)
		case "restart":
			// A graceful restart flushes the caches into data files, so
			// the queries after it read files, and the cache once new
			// points arrive. A reference server keeps running.
			if !harness.ParityMode() {
				s.Stop()
				s = s.Restart(harness.Options{Config: config})
			}
			continue
		default:
			t.Fatalf("%s:%d: unknown command %q", path, b.line, b.cmd)
		}
		got[b] = out
		want := strings.Join(b.expected, "\n")
		if out == want || *rewriteSelect {
			continue
		}
		name := b.opts["name"]
		if name == "" {
			name = b.cmd
		}
		msg := fmt.Sprintf("%s:%d (%s): %s\n got:\n%s\nwant:\n%s", path, b.line, name, strings.Join(b.input, " "), out, want)
		if why := b.opts["differs"]; why != "" && harness.ParityMode() {
			t.Logf("known difference from InfluxDB 1.x (%s) at %s", why, msg)
			continue
		}
		t.Errorf("%s", msg)
	}
	if *rewriteSelect {
		rewriteSelectFile(t, path, lines, blocks, got)
	}
}

func runSelectWrite(t *testing.T, s *harness.Server, b *selectBlock) string {
	t.Helper()
	v := url.Values{}
	for _, k := range b.order {
		if !selectControlKeys[k] {
			v.Set(k, b.opts[k])
		}
	}
	r := s.Write(v, strings.Join(b.input, "\n")+"\n")
	return strings.TrimRight(strconv.Itoa(r.Status)+"\n"+r.Body, "\n")
}

// selectControlKeys are block options that are not /query parameters.
var selectControlKeys = map[string]bool{"name": true, "method": true, "in": true, "accept": true, "differs": true}

func runSelectQuery(t *testing.T, s *harness.Server, b *selectBlock, mergeCheck bool) string {
	t.Helper()
	params := url.Values{}
	for _, k := range b.order {
		if !selectControlKeys[k] {
			params.Set(k, b.opts[k])
		}
	}
	q := strings.Join(b.input, "\n")
	r := doSelect(t, s, b.opts, q, params)
	out := strconv.Itoa(r.Status)
	if b.opts["accept"] != "" {
		out += " " + r.Header.Get("Content-Type")
	}
	body, err := renderSelectBody(r, params)
	if err != nil {
		t.Errorf("line %d: %v\nbody: %q", b.line, err, r.Body)
	}
	out = strings.TrimRight(out+"\n"+body, "\n")

	if mergeCheck && params.Get("chunked") == "true" && r.Status == http.StatusOK &&
		!strings.Contains(r.Header.Get("Content-Type"), "csv") && !strings.Contains(r.Header.Get("Content-Type"), "msgpack") &&
		params.Get("pretty") != "true" {
		plain := url.Values{}
		for k, v := range params {
			if k != "chunked" && k != "chunk_size" {
				plain[k] = v
			}
		}
		whole := doSelect(t, s, b.opts, q, plain)
		checkChunksMerge(t, b.line, r.Body, whole.Body)
	}
	return out
}

func doSelect(t *testing.T, s *harness.Server, opts map[string]string, q string, params url.Values) harness.Response {
	t.Helper()
	header := http.Header{}
	if a := opts["accept"]; a != "" {
		header.Set("Accept", a)
	}
	method := opts["method"]
	if method == "" {
		method = http.MethodPost
	}
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	v.Set("q", q)
	if method == http.MethodGet || opts["in"] == "url" {
		return s.Do(method, "/query?"+v.Encode(), header, nil)
	}
	header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.Do(method, "/query", header, strings.NewReader(v.Encode()))
}

// renderSelectBody shows a response body as the case files do.
func renderSelectBody(r harness.Response, params url.Values) (string, error) {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.Contains(ct, "msgpack"):
		return harness.MsgpackText([]byte(r.Body))
	case params.Get("chunked") == "true" && params.Get("pretty") != "true" && strings.Contains(ct, "json"):
		docs, err := harness.JSONDocuments([]byte(r.Body))
		var out strings.Builder
		for _, d := range docs {
			var buf bytes.Buffer
			if err := json.Compact(&buf, d); err != nil {
				return r.Body, err
			}
			out.Write(buf.Bytes())
			out.WriteByte('\n')
		}
		if err != nil {
			return r.Body, err
		}
		return out.String(), nil
	}
	return r.Body, nil
}

// selectResponse is a /query JSON document, decoded loosely enough to be
// compared and re-encoded (numbers stay json.Number).
type selectResponse struct {
	Results []map[string]any `json:"results"`
	Error   string           `json:"error,omitempty"`
}

func decodeSelect(doc []byte) (selectResponse, error) {
	var r selectResponse
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	err := dec.Decode(&r)
	return r, err
}

// mergeChunks joins the documents of a chunked answer as a client does:
// a result continues the previous one when that one was partial and has
// the same statement_id, and a series continues the previous series when
// that one was partial and has the same name and tags.
func mergeChunks(docs []json.RawMessage) ([]map[string]any, error) {
	var merged []map[string]any
	for i, d := range docs {
		r, err := decodeSelect(d)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if r.Error != "" {
			return nil, fmt.Errorf("document %d is an error: %s", i, r.Error)
		}
		for _, res := range r.Results {
			if n := len(merged); n > 0 && merged[n-1]["partial"] == true &&
				reflect.DeepEqual(merged[n-1]["statement_id"], res["statement_id"]) {
				mergeResultInto(merged[n-1], res)
				continue
			}
			merged = append(merged, res)
		}
	}
	for _, res := range merged {
		delete(res, "partial")
		series, _ := res["series"].([]any)
		for _, s := range series {
			if m, ok := s.(map[string]any); ok {
				delete(m, "partial")
			}
		}
	}
	return merged, nil
}

func mergeResultInto(dst, src map[string]any) {
	dstSeries, _ := dst["series"].([]any)
	srcSeries, _ := src["series"].([]any)
	for _, s := range srcSeries {
		sm, _ := s.(map[string]any)
		if n := len(dstSeries); n > 0 && sm != nil {
			last, _ := dstSeries[n-1].(map[string]any)
			if last != nil && last["partial"] == true && last["name"] == sm["name"] &&
				reflect.DeepEqual(last["tags"], sm["tags"]) && reflect.DeepEqual(last["columns"], sm["columns"]) {
				lv, _ := last["values"].([]any)
				sv, _ := sm["values"].([]any)
				last["values"] = append(lv, sv...)
				if sm["partial"] == true {
					last["partial"] = true
				} else {
					delete(last, "partial")
				}
				continue
			}
		}
		dstSeries = append(dstSeries, s)
	}
	if dstSeries != nil {
		dst["series"] = dstSeries
	}
	if msgs, ok := src["messages"].([]any); ok {
		old, _ := dst["messages"].([]any)
		dst["messages"] = append(old, msgs...)
	}
	if e, ok := src["error"]; ok {
		dst["error"] = e
	}
	if src["partial"] == true {
		dst["partial"] = true
	} else {
		delete(dst, "partial")
	}
}

// checkChunksMerge: the documents of a chunked answer, merged, are the
// unchunked answer.
func checkChunksMerge(t *testing.T, line int, chunkedBody, wholeBody string) {
	t.Helper()
	docs, err := harness.JSONDocuments([]byte(chunkedBody))
	if err != nil {
		t.Errorf("line %d: chunked answer: %v", line, err)
		return
	}
	merged, err := mergeChunks(docs)
	if err != nil {
		t.Errorf("line %d: %v", line, err)
		return
	}
	whole, err := decodeSelect([]byte(wholeBody))
	if err != nil {
		t.Errorf("line %d: unchunked answer %q: %v", line, wholeBody, err)
		return
	}
	if !reflect.DeepEqual(merged, whole.Results) {
		m, _ := json.Marshal(merged)
		w, _ := json.Marshal(whole.Results)
		t.Errorf("line %d: the chunks merged differ from the unchunked answer:\nmerged: %s\nwhole:  %s", line, m, w)
	}
}

// slowSelect is a query that runs for minutes on a CPU while holding
// almost no memory: a billion empty buckets are filled and skipped by the
// OFFSET. marker makes its text unique, so SHOW QUERIES can find it.
func slowSelect(marker int) string {
	return fmt.Sprintf("SELECT count(v) FROM cpu WHERE time >= 0 AND time < 1000000000s GROUP BY time(1s) fill(0) LIMIT 1 OFFSET %d", 999000000+marker)
}

// streamingSelect answers with a long stream of rows (one per empty
// bucket) as fast as the client reads them.
func streamingSelect(marker int) string {
	return fmt.Sprintf("SELECT count(v) FROM cpu WHERE time >= 0 AND time < %ds GROUP BY time(1s) fill(0)", 100000000+marker)
}

// waitRunning waits until SHOW QUERIES lists a query whose text holds
// text, and returns its id.
func waitRunning(t *testing.T, s *harness.Server, text string) uint64 {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, q := range s.RunningQueries() {
			if strings.Contains(q.Query, text) {
				return q.ID
			}
		}
	}
	t.Fatalf("SHOW QUERIES never listed %q", text)
	return 0
}

// waitGone waits until SHOW QUERIES no longer lists query id.
func waitGone(t *testing.T, s *harness.Server, id uint64, why string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		listed := false
		for _, q := range s.RunningQueries() {
			listed = listed || q.ID == id
		}
		if !listed {
			return
		}
	}
	t.Fatalf("query %d still runs 30 s after %s: %+v", id, why, s.RunningQueries())
}

func slowQuerySetup(t *testing.T) *harness.Server {
	t.Helper()
	s := harness.Target(t, "")
	if s.External() {
		s.MustQuery("DROP DATABASE slowdb", nil)
		t.Cleanup(func() { s.Query("DROP DATABASE slowdb", nil) })
	}
	s.MustQuery("CREATE DATABASE slowdb", nil)
	if r := s.Write(url.Values{"db": {"slowdb"}, "precision": {"s"}}, "cpu v=1 10\ncpu v=2 20\n"); r.Status != http.StatusNoContent {
		t.Fatalf("write: %d %s", r.Status, r.Body)
	}
	return s
}

// TestSelectClientDisconnectCancelsQuery: a client that hangs up stops its
// query, whether the server is computing (nothing sent yet) or blocked
// sending a chunked answer the client no longer reads.
func TestSelectClientDisconnectCancelsQuery(t *testing.T) {
	s := slowQuerySetup(t)
	params := url.Values{"db": {"slowdb"}}

	t.Run("while computing", func(t *testing.T) {
		q := slowSelect(1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			body, header := harness.QueryForm(q, params)
			resp, err := s.Stream(ctx, http.MethodPost, "/query", header, body)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			done <- err
		}()
		id := waitRunning(t, s, "OFFSET 999000001")
		cancel()
		if err := <-done; err == nil {
			t.Fatalf("the query answered although it cannot have finished")
		}
		waitGone(t, s, id, "its client hung up")
	})

	t.Run("while streaming", func(t *testing.T) {
		q := streamingSelect(2)
		p := url.Values{"db": {"slowdb"}, "chunked": {"true"}, "chunk_size": {"1000"}}
		body, header := harness.QueryForm(q, p)
		resp, err := s.Stream(context.Background(), http.MethodPost, "/query", header, body)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(resp.Body)
		var first map[string]any
		if err := dec.Decode(&first); err != nil || first["results"] == nil {
			t.Fatalf("first chunk: %v %v", first, err)
		}
		id := waitRunning(t, s, "time < 100000002s")
		// Stop reading: the server fills the socket buffers and blocks.
		// It must still be running, not buffering the answer somewhere.
		time.Sleep(300 * time.Millisecond)
		if waitRunning(t, s, "time < 100000002s") != id {
			t.Fatalf("the query changed id")
		}
		_ = resp.Body.Close()
		waitGone(t, s, id, "its client hung up mid-stream")
	})
}

// TestSelectKillQuery: KILL QUERY stops a running query, computing or
// streaming; its client gets 1.x's "query interrupted" and SHOW QUERIES no
// longer lists it.
func TestSelectKillQuery(t *testing.T) {
	s := slowQuerySetup(t)

	t.Run("unknown id", func(t *testing.T) {
		body := s.MustQuery("KILL QUERY 987654321", nil)
		if want := `{"results":[{"statement_id":0,"error":"no such query id: 987654321"}]}`; strings.TrimSpace(body) != want {
			t.Fatalf("KILL QUERY of an unknown id answered %s, want %s", body, want)
		}
	})

	t.Run("while computing", func(t *testing.T) {
		type answer struct {
			r   harness.Response
			err error
		}
		done := make(chan answer, 1)
		go func() {
			body, header := harness.QueryForm(slowSelect(3), url.Values{"db": {"slowdb"}})
			resp, err := s.Stream(context.Background(), http.MethodPost, "/query", header, body)
			if err != nil {
				done <- answer{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			done <- answer{r: harness.Response{Status: resp.StatusCode, Body: string(b)}, err: err}
		}()
		id := waitRunning(t, s, "OFFSET 999000003")
		if body := s.MustQuery(fmt.Sprintf("KILL QUERY %d", id), nil); strings.TrimSpace(body) != `{"results":[{"statement_id":0}]}` {
			t.Fatalf("KILL QUERY answered %s", body)
		}
		var a answer
		select {
		case a = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the killed query did not answer within 30 s")
		}
		if a.err != nil {
			t.Fatal(a.err)
		}
		if want := `{"results":[{"statement_id":0,"error":"query interrupted"}]}`; a.r.Status != http.StatusOK || strings.TrimSpace(a.r.Body) != want {
			t.Fatalf("the killed query answered %d %s, want 200 %s", a.r.Status, a.r.Body, want)
		}
		waitGone(t, s, id, "KILL QUERY")
	})

	t.Run("while streaming", func(t *testing.T) {
		p := url.Values{"db": {"slowdb"}, "chunked": {"true"}, "chunk_size": {"1000"}}
		body, header := harness.QueryForm(streamingSelect(4), p)
		resp, err := s.Stream(context.Background(), http.MethodPost, "/query", header, body)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		dec := json.NewDecoder(resp.Body)
		var first map[string]any
		if err := dec.Decode(&first); err != nil {
			t.Fatalf("first chunk: %v", err)
		}
		id := waitRunning(t, s, "time < 100000004s")
		if body := s.MustQuery(fmt.Sprintf("KILL QUERY %d", id), nil); strings.TrimSpace(body) != `{"results":[{"statement_id":0}]}` {
			t.Fatalf("KILL QUERY answered %s", body)
		}
		// The documents already on their way arrive, then the stream must
		// end with the interruption, well before the 100 million rows.
		var last selectResponse
		docs := 0
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("after %d more documents: %v", docs, err)
			}
			if docs++; docs > 20000 {
				t.Fatalf("the stream goes on after KILL QUERY (%d documents)", docs)
			}
			if last, err = decodeSelect(raw); err != nil {
				t.Fatal(err)
			}
		}
		if len(last.Results) != 1 || last.Results[0]["error"] != "query interrupted" {
			m, _ := json.Marshal(last)
			t.Fatalf("the stream's last document is %s, want the query interrupted error", clip(string(m), 300))
		}
		t.Logf("%d documents arrived after KILL QUERY", docs)
		waitGone(t, s, id, "KILL QUERY")
	})
}

// clip shortens s for a failure message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + fmt.Sprintf(" …(%d bytes)… ", len(s)-n) + s[len(s)-n/2:]
}
