package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// queryServer answers /query with a body derived from the statement, and
// fails some types on purpose.
func queryServer(t *testing.T, answer func(q string) (int, string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Influxdb-Version", "fake-q")
		switch r.URL.Path {
		case "/ping":
			w.WriteHeader(http.StatusNoContent)
		case "/query":
			if r.Method != http.MethodGet || r.URL.Query().Get("epoch") != "ns" || r.URL.Query().Get("db") != "benchdb" {
				http.Error(w, `{"error":"bad request shape"}`, http.StatusBadRequest)
				return
			}
			status, body := answer(r.URL.Query().Get("q"))
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func goodAnswer(q string) (int, string) {
	rows := strings.Count(q, "usage") + 1
	var vals []string
	for i := range rows {
		vals = append(vals, fmt.Sprintf("[%d,%d]", i, len(q)))
	}
	return 200, `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","max"],"values":[` + strings.Join(vals, ",") + `]}]}]}`
}

func TestRunQueries(t *testing.T) {
	ds := testDataset(50, 24*time.Hour)
	bad := queryServer(t, func(q string) (int, string) {
		switch {
		case strings.Contains(q, "LIMIT 5"):
			return 500, `{"error":"engine exploded"}`
		case strings.Contains(q, "LIMIT 1"):
			return 200, `{"results":[{"statement_id":0,"error":"not implemented: ORDER BY time DESC"}]}`
		case strings.Contains(q, "> 90"):
			return 200, `<html>oops</html>`
		}
		return goodAnswer(q)
	})
	var progress bytes.Buffer
	res, err := RunQueries(context.Background(), QueryConfig{URL: bad.URL, Database: "benchdb", PerType: 4, Progress: &progress}, ds)
	if err != nil {
		t.Fatal(err)
	}
	if res.ServerVersion != "fake-q" || len(res.Types) != len(QueryTypes()) {
		t.Fatalf("version %q, %d types", res.ServerVersion, len(res.Types))
	}
	byType := map[string]QueryTypeResult{}
	for _, tr := range res.Types {
		byType[tr.Type] = tr
		if tr.Queries != 4 || len(tr.Outcomes) != 4 || len(tr.Hash) != 16 {
			t.Fatalf("%s: %d queries, %d outcomes, hash %q", tr.Type, tr.Queries, len(tr.Outcomes), tr.Hash)
		}
	}
	for typ, want := range map[string]string{
		GroupbyOrderbyLim: "status 500: {\"error\":\"engine exploded\"}",
		Lastpoint:         "not implemented: ORDER BY time DESC",
		HighCPU1:          "malformed query response",
	} {
		tr := byType[typ]
		if tr.Errors != 4 || !strings.Contains(tr.FirstError, want) || tr.Latency.Count != 0 {
			t.Fatalf("%s: errors %d first %q latency %+v; want 4 errors like %q", typ, tr.Errors, tr.FirstError, tr.Latency, want)
		}
	}
	one := byType[SingleGroupby111]
	if one.Errors != 0 || one.Rows != 8 || one.Latency.Count != 4 || one.Latency.P50 <= 0 {
		t.Fatalf("single-groupby-1-1-1: %+v", one)
	}
	if !strings.Contains(progress.String(), "engine exploded") {
		t.Fatalf("progress does not show the failure:\n%s", progress.String())
	}

	// Same answers from another server: same hashes. One answer changed:
	// that type's hash changes and no other.
	again, err := RunQueries(context.Background(), QueryConfig{URL: bad.URL, Database: "benchdb", PerType: 4}, ds)
	if err != nil {
		t.Fatal(err)
	}
	target := res.Types[0].Outcomes[2].Statement
	other := queryServer(t, func(q string) (int, string) {
		if q == target {
			return 200, `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","max"],"values":[[0,1]]}]}]}`
		}
		if strings.Contains(q, "LIMIT") || strings.Contains(q, "> 90") {
			return 500, `{}`
		}
		return goodAnswer(q)
	})
	diff, err := RunQueries(context.Background(), QueryConfig{URL: other.URL, Database: "benchdb", PerType: 4}, ds)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Types {
		if res.Types[i].Hash != again.Types[i].Hash {
			t.Fatalf("%s: hash changed between identical runs", res.Types[i].Type)
		}
		changed := res.Types[i].Hash != diff.Types[i].Hash
		typ := res.Types[i].Type
		wantChanged := i == 0 || typ == Lastpoint || typ == HighCPU1 // both fail LIMIT 5 with a 500
		if changed != wantChanged {
			t.Fatalf("%s: hash changed = %v, want %v", res.Types[i].Type, changed, wantChanged)
		}
	}
}

func TestRunQueriesConfigErrors(t *testing.T) {
	srv := queryServer(t, goodAnswer)
	ds := testDataset(1, time.Hour)
	if _, err := RunQueries(context.Background(), QueryConfig{URL: srv.URL, Types: []string{"nope"}}, ds); err == nil {
		t.Fatal("unknown type accepted")
	}
	if _, err := RunQueries(context.Background(), QueryConfig{URL: srv.URL, PerType: -1}, ds); err == nil {
		t.Fatal("negative count accepted")
	}
	// A timeout is a failed query, not a failed run.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/query" {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer slow.Close()
	res, err := RunQueries(context.Background(), QueryConfig{URL: slow.URL, Types: []string{Lastpoint}, PerType: 2, Timeout: 20 * time.Millisecond}, ds)
	if err != nil {
		t.Fatal(err)
	}
	if res.Types[0].Errors != 2 || !strings.Contains(res.Types[0].FirstError, "deadline") {
		t.Fatalf("timeouts: %+v", res.Types[0])
	}
}
