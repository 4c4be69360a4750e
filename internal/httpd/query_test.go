package httpd_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/influxql"
	"github.com/klauspost/compress/gzip"
	"github.com/tinylib/msgp/msgp"

	"github.com/stratadb/strata/internal/httpd"
	"github.com/stratadb/strata/internal/query"
)

func TestQueryExecutionOptions(t *testing.T) {
	e := newEnv(t, httpd.Options{MaxRowLimit: 7})
	wantStatus(t, e.do("GET", "/query?q=SELECT+*+FROM+cpu&db=db0&rp=week", ""), http.StatusOK)
	got := e.q.lastCall(t)
	want := query.ExecutionOptions{Database: "db0", RetentionPolicy: "week", ChunkSize: httpd.DefaultChunkSize, ReadOnly: true, MaxRowLimit: 7}
	if diff := cmp.Diff(want, got.opts); diff != "" {
		t.Fatalf("GET options (-want +got):\n%s", diff)
	}

	// POST is not read-only; chunk_size counts only with chunked=true.
	wantStatus(t, e.do("POST", "/query?q=SELECT+*+FROM+cpu&db=db0&chunked=true&chunk_size=3", ""), http.StatusOK)
	if got := e.q.lastCall(t).opts; got.ReadOnly || got.ChunkSize != 3 {
		t.Fatalf("POST chunked options = %+v", got)
	}
	wantStatus(t, e.do("POST", "/query?q=SELECT+*+FROM+cpu&chunk_size=3", ""), http.StatusOK)
	if got := e.q.lastCall(t).opts.ChunkSize; got != httpd.DefaultChunkSize {
		t.Fatalf("chunk_size without chunked = %d, want the default", got)
	}
	for _, bad := range []string{"0", "-4", "x"} {
		wantStatus(t, e.do("GET", "/query?q=SELECT+*+FROM+cpu&chunked=true&chunk_size="+bad, ""), http.StatusOK)
		if got := e.q.lastCall(t).opts.ChunkSize; got != httpd.DefaultChunkSize {
			t.Fatalf("chunk_size=%s gave %d, want the default", bad, got)
		}
	}

	// A form body carries the parameters of a POST.
	form := url.Values{"q": {"SHOW DATABASES"}, "db": {"db1"}}
	rec := e.do("POST", "/query", form.Encode(), "Content-Type: application/x-www-form-urlencoded")
	wantStatus(t, rec, http.StatusOK)
	if got := e.q.lastCall(t); got.query != "SHOW DATABASES" || got.opts.Database != "db1" {
		t.Fatalf("form POST ran %q on %q", got.query, got.opts.Database)
	}
}

func TestQueryMultipartFile(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("q", "query.iql")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, "SHOW DATABASES;\nSHOW USERS")
	_ = mw.WriteField("db", "db0")
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	rec := e.do("POST", "/query", body.String(), "Content-Type: "+mw.FormDataContentType())
	wantStatus(t, rec, http.StatusOK)
	if got := e.q.lastCall(t); got.query != "SHOW DATABASES;\nSHOW USERS" || got.opts.Database != "db0" {
		t.Fatalf("multipart query ran %q on %q", got.query, got.opts.Database)
	}
	wantBody(t, rec, `{"results":[{"statement_id":0},{"statement_id":1}]}`+"\n")
}

func TestQueryBindParams(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	for _, tc := range []struct{ params, want string }{
		{`{"v":1.5}`, "SELECT * FROM cpu WHERE value > 1.5"},
		{`{"v":2}`, "SELECT * FROM cpu WHERE value > 2"},
		{`{"v":"x"}`, "SELECT * FROM cpu WHERE value > 'x'"},
		{`{"v":true}`, "SELECT * FROM cpu WHERE value > true"},
	} {
		target := "/query?q=" + url.QueryEscape("SELECT * FROM cpu WHERE value > $v") + "&params=" + url.QueryEscape(tc.params)
		wantStatus(t, e.do("GET", target, ""), http.StatusOK)
		if got := e.q.lastCall(t).query; got != tc.want {
			t.Errorf("params %s: ran %q, want %q", tc.params, got, tc.want)
		}
	}
}

var (
	t0 = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	t1 = time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)
)

func cpuResult() *query.Result {
	return &query.Result{StatementID: 0, Series: []*query.Row{{
		Name:    "cpu",
		Tags:    map[string]string{"host": "a", "dc": "west"},
		Columns: []string{"time", "value", "n", "ok", "s", "missing"},
		Values: [][]any{
			{t0, 1.5, int64(-3), true, "x", nil},
			{t1, 1e21, uint64(18446744073709551615), false, `q"<>&`, nil},
		},
	}}}
}

