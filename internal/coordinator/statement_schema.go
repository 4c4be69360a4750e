package coordinator

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage/engine"
	"github.com/stratadb/strata/internal/storage/index"
)

// Schema exploration: SHOW MEASUREMENTS, SHOW SERIES, SHOW TAG KEYS, SHOW
// TAG VALUES, SHOW FIELD KEYS and their CARDINALITY forms. They are
// answered from the series index and the shards' series sets and field
// types; no data block is read.
//
// A series is listed when some shard of its database holds data for it
// (its id is in the shard's series set), so series whose shards retention
// dropped, or whose data DELETE removed, are not listed even while the
// database's index still knows them. A WHERE clause with a time condition
// narrows this to the shards whose groups overlap the range (1.x's tsi1
// behaviour: filtering is to the shard, not to the point). Retention
// policies named in FROM are ignored, as in 1.x, except by SHOW FIELD KEYS
// (field types are kept per shard).

// Errors of the schema and delete statements, with 1.x's texts. (They
// belong with the package's other sentinels in statement_errors.go.)
var (
	// ErrInvalidTagComparison is returned for a WHERE clause the series
	// index cannot answer: an operator other than =, !=, =~, !~, or an
	// operand other than a string or regex literal.
	ErrInvalidTagComparison = errors.New("invalid tag comparison operator")

	// ErrFieldsInDeletion is returned by DELETE and DROP SERIES when the
	// WHERE clause names a field of a measurement they delete from.
	ErrFieldsInDeletion = errors.New("fields not supported in WHERE clause during deletion")

	// ErrTimeCondition matches (errors.Is) every *TimeConditionError.
	ErrTimeCondition = errors.New("time not supported in WHERE clause")
)

// TimeConditionError is 1.x's refusal of a time condition by a statement
// that cannot honour it: "<statement> doesn't support time in WHERE
// clause".
type TimeConditionError struct{ Statement string }

func (e *TimeConditionError) Error() string {
	return e.Statement + " doesn't support time in WHERE clause"
}

// Is makes errors.Is(err, ErrTimeCondition) true.
func (e *TimeConditionError) Is(target error) bool { return target == ErrTimeCondition }

// SeriesStore is the storage the schema statements read and DELETE, DROP
// SERIES and DROP MEASUREMENT change; *storage.Store implements it.
type SeriesStore interface {
	// Index returns the series index of db, or nil if db has no data.
	Index(db string) *index.Index
	// Shards returns the shards with the given ids that are stored here.
	Shards(ids []uint64) []*engine.Shard
	// DeleteSeriesRange deletes the values of the series in [min, max]
	// in the given shards of db (all of them for nil).
	DeleteSeriesRange(ctx context.Context, db string, shardIDs []uint64, series *roaring.Bitmap, min, max int64) error
	// DropSeries deletes the series' data in every shard of db, then the
	// series from db's index.
	DropSeries(ctx context.Context, db string, series *roaring.Bitmap) error
	// DropMeasurement drops a measurement's series, data and field types.
	DropMeasurement(ctx context.Context, db, name string) error
}

// seriesStore returns Series, or Store when it is a SeriesStore (as the
// server's *storage.Store is).
func (e *StatementExecutor) seriesStore() (SeriesStore, error) {
	if e.Series != nil {
		return e.Series, nil
	}
	if s, ok := e.Store.(SeriesStore); ok {
		return s, nil
	}
	return nil, ErrNotImplemented
}

// schemaDatabase is the database a schema statement reads: the one named
// by ON, else the request's db parameter.
func schemaDatabase(on string, opts query.ExecutionOptions) (string, error) {
	if on != "" {
		return on, nil
	}
	if opts.Database != "" {
		return opts.Database, nil
	}
	return "", ErrDatabaseNameRequired
}

// schemaScope is what one schema statement reads: the database's index,
// the series that have data in the shards it covers, and its tag
// condition.
type schemaScope struct {
	idx    *index.Index    // nil: the database has no series
	shards []*engine.Shard // the shards covered
	live   *roaring.Bitmap // series with data in those shards
	cond   query.TagCondition
	timed  bool // the WHERE clause restricts time
}

