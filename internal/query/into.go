package query

import (
	"context"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// PointsWriter writes the points of SELECT … INTO. It is the write path of
// /write (coordinator.PointsWriter implements it): rp "" is the database's
// default retention policy, and a rejected point is an error (a
// *models.PartialWriteError for field type conflicts and the like).
type PointsWriter interface {
	WritePoints(ctx context.Context, db, rp string, points []models.Point) error
}

// intoBatch is how many points SELECT … INTO writes at a time (1.x's
// buffered writer holds as many).
const intoBatch = 10000

// selectInto runs a SELECT … INTO: the rows it would return become points
// of the target measurement (the source measurement's name for
// :MEASUREMENT), with the row's GROUP BY tags as tags and every non-null
// value as a field; the result is one row, {"time": 0, "written": N}. A row
// without a non-null value (or with a NaN) writes nothing and is not
// counted, as in 1.x.
func (e *Engine) selectInto(ctx context.Context, stmt *influxql.SelectStatement, opts ExecutionOptions, emit func(*Result) error) error {
	target := stmt.Target.Measurement
	db := target.Database
	if db == "" {
		db = opts.Database
	}
	if db == "" {
		return emit(&Result{Err: ErrDatabaseNameRequired})
	}
	if e.meta.Database(db) == nil {
		return emit(&Result{Err: &StatementError{Msg: "database not found: " + db}})
	}
	if e.opts.PointsWriter == nil {
		return emit(&Result{Err: ErrNoPointsWriter})
	}
	if u := opts.User; u != nil && !u.IsAdmin() && !u.CanWrite(db) {
		return emit(&Result{Err: &AuthorizationError{User: u.Name(), Statement: stmt.String(), Database: db, Privilege: "WRITE"}})
	}
	w := &intoWriter{ctx: ctx, pw: e.opts.PointsWriter, db: db, rp: target.RetentionPolicy, name: target.Name}
	// The rows come in chunks, so that a large result is written as it is
	// read instead of being held.
	inner := opts
	inner.ChunkSize, inner.MaxRowLimit = intoBatch, 0
	var failed error
	err := e.selectRows(ctx, stmt, inner, func(r *Result) error {
		if failed != nil {
			return nil
		}
		if r.Err != nil {
			failed = r.Err
			return nil
		}
		for _, row := range r.Series {
			if err := w.addRow(row); err != nil {
				failed = err
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if failed == nil {
		failed = w.flush()
	}
	if failed != nil {
		return emit(&Result{Err: failed})
	}
	return emit(&Result{Series: []*Row{{
		Name:    "result",
		Columns: []string{"time", "written"},
		Values:  [][]any{{time.Unix(0, 0).UTC(), w.written}},
	}}})
}

// intoWriter converts rows to points and writes them in batches.
type intoWriter struct {
	ctx     context.Context
	pw      PointsWriter
	db, rp  string
	name    string // "" for :MEASUREMENT
	buf     []models.Point
	written int64
}

func (w *intoWriter) addRow(row *Row) error {
	name := w.name
	if name == "" {
		name = row.Name
	}
	var tags []models.Tag
	for _, k := range slices.Sorted(maps.Keys(row.Tags)) {
		tags = append(tags, models.Tag{Key: []byte(k), Value: []byte(row.Tags[k])})
	}
	for _, vals := range row.Values {
		p, ok := rowPoint(name, tags, row.Columns, vals)
		if !ok {
			continue
		}
		w.buf = append(w.buf, p)
		w.written++
		if len(w.buf) >= intoBatch {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *intoWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.pw.WritePoints(w.ctx, w.db, w.rp, w.buf)
	w.buf = w.buf[:0]
	return err
}

// rowPoint makes a point of one result row; false when it has no value to
// write (or a value no point can hold).
func rowPoint(name string, tags []models.Tag, columns []string, vals []any) (models.Point, bool) {
	p := models.Point{Measurement: []byte(name), Tags: tags}
	for i, v := range vals {
		if i == 0 {
			t, ok := v.(time.Time)
			if !ok {
				return p, false
			}
			p.Time = t.UnixNano()
			continue
		}
		if i >= len(columns) || v == nil {
			continue
		}
		key := []byte(columns[i])
		switch v := v.(type) {
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return p, false
			}
			p.Fields = append(p.Fields, models.FloatField(key, v))
		case int64:
			p.Fields = append(p.Fields, models.IntegerField(key, v))
		case uint64:
			p.Fields = append(p.Fields, models.UnsignedField(key, v))
		case string:
			p.Fields = append(p.Fields, models.StringField(key, []byte(v)))
		case bool:
			p.Fields = append(p.Fields, models.BooleanField(key, v))
		}
	}
	return p, len(p.Fields) > 0
}