func TestQueryEpoch(t *testing.T) {
	for _, tc := range []struct{ epoch, first, second string }{
		{"", `"2024-01-02T03:04:05.123456789Z"`, `"2024-01-02T03:04:06Z"`},
		{"ns", "1704164645123456789", "1704164646000000000"},
		{"n", "1704164645123456789", "1704164646000000000"},
		{"u", "1704164645123456", "1704164646000000"},
		{"µ", "1704164645123456", "1704164646000000"},
		{"ms", "1704164645123", "1704164646000"},
		{"s", "1704164645", "1704164646"},
		{"m", "28402744", "28402744"},
		{"h", "473379", "473379"},
	} {
		t.Run(tc.epoch, func(t *testing.T) {
			e := newEnv(t, httpd.Options{})
			e.q.fn = sendResults(cpuResult())
			rec := e.do("GET", "/query?q=SELECT+*+FROM+cpu&epoch="+url.QueryEscape(tc.epoch), "")
			wantStatus(t, rec, http.StatusOK)
			want := `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"dc":"west","host":"a"},` +
				`"columns":["time","value","n","ok","s","missing"],"values":[[` + tc.first + `,1.5,-3,true,"x",null],[` +
				tc.second + `,1e+21,18446744073709551615,false,"q\"\u003c\u003e\u0026",null]]}]}]}` + "\n"
			wantBody(t, rec, want)
		})
	}
}

func TestQueryCSV(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	second := &query.Result{StatementID: 1, Series: []*query.Row{
		{Name: "mem", Columns: []string{"time", "free"}, Values: [][]any{{t0, int64(5)}}},
		{Name: "disk", Tags: map[string]string{"path": "/a b,c"}, Columns: []string{"time", "used", "total"}, Values: [][]any{{t1, 0.25, 1e-7}}},
	}}
	empty := &query.Result{StatementID: 2}
	failed := &query.Result{StatementID: 3, Err: errors.New("not shown in CSV")}
	e.q.fn = sendResults(cpuResult(), second, empty, failed)
	rec := e.do("GET", "/query?q=SELECT+v+FROM+a%3BSELECT+v+FROM+b%3BSELECT+v+FROM+c%3BSELECT+v+FROM+d&epoch=s", "", "Accept: application/csv")
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/csv" {
		t.Fatalf("Content-Type = %q", ct)
	}
	want := "name,tags,time,value,n,ok,s,missing\n" +
		"cpu,\"dc=west,host=a\",1704164645,1.5,-3,true,x,\n" +
		"cpu,\"dc=west,host=a\",1704164646,1000000000000000000000,18446744073709551615,false,\"q\"\"<>&\",\n" +
		"\n" +
		"name,tags,time,free\n" +
		"mem,,1704164645,5\n" +
		"\n" +
		"name,tags,time,used,total\n" +
		"disk,\"path=/a\\ b\\,c\",1704164646,0.25,0.0000001\n"
	wantBody(t, rec, want)
}

func TestQueryMsgpack(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	res := cpuResult()
	res.Messages = []*query.Message{{Level: "warning", Text: "deprecated"}}
	e.q.fn = sendResults(res, &query.Result{StatementID: 1, Err: errors.New("boom")})
	rec := e.do("GET", "/query?q=SELECT+v+FROM+a%3BSELECT+v+FROM+b", "", "Accept: application/x-msgpack")
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-msgpack" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var js bytes.Buffer
	if _, err := msgp.UnmarshalAsJSON(&js, rec.Body.Bytes()); err != nil {
		t.Fatalf("decode msgpack: %v", err)
	}
	// msgp renders its time extension as an object; the rest is the JSON shape.
	got := js.String()
	for _, want := range []string{
		`{"results":[{"statement_id":0,"messages":[{"level":"warning","text":"deprecated"}],"series":[{"name":"cpu","tags":{"dc":"west","host":"a"},"columns":["time","value","n","ok","s","missing"],"values":[[`,
		`,1.5,-3,true,"x",null],[`,
		`{"error":"boom"}]}`,
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("msgpack as JSON:\n%s\nmissing %s", got, want)
		}
	}

	// With an epoch, times are integers.
	rec = e.do("GET", "/query?q=SELECT+v+FROM+a&epoch=s", "", "Accept: application/x-msgpack")
	js.Reset()
	if _, err := msgp.UnmarshalAsJSON(&js, rec.Body.Bytes()); err != nil {
		t.Fatalf("decode msgpack: %v", err)
	}
	if !strings.Contains(js.String(), `"values":[[1704164645,1.5,`) {
		t.Fatalf("msgpack with epoch:\n%s", js.String())
	}

	// Errors are msgpack too.
	rec = e.do("GET", "/query", "", "Accept: application/x-msgpack")
	wantStatus(t, rec, http.StatusBadRequest)
	js.Reset()
	if _, err := msgp.UnmarshalAsJSON(&js, rec.Body.Bytes()); err != nil || js.String() != `{"error":"missing required parameter \"q\""}` {
		t.Fatalf("msgpack error = %s, %v", js.String(), err)
	}
}