// openScope splits the time range off cond and gathers the shards of db
// that overlap it (all of db's shards without a time condition).
func (e *StatementExecutor) openScope(db string, cond influxql.Expr) (*schemaScope, error) {
	rest, min, max, err := query.SplitTime(cond, e.now())
	if err != nil {
		return nil, err
	}
	tc, ok := query.TagExpr(rest)
	if !ok {
		return nil, ErrInvalidTagComparison
	}
	store, err := e.seriesStore()
	if err != nil {
		return nil, err
	}
	sc := &schemaScope{
		idx:   store.Index(db),
		cond:  tc,
		timed: min != influxql.MinTime || max != influxql.MaxTime,
		live:  roaring.New(),
	}
	if sc.idx == nil {
		return sc, nil
	}
	sc.shards = store.Shards(e.shardIDs(db, "", min, max))
	sets := make([]*roaring.Bitmap, len(sc.shards))
	for i, sh := range sc.shards {
		sets[i] = sh.SeriesIDs()
	}
	if len(sets) > 0 {
		sc.live = roaring.FastOr(sets...)
	}
	return sc, nil
}

// shardIDs returns the ids of db's shards in live groups that overlap
// [min, max], of policy rp or of every policy when rp is "".
func (e *StatementExecutor) shardIDs(db, rp string, min, max int64) []uint64 {
	di := e.Meta.Data().Database(db)
	if di == nil {
		return nil
	}
	tmin, tmax := time.Unix(0, min), time.Unix(0, max)
	var ids []uint64
	for i := range di.RetentionPolicies {
		rpi := &di.RetentionPolicies[i]
		if rp != "" && rpi.Name != rp {
			continue
		}
		for j := range rpi.ShardGroups {
			sg := &rpi.ShardGroups[j]
			if sg.Deleted() || !sg.Overlaps(tmin, tmax) {
				continue
			}
			for _, sh := range sg.Shards {
				ids = append(ids, sh.ID)
			}
		}
	}
	return ids
}

// measurementNames returns the measurements sources name (all of the
// index's without sources; regexes matched against them), sorted and
// without duplicates.
func (sc *schemaScope) measurementNames(sources influxql.Sources) [][]byte {
	if sc.idx == nil {
		return nil
	}
	return matchNames(sc.idx.MeasurementNames(), sources)
}

