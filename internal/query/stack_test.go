package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/lineprotocol"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage"
	"github.com/stratadb/strata/internal/vfs"
)

// stack is a real in-process Strata: meta, storage, the points writer and
// the query engine, in a temporary directory.
type stack struct {
	t      testing.TB
	meta   *meta.Store
	store  *storage.Store
	writer *coordinator.PointsWriter
	engine *query.Engine
	now    time.Time
}

// metaClient gives the points writer what it reads from meta.
type metaClient struct{ s *meta.Store }

func (m metaClient) Database(name string) *meta.DatabaseInfo { return m.s.Database(name) }

func (m metaClient) CreateShardGroupIfNotExists(db, rp string, t time.Time) (*meta.ShardGroupInfo, error) {
	return m.s.CreateShardGroupIfNotExists(db, rp, t)
}

func (m metaClient) ShardExists(id uint64) bool {
	_, _, sg := m.s.Data().ShardOwner(id)
	return sg != nil
}

// testNow is the engine's clock unless a query sets another.
var testNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newStack(t testing.TB, opts query.EngineOptions) *stack {
	t.Helper()
	dir := t.TempDir()
	ms, err := meta.Open(vfs.OS{}, filepath.Join(dir, "meta"), meta.Options{RetentionAutoCreate: true, BcryptCost: 4})
	if err != nil {
		t.Fatalf("open meta: %v", err)
	}
	st, err := storage.Open(vfs.OS{}, filepath.Join(dir, "data"), filepath.Join(dir, "wal"), storage.Options{})
	if err != nil {
		t.Fatalf("open storage: %v", err)
	}
	s := &stack{t: t, meta: ms, store: st, now: testNow}
	s.writer = coordinator.NewPointsWriter(metaClient{ms}, st, coordinator.PointsWriterOptions{})
	if opts.Now == nil {
		opts.Now = func() time.Time { return s.now }
	}
	if opts.PointsWriter == nil {
		opts.PointsWriter = s.writer
	}
	s.engine = query.NewEngine(opts, &query.LocalShardMapper{Meta: ms, Store: st}, ms)
	t.Cleanup(func() {
		s.engine.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close storage: %v", err)
		}
		if err := ms.Close(); err != nil {
			t.Errorf("close meta: %v", err)
		}
	})
	return s
}

// createDatabase creates db (with autogen) unless it exists.
func (s *stack) createDatabase(db string) {
	s.t.Helper()
	if s.meta.Database(db) != nil {
		return
	}
	if _, err := s.meta.CreateDatabase(db); err != nil {
		s.t.Fatalf("create database %s: %v", db, err)
	}
}

// createRP creates an infinite retention policy with the given shard
// duration.
func (s *stack) createRP(db, rp string, shard time.Duration, makeDefault bool) {
	s.t.Helper()
	s.createDatabase(db)
	inf := time.Duration(0)
	err := s.meta.Apply(func(d *meta.Data) error {
		return d.CreateRetentionPolicy(db, &meta.RetentionPolicySpec{Name: rp, Duration: &inf, ShardGroupDuration: shard}, makeDefault)
	})
	if err != nil {
		s.t.Fatalf("create rp: %v", err)
	}
}

// write writes line protocol (nanosecond timestamps unless precision says
// otherwise) to db.rp, creating db.
func (s *stack) write(db, rp, precision, lines string) {
	s.t.Helper()
	s.createDatabase(db)
	prec := lineprotocol.Nanosecond
	if precision != "" {
		var err error
		if prec, err = lineprotocol.ParsePrecision(precision); err != nil {
			s.t.Fatalf("precision: %v", err)
		}
	}
	var p lineprotocol.Parser
	points, errs := p.Parse([]byte(lines), prec, s.now.UnixNano())
	if len(errs) > 0 {
		s.t.Fatalf("parse %q: %v", lines, errs[0])
	}
	if err := s.writer.WritePoints(context.Background(), db, rp, points); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// flush snapshots every shard's cache into data files.
func (s *stack) flush() {
	s.t.Helper()
	for _, id := range s.store.ShardIDs() {
		if err := s.store.Shard(id).Flush(); err != nil {
			s.t.Fatalf("flush shard %d: %v", id, err)
		}
	}
}

// query runs one SELECT and returns its results.
func (s *stack) query(db, q string, opts query.ExecutionOptions) []*query.Result {
	s.t.Helper()
	opts.Database = db
	parsed, err := influxql.ParseQuery(q)
	if err != nil {
		return []*query.Result{{Err: fmt.Errorf("error parsing query: %w", err)}}
	}
	if len(parsed.Statements) != 1 {
		s.t.Fatalf("want one statement: %s", q)
	}
	var out []*query.Result
	collect := func(r *query.Result) error {
		out = append(out, r)
		return nil
	}
	switch stmt := parsed.Statements[0].(type) {
	case *influxql.SelectStatement:
		err = s.engine.Select(context.Background(), stmt, opts, collect)
	case *influxql.ExplainStatement:
		err = s.engine.Explain(context.Background(), stmt, opts, collect)
	default:
		s.t.Fatalf("not a SELECT or EXPLAIN: %s", q)
	}
	if err != nil {
		s.t.Fatalf("select: %v", err)
	}
	return out
}

// encodeResult renders one result the way 1.x's JSON does (what httpd
// writes): times as RFC3339Nano, keys in 1.x's order.
func encodeResult(r *query.Result) string {
	var b strings.Builder
	b.WriteString(`{"statement_id":`)
	b.WriteString(strconv.Itoa(r.StatementID))
	if len(r.Series) > 0 {
		b.WriteString(`,"series":[`)
		for i, row := range r.Series {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			sep := ""
			if row.Name != "" {
				b.WriteString(`"name":` + jsonString(row.Name))
				sep = ","
			}
			if len(row.Tags) > 0 {
				keys := make([]string, 0, len(row.Tags))
				for k := range row.Tags {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				b.WriteString(sep + `"tags":{`)
				for i, k := range keys {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(jsonString(k) + ":" + jsonString(row.Tags[k]))
				}
				b.WriteByte('}')
				sep = ","
			}
			if len(row.Columns) > 0 {
				b.WriteString(sep + `"columns":[`)
				for i, c := range row.Columns {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(jsonString(c))
				}
				b.WriteByte(']')
				sep = ","
			}
			if len(row.Values) > 0 {
				b.WriteString(sep + `"values":[`)
				for i, vals := range row.Values {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteByte('[')
					for j, v := range vals {
						if j > 0 {
							b.WriteByte(',')
						}
						b.WriteString(jsonValue(v))
					}
					b.WriteByte(']')
				}
				b.WriteByte(']')
				sep = ","
			}
			if row.Partial {
				b.WriteString(sep + `"partial":true`)
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	if r.Partial {
		b.WriteString(`,"partial":true`)
	}
	if r.Err != nil {
		b.WriteString(`,"error":` + jsonString(r.Err.Error()))
	}
	b.WriteByte('}')
	return b.String()
}

func jsonString(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}

func jsonValue(v any) string {
	switch v := v.(type) {
	case time.Time:
		return `"` + v.Format(time.RFC3339Nano) + `"`
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "null"
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(out)
}