func TestQueryAcceptNegotiation(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	for accept, want := range map[string]string{
		"":                                 "application/json",
		"*/*":                              "application/json",
		"text/*":                           "text/csv",
		"text/html, application/csv":       "application/csv",
		"application/json;q=0.5, text/csv": "text/csv",
		"application/x-msgpack;q=0.9, text/csv;q=0.1": "application/x-msgpack",
		"image/png": "application/json",
	} {
		var headers []string
		if accept != "" {
			headers = append(headers, "Accept: "+accept)
		}
		rec := e.do("GET", "/query?q=SHOW+DATABASES", "", headers...)
		if got := rec.Header().Get("Content-Type"); got != want {
			t.Errorf("Accept %q: Content-Type %q, want %q", accept, got, want)
		}
	}
}

// Without chunking, chunks of one statement merge and max-row-limit cuts.
func TestQueryMergeAndRowLimit(t *testing.T) {
	rows := func(name string, partial bool, vals ...int64) *query.Row {
		r := &query.Row{Name: name, Columns: []string{"v"}, Partial: partial}
		for _, v := range vals {
			r.Values = append(r.Values, []any{v})
		}
		return r
	}
	results := func() []*query.Result {
		return []*query.Result{
			{StatementID: 0, Series: []*query.Row{rows("a", true, 1, 2)}, Partial: true},
			{StatementID: 0, Series: []*query.Row{rows("a", false, 3), rows("b", false, 4, 5)}},
			{StatementID: 1, Series: []*query.Row{rows("c", false, 6)}},
		}
	}
	e := newEnv(t, httpd.Options{})
	e.q.fn = sendResults(results()...)
	rec := e.do("GET", "/query?q=SELECT+v+FROM+a%3BSELECT+v+FROM+b", "")
	wantBody(t, rec, `{"results":[{"statement_id":0,"series":[{"name":"a","columns":["v"],"values":[[1],[2],[3]]},`+
		`{"name":"b","columns":["v"],"values":[[4],[5]]}]},{"statement_id":1,"series":[{"name":"c","columns":["v"],"values":[[6]]}]}]}`+"\n")

	e = newEnv(t, httpd.Options{MaxRowLimit: 4})
	e.q.fn = sendResults(results()...)
	rec = e.do("GET", "/query?q=SELECT+v+FROM+a%3BSELECT+v+FROM+b", "")
	wantBody(t, rec, `{"results":[{"statement_id":0,"series":[{"name":"a","columns":["v"],"values":[[1],[2],[3]]},`+
		`{"name":"b","columns":["v"],"values":[[4]],"partial":true}]}]}`+"\n")

	// Chunked responses are not limited.
	e.q.fn = sendResults(results()...)
	rec = e.do("GET", "/query?q=SELECT+v+FROM+a%3BSELECT+v+FROM+b&chunked=true", "")
	wantBody(t, rec, `{"results":[{"statement_id":0,"series":[{"name":"a","columns":["v"],"values":[[1],[2]],"partial":true}],"partial":true}]}`+"\n"+
		`{"results":[{"statement_id":0,"series":[{"name":"a","columns":["v"],"values":[[3]]},{"name":"b","columns":["v"],"values":[[4],[5]]}]}]}`+"\n"+
		`{"results":[{"statement_id":1,"series":[{"name":"c","columns":["v"],"values":[[6]]}]}]}`+"\n")

	// An error replaces what its statement sent before.
	e.q.fn = sendResults(results()[0], &query.Result{StatementID: 0, Err: errors.New("max-select-point limit exceeded")})
	rec = e.do("GET", "/query?q=SELECT+v+FROM+a", "")
	wantBody(t, rec, `{"results":[{"statement_id":0,"error":"max-select-point limit exceeded"}]}`+"\n")
}