// matchNames filters sorted names by sources (no filter when empty).
func matchNames(all [][]byte, sources influxql.Sources) [][]byte {
	if len(sources) == 0 {
		return all
	}
	var out [][]byte
	for _, name := range all {
		for _, src := range sources {
			m, ok := src.(*influxql.Measurement)
			if !ok {
				continue
			}
			if (m.Regex != nil && m.Regex.Val.Match(name)) || (m.Regex == nil && m.Name == string(name)) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// series returns the series of measurement name that match the scope's
// condition and have data in its shards, and whether that is every
// series of the measurement (no filtering happened).
func (sc *schemaScope) series(name []byte) (set *roaring.Bitmap, whole bool, err error) {
	if sc.idx == nil || sc.cond.None {
		return roaring.New(), false, nil
	}
	all := sc.idx.MeasurementSeries(name)
	set = all
	if sc.cond.Expr != nil {
		if set, err = sc.idx.Match(name, sc.cond.Expr); err != nil {
			return nil, false, err
		}
	}
	set.And(sc.live)
	return set, set.GetCardinality() == all.GetCardinality(), nil
}

// limitSlice applies OFFSET and LIMIT (0: none) to s.
func limitSlice[T any](s []T, offset, limit int) []T {
	if offset > 0 {
		if offset >= len(s) {
			return nil
		}
		s = s[offset:]
	}
	if limit > 0 && limit < len(s) {
		s = s[:limit]
	}
	return s
}

// showMeasurements answers SHOW MEASUREMENTS. A database that does not
// exist has no measurements (1.x answers it without an error).
func (e *StatementExecutor) showMeasurements(s *influxql.ShowMeasurementsStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	if s.WildcardDatabase || s.WildcardRetentionPolicy || s.RetentionPolicy != "" {
		return e.showMeasurementsByPolicy(s, opts)
	}
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if influxql.HasTimeExpr(s.Condition) {
		return nil, &TimeConditionError{Statement: "SHOW MEASUREMENTS"}
	}
	names, err := e.measurementsWithSeries(db, sourcesOf(s.Source), s.Condition)
	if err != nil {
		return nil, err
	}
	names = limitSlice(names, s.Offset, s.Limit)
	if len(names) == 0 {
		return nil, nil
	}
	row := &query.Row{Name: "measurements", Columns: []string{"name"}}
	for _, n := range names {
		row.Values = append(row.Values, []any{string(n)})
	}
	return []*query.Row{row}, nil
}

func sourcesOf(src influxql.Source) influxql.Sources {
	if src == nil {
		return nil
	}
	return influxql.Sources{src}
}

// measurementsWithSeries returns the measurements of db named by sources
// that have a series matching cond with data in some shard.
func (e *StatementExecutor) measurementsWithSeries(db string, sources influxql.Sources, cond influxql.Expr) ([][]byte, error) {
	if e.Meta.Data().Database(db) == nil {
		return nil, nil
	}
	sc, err := e.openScope(db, cond)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, name := range sc.measurementNames(sources) {
		set, _, err := sc.series(name)
		if err != nil {
			return nil, err
		}
		if !set.IsEmpty() {
			out = append(out, name)
		}
	}
	return out, nil
}

// showMeasurementsByPolicy answers SHOW MEASUREMENTS ON db.rp, db.*, * and
// *.* (1.x since 1.9): one row per measurement and policy holding data of
// it, with columns name, database and retention_policy.
func (e *StatementExecutor) showMeasurementsByPolicy(s *influxql.ShowMeasurementsStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	if influxql.HasTimeExpr(s.Condition) {
		return nil, &TimeConditionError{Statement: "SHOW MEASUREMENTS"}
	}
	store, err := e.seriesStore()
	if err != nil {
		return nil, err
	}
	rest, _, _, err := query.SplitTime(s.Condition, e.now())
	if err != nil {
		return nil, err
	}
	tc, ok := query.TagExpr(rest)
	if !ok {
		return nil, ErrInvalidTagComparison
	}
	var dbs []string
	if s.WildcardDatabase {
		for _, di := range e.Meta.Data().Databases {
			dbs = append(dbs, di.Name)
		}
	} else {
		db, err := schemaDatabase(s.Database, opts)
		if err != nil {
			return nil, err
		}
		dbs = []string{db}
	}
	var values [][]any
	for _, db := range dbs {
		di := e.Meta.Data().Database(db)
		idx := store.Index(db)
		if di == nil || idx == nil {
			continue
		}
		for _, rpi := range di.RetentionPolicies {
			if s.RetentionPolicy != "" && !s.WildcardRetentionPolicy && rpi.Name != s.RetentionPolicy {
				continue
			}
			sc := &schemaScope{idx: idx, cond: tc, live: roaring.New()}
			var sets []*roaring.Bitmap
			for _, sh := range store.Shards(e.shardIDs(db, rpi.Name, influxql.MinTime, influxql.MaxTime)) {
				sets = append(sets, sh.SeriesIDs())
			}
			if len(sets) > 0 {
				sc.live = roaring.FastOr(sets...)
			}
			for _, name := range sc.measurementNames(sourcesOf(s.Source)) {
				set, _, err := sc.series(name)
				if err != nil {
					return nil, err
				}
				if !set.IsEmpty() {
					values = append(values, []any{string(name), db, rpi.Name})
				}
			}
		}
	}
	values = limitSlice(values, s.Offset, s.Limit)
	if len(values) == 0 {
		return nil, nil
	}
	return []*query.Row{{Name: "measurements", Columns: []string{"name", "database", "retention_policy"}, Values: values}}, nil
}

// tagKeyFilter selects tag keys by WITH KEY = | != | =~ | !~ | IN; a nil
// literal selects every key.
func tagKeyFilter(op influxql.Token, lit influxql.Expr) func(key []byte) bool {
	switch lit := lit.(type) {
	case *influxql.StringLiteral:
		if op == influxql.NEQ {
			return func(k []byte) bool { return string(k) != lit.Val }
		}
		return func(k []byte) bool { return string(k) == lit.Val }
	case *influxql.RegexLiteral:
		if op == influxql.NEQREGEX {
			return func(k []byte) bool { return !lit.Val.Match(k) }
		}
		return func(k []byte) bool { return lit.Val.Match(k) }
	case *influxql.ListLiteral:
		return func(k []byte) bool { return slices.Contains(lit.Vals, string(k)) }
	}
	return func([]byte) bool { return true }
}

// presentKeys returns the tag keys of name (sorted) that some series of
// set has; whole says set is every series of the measurement.
func presentKeys(idx *index.Index, name []byte, set *roaring.Bitmap, whole bool, keep func([]byte) bool) ([][]byte, error) {
	var out [][]byte
	for _, k := range idx.TagKeys(name) {
		if !keep(k) {
			continue
		}
		if !whole {
			with, err := idx.Match(name, index.NewLeaf(k, index.NotEqual, nil, nil))
			if err != nil {
				return nil, err
			}
			if !with.Intersects(set) {
				continue
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// presentValues returns the values (sorted) that the series of set have
// for tag key of measurement name, the first want of them (all when
// want < 0). It walks whichever is smaller: the series of set, or the key's
// values.
func presentValues(idx *index.Index, name, key []byte, set *roaring.Bitmap, whole bool, want int) ([][]byte, error) {
	if whole {
		return limitSlice(idx.TagValues(name, key), 0, max(want, 0)), nil
	}
	if n := set.GetCardinality(); n < uint64(idx.TagValueCount(name, key)) {
		seen := make(map[string]struct{})
		var out [][]byte
		var buf []byte
		var tags []models.Tag
		it := set.Iterator()
		for it.HasNext() {
			var ok bool
			buf, ok = idx.AppendSeriesKey(buf[:0], uint64(it.Next()))
			if !ok {
				continue
			}
			_, tags, err := models.ParseSeriesKey(buf, tags[:0])
			if err != nil {
				return nil, fmt.Errorf("series key %q: %w", buf, err)
			}
			for _, t := range tags {
				if bytes.Equal(t.Key, key) {
					if _, dup := seen[string(t.Value)]; !dup {
						seen[string(t.Value)] = struct{}{}
						out = append(out, bytes.Clone(t.Value))
					}
					break
				}
			}
		}
		slices.SortFunc(out, bytes.Compare)
		return limitSlice(out, 0, max(want, 0)), nil
	}
	var out [][]byte
	for _, v := range idx.TagValues(name, key) {
		if want >= 0 && len(out) >= want {
			break
		}
		ids, err := idx.Match(name, index.NewLeaf(key, index.Equal, v, nil))
		if err != nil {
			return nil, err
		}
		if ids.Intersects(set) {
			out = append(out, v)
		}
	}
	return out, nil
}

// showTagKeys answers SHOW TAG KEYS: one row per measurement, its keys
// limited by LIMIT and OFFSET, the measurements by SLIMIT and SOFFSET.
func (e *StatementExecutor) showTagKeys(s *influxql.ShowTagKeysStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if e.Meta.Data().Database(db) == nil {
		return nil, &meta.DatabaseNotFoundError{Name: db}
	}
	sc, err := e.openScope(db, s.Condition)
	if err != nil {
		return nil, err
	}
	keep := tagKeyFilter(s.TagKeyOp, s.TagKeyExpr)
	var rows []*query.Row
	for _, name := range sc.measurementNames(s.Sources) {
		set, whole, err := sc.series(name)
		if err != nil {
			return nil, err
		}
		if set.IsEmpty() {
			continue
		}
		keys, err := presentKeys(sc.idx, name, set, whole, keep)
		if err != nil {
			return nil, err
		}
		keys = limitSlice(keys, s.Offset, s.Limit)
		if len(keys) == 0 {
			continue
		}
		row := &query.Row{Name: string(name), Columns: []string{"tagKey"}}
		for _, k := range keys {
			row.Values = append(row.Values, []any{string(k)})
		}
		rows = append(rows, row)
	}
	return limitSlice(rows, s.SOffset, s.SLimit), nil
}

// tagValuePairs returns the (key, value) pairs of measurement name in the
// scope whose key WITH KEY selects, ordered by key then value: the first
// want of them (all when want < 0).
func (sc *schemaScope) tagValuePairs(name []byte, op influxql.Token, lit influxql.Literal, want int) ([][2][]byte, error) {
	set, whole, err := sc.series(name)
	if err != nil || set.IsEmpty() {
		return nil, err
	}
	keys, err := presentKeys(sc.idx, name, set, whole, tagKeyFilter(op, lit))
	if err != nil {
		return nil, err
	}
	var pairs [][2][]byte
	for _, k := range keys {
		if want >= 0 && len(pairs) >= want {
			break
		}
		vals, err := presentValues(sc.idx, name, k, set, whole, want-len(pairs))
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			pairs = append(pairs, [2][]byte{k, v})
		}
	}
	return pairs, nil
}

// showTagValues answers SHOW TAG VALUES: one row per measurement with
// columns key and value, LIMIT and OFFSET applying to each.
func (e *StatementExecutor) showTagValues(s *influxql.ShowTagValuesStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if e.Meta.Data().Database(db) == nil {
		return nil, &meta.DatabaseNotFoundError{Name: db}
	}
	sc, err := e.openScope(db, s.Condition)
	if err != nil {
		return nil, err
	}
	want := -1
	if s.Limit > 0 {
		want = s.Offset + s.Limit
	}
	var rows []*query.Row
	for _, name := range sc.measurementNames(s.Sources) {
		pairs, err := sc.tagValuePairs(name, s.Op, s.TagKeyExpr, want)
		if err != nil {
			return nil, err
		}
		pairs = limitSlice(pairs, s.Offset, s.Limit)
		if len(pairs) == 0 {
			continue
		}
		row := &query.Row{Name: string(name), Columns: []string{"key", "value"}}
		for _, p := range pairs {
			row.Values = append(row.Values, []any{string(p[0]), string(p[1])})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// fieldKey is one field of a measurement with one of its types.
type fieldKey struct {
	name string
	typ  models.FieldType
}

// measurementFields returns, per measurement of db that sources name, its
// fields with every type they have in some shard, sorted by name then type
// name. A source naming a retention policy reads only that policy's
// shards.
func (e *StatementExecutor) measurementFields(db string, sources influxql.Sources) (names []string, fields map[string][]fieldKey, err error) {
	store, err := e.seriesStore()
	if err != nil {
		return nil, nil, err
	}
	rp := ""
	for _, src := range sources {
		if m, ok := src.(*influxql.Measurement); ok && m.RetentionPolicy != "" {
			rp = m.RetentionPolicy
		}
	}
	seen := map[string]map[fieldKey]struct{}{}
	for _, sh := range store.Shards(e.shardIDs(db, rp, influxql.MinTime, influxql.MaxTime)) {
		fs := sh.Fields()
		for _, m := range fs.Measurements() {
			set := seen[m]
			if set == nil {
				set = map[fieldKey]struct{}{}
				seen[m] = set
			}
			for f, t := range fs.Fields(m) {
				set[fieldKey{f, t}] = struct{}{}
			}
		}
	}
	all := make([][]byte, 0, len(seen))
	for m := range seen {
		all = append(all, []byte(m))
	}
	slices.SortFunc(all, bytes.Compare)
	fields = make(map[string][]fieldKey)
	for _, m := range matchNames(all, sources) {
		var fk []fieldKey
		for k := range seen[string(m)] {
			fk = append(fk, k)
		}
		if len(fk) == 0 {
			continue
		}
		slices.SortFunc(fk, func(a, b fieldKey) int {
			if c := cmp.Compare(a.name, b.name); c != 0 {
				return c
			}
			return cmp.Compare(a.typ.String(), b.typ.String())
		})
		names = append(names, string(m))
		fields[string(m)] = fk
	}
	return names, fields, nil
}

// showFieldKeys answers SHOW FIELD KEYS: one row per measurement, with
// columns fieldKey and fieldType. A field stored with two types in two
// shards is listed once per type, as in 1.x.
func (e *StatementExecutor) showFieldKeys(s *influxql.ShowFieldKeysStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if e.Meta.Data().Database(db) == nil {
		return nil, &meta.DatabaseNotFoundError{Name: db}
	}
	names, fields, err := e.measurementFields(db, s.Sources)
	if err != nil {
		return nil, err
	}
	var rows []*query.Row
	for _, m := range names {
		fk := limitSlice(fields[m], s.Offset, s.Limit)
		if len(fk) == 0 {
			continue
		}
		row := &query.Row{Name: m, Columns: []string{"fieldKey", "fieldType"}}
		for _, f := range fk {
			row.Values = append(row.Values, []any{f.name, f.typ.String()})
		}
		rows = append(rows, row)
	}
	return rows, nil
}
