package coordinator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"
	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/vfs"
)

// testNow is the clock of the points writer and of DROP SHARD in tests.
var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// env is a real meta store, a real storage store, a points writer and the
// statement executor over them, all under one temporary directory.
type env struct {
	t      testing.TB
	meta   *meta.Store
	store  *storage.Store
	writer *coordinator.PointsWriter
	exec   *coordinator.StatementExecutor
	dir    string
}

type envOptions struct {
	auth       bool // [http] auth-enabled
	noAutogen  bool // [meta] retention-autocreate = false
	selectHook coordinator.SelectFunc
	storageFS  vfs.FS // nil: vfs.Default
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	m, err := meta.Open(vfs.Default, filepath.Join(dir, "meta"), meta.Options{
		RetentionAutoCreate: !o.noAutogen,
		BcryptCost:          bcrypt.MinCost,
	})
	if err != nil {
		t.Fatalf("open meta: %v", err)
	}
	fsys := o.storageFS
	if fsys == nil {
		fsys = vfs.Default
	}
	s, err := storage.Open(fsys, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{})
	if err != nil {
		t.Fatalf("open storage: %v", err)
	}
	e := &env{t: t, meta: m, store: s, dir: dir}
	e.writer = coordinator.NewPointsWriter(metaClient{m}, s, coordinator.PointsWriterOptions{
		Now: func() time.Time { return testNow },
	})
	e.exec = &coordinator.StatementExecutor{
		Meta:        m,
		Store:       s,
		AuthEnabled: o.auth,
		Select:      o.selectHook,
		Now:         func() time.Time { return testNow },
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close storage: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("close meta: %v", err)
		}
	})
	return e
}

// metaClient adds ShardExists to *meta.Store for the points writer, as the
// server does.
type metaClient struct{ *meta.Store }

func (m metaClient) ShardExists(id uint64) bool {
	_, _, sg := m.Data().ShardOwner(id)
	return sg != nil && !sg.Deleted()
}

// write parses line protocol and writes it to db/rp.
func (e *env) write(db, rp, body string) error {
	var p lineprotocol.Parser
	points, errs := p.Parse([]byte(body), lineprotocol.Nanosecond, testNow.UnixNano())
	if len(errs) > 0 {
		return errs[0]
	}
	return e.writer.WritePoints(context.Background(), db, rp, points)
}

// user returns the named meta user as the query layer sees it, as httpd
// does after authenticating the request.
func (e *env) user(name string) query.User {
	e.t.Helper()
	ui := e.meta.Data().User(name)
	if ui == nil {
		e.t.Fatalf("no user %q", name)
	}
	return testUser{ui}
}

type testUser struct{ ui *meta.UserInfo }

func (u testUser) Name() string           { return u.ui.Name }
func (u testUser) IsAdmin() bool          { return u.ui.Admin }
func (u testUser) CanRead(db string) bool { return u.ui.AuthorizeDatabase(meta.ReadPrivilege, db) }
func (u testUser) CanWrite(db string) bool {
	return u.ui.AuthorizeDatabase(meta.WritePrivilege, db)
}

// run parses and executes text and returns every result it sends.
func (e *env) run(text string, opts query.ExecutionOptions) ([]*query.Result, error) {
	q, err := influxql.ParseQuery(text)
	if err != nil {
		return nil, err
	}
	var out []*query.Result
	for r := range e.exec.ExecuteQuery(context.Background(), q, opts) {
		out = append(out, r)
	}
	return out, nil
}

// mustRun runs text and fails the test on a parse error or on any
// statement error.
func (e *env) mustRun(text string, opts query.ExecutionOptions) []*query.Result {
	e.t.Helper()
	res, err := e.run(text, opts)
	if err != nil {
		e.t.Fatalf("parse %q: %v", text, err)
	}
	for _, r := range res {
		if r.Err != nil {
			e.t.Fatalf("%q: statement %d: %v", text, r.StatementID, r.Err)
		}
	}
	return res
}

// The response encoder below mirrors what httpd sends for /query, in 1.x's
// JSON shape, so that golden files can be compared byte for byte with a
// real InfluxDB 1.x (see testdata/record-influxd.py).

type jsonResult struct {
	StatementID int              `json:"statement_id"`
	Series      []*query.Row     `json:"series,omitempty"`
	Messages    []*query.Message `json:"messages,omitempty"`
	Partial     bool             `json:"partial,omitempty"`
	Err         string           `json:"error,omitempty"`
}

func toJSON(r *query.Result) jsonResult {
	j := jsonResult{StatementID: r.StatementID, Series: r.Series, Messages: r.Messages, Partial: r.Partial}
	if r.Err != nil {
		j.Err = r.Err.Error()
	}
	return j
}

func isAuthz(err error) bool {
	var a interface{ AuthorizationFailed() bool }
	return errors.As(err, &a) && a.AuthorizationFailed()
}

// encodeResponse renders results as the HTTP response would be: status
// and body, one line per document. Not chunked, results of one statement
// are merged as 1.x merges them (an error replaces what came before).
func encodeResponse(results []*query.Result, chunked bool) string {
	if len(results) > 0 && isAuthz(results[0].Err) {
		b, _ := json.Marshal(map[string]string{"error": "error authorizing query: " + results[0].Err.Error()})
		return "403 " + string(b)
	}
	if chunked {
		var lines []string
		for _, r := range results {
			b, _ := json.Marshal(map[string][]jsonResult{"results": {toJSON(r)}})
			lines = append(lines, string(b))
		}
		return "200 " + strings.Join(lines, "\n")
	}
	var merged []jsonResult
	for _, r := range results {
		j := toJSON(r)
		n := len(merged)
		if n == 0 || merged[n-1].StatementID != j.StatementID {
			merged = append(merged, j)
			continue
		}
		if j.Err != "" {
			merged[n-1] = j
			continue
		}
		last := &merged[n-1]
		series := j.Series
		if len(last.Series) > 0 {
			tail := last.Series[len(last.Series)-1]
			for len(series) > 0 && series[0].Name == tail.Name && fmt.Sprint(series[0].Tags) == fmt.Sprint(tail.Tags) {
				tail.Values = append(tail.Values, series[0].Values...)
				series = series[1:]
			}
		}
		last.Series = append(last.Series, series...)
		last.Messages = append(last.Messages, j.Messages...)
		last.Partial = j.Partial
	}
	if merged == nil {
		merged = []jsonResult{}
	}
	b, _ := json.Marshal(map[string][]jsonResult{"results": merged})
	return "200 " + string(b)
}