// chunked=true streams: each result reaches the client, flushed, before
// the executor produces the next.
func TestQueryChunkedStreams(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	next := make(chan struct{})
	e.q.fn = func(ctx context.Context, _ *influxql.Query, _ query.ExecutionOptions) <-chan *query.Result {
		ch := make(chan *query.Result)
		go func() {
			defer close(ch)
			for i := range 3 {
				r := &query.Result{StatementID: 0, Partial: i < 2, Series: []*query.Row{{Name: "cpu", Columns: []string{"v"}, Values: [][]any{{int64(i)}}, Partial: i < 2}}}
				select {
				case ch <- r:
				case <-ctx.Done():
					return
				}
				select {
				case <-next:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	for _, gz := range []bool{false, true} {
		req, _ := http.NewRequest("GET", srv.URL+"/query?q=SELECT+v+FROM+cpu&chunked=true&chunk_size=1", nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if gz {
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		lines := bufio.NewReader(body)
		for i := range 3 {
			line, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("chunk %d: %v", i, err)
			}
			partial := `,"partial":true}],"partial":true}]}`
			if i == 2 {
				partial = `}]}]}`
			}
			want := `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["v"],"values":[[` + string(rune('0'+i)) + `]]` + partial + "\n"
			if line != want {
				t.Fatalf("chunk %d = %q, want %q", i, line, want)
			}
			next <- struct{}{} // only now may the executor send the next chunk
		}
		if rest, _ := io.ReadAll(lines); len(rest) != 0 {
			t.Fatalf("unexpected trailing data %q", rest)
		}
		_ = resp.Body.Close()
	}
}

// A client that disconnects cancels its query.
func TestQueryClientDisconnectCancels(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	started := make(chan struct{})
	canceled := make(chan struct{})
	e.q.fn = func(ctx context.Context, _ *influxql.Query, _ query.ExecutionOptions) <-chan *query.Result {
		ch := make(chan *query.Result)
		go func() {
			defer close(ch)
			close(started)
			<-ctx.Done()
			close(canceled)
		}()
		return ch
	}
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/query?q=SELECT+*+FROM+cpu", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the query's context was not canceled after the client left")
	}
	if err := <-errc; err == nil {
		t.Fatal("the client request succeeded; it should have been canceled")
	}
}

func TestQueryGzipResponse(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	e.q.fn = sendResults(cpuResult())
	rec := e.do("GET", "/query?q=SELECT+v+FROM+a", "", "Accept-Encoding: gzip, deflate")
	wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(plain), `{"results":[{"statement_id":0,"series":[{"name":"cpu"`) {
		t.Fatalf("decompressed body %q", plain)
	}
	if got := statValue(t, e.h, "queryRespBytes"); got != int64(len(plain)) {
		t.Fatalf("queryRespBytes = %d, want %d (uncompressed)", got, len(plain))
	}
	// Errors are never compressed.
	rec = e.do("GET", "/query", "", "Accept-Encoding: gzip")
	if rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("error response compressed")
	}
}

func TestQueryAsync(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	drained := make(chan struct{})
	e.q.fn = func(ctx context.Context, _ *influxql.Query, _ query.ExecutionOptions) <-chan *query.Result {
		ch := make(chan *query.Result)
		go func() {
			defer close(drained)
			defer close(ch)
			for _, r := range []*query.Result{{StatementID: 0}, {StatementID: 1, Err: errors.New("async statement failed")}} {
				select {
				case ch <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}
	rec := e.do("POST", "/query?q=SELECT+v+FROM+a%3BSELECT+v+FROM+b&async=true", "")
	wantStatus(t, rec, http.StatusNoContent)
	<-drained
	if err := e.h.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.log.String(), "async statement failed") {
		t.Fatalf("async failure not logged:\n%s", e.log.String())
	}
	// After Close, async queries are refused.
	wantStatus(t, e.do("POST", "/query?q=SELECT+v+FROM+a&async=true", ""), http.StatusInternalServerError)
}

// Close cancels async queries still running and waits for them.
func TestCloseCancelsAsync(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	stopped := make(chan struct{})
	e.q.fn = func(ctx context.Context, _ *influxql.Query, _ query.ExecutionOptions) <-chan *query.Result {
		ch := make(chan *query.Result)
		go func() {
			defer close(ch)
			<-ctx.Done()
			close(stopped)
		}()
		return ch
	}
	wantStatus(t, e.do("POST", "/query?q=SELECT+v+FROM+a&async=true", ""), http.StatusNoContent)
	if err := e.h.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned while the async query still ran")
	}
}

func TestQueryStatistics(t *testing.T) {
	e := newEnv(t, httpd.Options{})
	e.do("GET", "/query?q=SHOW+DATABASES", "")
	e.do("GET", "/query", "")
	if got := statValue(t, e.h, "queryReq"); got != 2 {
		t.Fatalf("queryReq = %d", got)
	}
	if got := statValue(t, e.h, "queryReqActive"); got != 0 {
		t.Fatalf("queryReqActive = %d", got)
	}
	if got := statValue(t, e.h, "queryRespBytes"); got != int64(len(`{"results":[{"statement_id":0}]}`+"\n")) {
		t.Fatalf("queryRespBytes = %d", got)
	}
}
