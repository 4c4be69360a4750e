package query

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// source is one measurement of one retention policy that a query reads.
type source struct {
	db, rp, name string
	shards       []*shardData // shards holding the measurement, in time order
	index        SeriesIndex

	virtual *virtualSource // a subquery's result (no shards, no index)
	mem     []*seriesRef   // its output series
}

// shardData is a shard and what the plan learned about it.
type shardData struct {
	sh     Shard
	fields map[string]models.FieldType // the measurement's fields in this shard
	series *roaring.Bitmap             // matching series with data in the shard (set by resolve)
}

// column is a field read from storage: its name and the type the query
// reads it as (values of other numeric types are cast).
type column struct {
	name string
	typ  models.FieldType
}

// plan is a compiled SELECT bound to shards and ready to run.
type plan struct {
	c       *compiled
	stmt    *influxql.SelectStatement // wildcards expanded, types assigned
	columns []string                  // output columns, time first
	sources []*source                 // sorted by name
	dims    []string                  // GROUP BY tag keys, sorted

	cols    []column // fields read from storage
	tagExpr *indexExprPlan
	cond    *condPlan

	raw *rawPlan
	agg *aggPlan

	limit, offset, slimit, soffset int
	slimitDims                     []string // the tags SLIMIT groups by (nil: dims)
	readMin, readMax               int64    // the range read (narrower than c's with max-select-buckets)
	noPushdown                     bool     // never use block statistics
	seed                           uint64   // for sample()

	// EXPLAIN ANALYZE's counters (nil otherwise).
	stats     *readStats
	outPoints []atomic.Int64 // per output stream
}

// outPointsSnapshot returns the points each output stream produced.
func (p *plan) outPointsSnapshot() []int64 {
	out := make([]int64, len(p.outPoints))
	for i := range p.outPoints {
		out[i] = p.outPoints[i].Load()
	}
	return out
}

// allVirtual reports whether every source is a subquery's result.
func allVirtual(sources []*source) bool {
	for _, s := range sources {
		if s.virtual == nil {
			return false
		}
	}
	return len(sources) > 0
}

// virtual reports whether the statement reads a subquery.
func (p *plan) virtual() bool {
	for _, s := range p.sources {
		if s.virtual != nil {
			return true
		}
	}
	return false
}

// resolveSources normalises the statement's measurements: default database
// and retention policy, system names, and the existence checks 1.x makes,
// in its order. Subqueries resolve their own when they run.
func (e *Engine) resolveSources(stmt *influxql.SelectStatement, opts ExecutionOptions) error {
	for _, src := range stmt.Sources {
		m, ok := src.(*influxql.Measurement)
		if !ok {
			continue
		}
		if m.Regex == nil && influxql.IsSystemName(m.Name) {
			return systemSourceError(m.Name)
		}
	}
	for _, src := range stmt.Sources {
		m, ok := src.(*influxql.Measurement)
		if !ok {
			continue
		}
		if m.Database == "" {
			m.Database = opts.Database
		}
		if m.Database == "" {
			return ErrDatabaseNameRequired
		}
		di := e.meta.Database(m.Database)
		if di == nil {
			return &StatementError{Msg: "database not found: " + m.Database}
		}
		if m.RetentionPolicy == "" {
			m.RetentionPolicy = opts.RetentionPolicy
		}
		if m.RetentionPolicy == "" {
			if di.DefaultRetentionPolicy == "" {
				return invalidf("default retention policy not set for: %s", di.Name)
			}
			m.RetentionPolicy = di.DefaultRetentionPolicy
		}
	}
	// The target of INTO, as 1.x shows it (selectInto resolves it on the
	// statement as written).
	if stmt.Target != nil {
		m := stmt.Target.Measurement
		if m.Database == "" {
			m.Database = opts.Database
		}
		if di := e.meta.Database(m.Database); di != nil && m.RetentionPolicy == "" {
			m.RetentionPolicy = di.DefaultRetentionPolicy
		}
	}
	return nil
}

// mapSources maps every (db, rp) to its shards, expands regex sources into
// the measurements they match and runs subqueries, sorted by name.
func (e *Engine) mapSources(ctx context.Context, c *compiled, opts ExecutionOptions, tmin, tmax int64) ([]*source, error) {
	stmt := c.stmt
	type dbrp struct{ db, rp string }
	shardsOf := map[dbrp][]Shard{}
	var out []*source
	seen := map[[3]string]bool{}
	nsub := 0
	for _, src := range stmt.Sources {
		if _, ok := src.(*influxql.SubQuery); ok {
			so := subqueryOptions{
				dims:    mergeDims(outerDims(stmt), c.extraDims),
				slimit:  stmt.SLimit + c.slimitAdd,
				soffset: stmt.SOffset + c.soffsetAdd,
				min:     tmin,
				max:     tmax,
				explain: c.explain,
			}
			vsrcs, err := e.runSubquery(ctx, c.subs[nsub], so, opts)
			nsub++
			if err != nil {
				return nil, err
			}
			out = append(out, vsrcs...)
			continue
		}
		m := src.(*influxql.Measurement)
		key := dbrp{m.Database, m.RetentionPolicy}
		shards, ok := shardsOf[key]
		if !ok {
			var err error
			shards, err = e.mapper.MapShards(ctx, m.Database, m.RetentionPolicy, tmin, tmax)
			if err != nil {
				return nil, err
			}
			shardsOf[key] = shards
		}
		var names []string
		if m.Regex != nil {
			names = matchMeasurements(shards, m.Regex.Val)
		} else {
			names = []string{m.Name}
		}
		for _, name := range names {
			k := [3]string{m.Database, m.RetentionPolicy, name}
			if seen[k] {
				continue
			}
			seen[k] = true
			s := &source{db: m.Database, rp: m.RetentionPolicy, name: name}
			for _, sh := range shards {
				f := sh.FieldTypes(name)
				if len(f) == 0 {
					continue
				}
				s.shards = append(s.shards, &shardData{sh: sh, fields: f})
				if s.index == nil {
					s.index = sh.Index()
				}
			}
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b *source) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// matchMeasurements returns the names of the measurements of the shards'
// database that re matches, sorted.
func matchMeasurements(shards []Shard, re *regexp.Regexp) []string {
	if len(shards) == 0 {
		return nil
	}
	var names []string
	for _, n := range shards[0].Index().MeasurementNames() {
		if re.Match(n) {
			names = append(names, string(n))
		}
	}
	return names
}

// fieldMapper resolves field types and tag keys for influxql's wildcard
// expansion and type assignment.
type fieldMapper struct {
	byName map[string][]*source
}

func newFieldMapper(sources []*source) *fieldMapper {
	m := &fieldMapper{byName: map[string][]*source{}}
	for _, s := range sources {
		m.byName[s.name] = append(m.byName[s.name], s)
	}
	return m
}

func toDataType(t models.FieldType) influxql.DataType {
	switch t {
	case models.Float:
		return influxql.Float
	case models.Integer:
		return influxql.Integer
	case models.Unsigned:
		return influxql.Unsigned
	case models.String:
		return influxql.String
	case models.Boolean:
		return influxql.Boolean
	}
	return influxql.Unknown
}

func fromDataType(t influxql.DataType) models.FieldType {
	switch t {
	case influxql.Float:
		return models.Float
	case influxql.Integer:
		return models.Integer
	case influxql.Unsigned:
		return models.Unsigned
	case influxql.String:
		return models.String
	case influxql.Boolean:
		return models.Boolean
	}
	return models.Unknown
}

// FieldDimensions implements influxql.FieldMapper: the fields of a
// measurement across its shards (the type of highest precedence when shards
// disagree) and its tag keys.
func (m *fieldMapper) FieldDimensions(mm *influxql.Measurement) (map[string]influxql.DataType, map[string]struct{}, error) {
	fields := map[string]influxql.DataType{}
	dims := map[string]struct{}{}
	for _, s := range m.byName[mm.Name] {
		if vs := s.virtual; vs != nil {
			for f, dt := range vs.fields {
				if fields[f].LessThan(dt) {
					fields[f] = dt
				}
			}
			for _, k := range vs.tags {
				dims[k] = struct{}{}
			}
			continue
		}
		for _, sd := range s.shards {
			for f, t := range sd.fields {
				if dt := toDataType(t); fields[f].LessThan(dt) {
					fields[f] = dt
				}
			}
		}
		if s.index != nil {
			for _, k := range s.index.TagKeys([]byte(s.name)) {
				dims[string(k)] = struct{}{}
			}
		}
	}
	return fields, dims, nil
}

// MapType implements influxql.TypeMapper.
func (m *fieldMapper) MapType(mm *influxql.Measurement, field string) influxql.DataType {
	var typ influxql.DataType
	isTag := false
	for _, s := range m.byName[mm.Name] {
		if vs := s.virtual; vs != nil {
			if dt := vs.columnType(field); dt != influxql.Unknown {
				if typ.LessThan(dt) {
					typ = dt
				}
			} else if vs.isTag(field) {
				isTag = true
			}
			continue
		}
		for _, sd := range s.shards {
			if t, ok := sd.fields[field]; ok {
				if dt := toDataType(t); typ.LessThan(dt) {
					typ = dt
				}
			}
		}
		if typ == influxql.Unknown && !isTag && s.index != nil {
			for _, k := range s.index.TagKeys([]byte(s.name)) {
				if string(k) == field {
					isTag = true
					break
				}
			}
		}
	}
	if typ == influxql.Unknown && isTag {
		return influxql.Tag
	}
	return typ
}

// CallType implements influxql.CallTypeMapper with the result types of the
// functions, as 1.x types them: functions it does not list (the math
// functions among them) take their first argument's type.
func (m *fieldMapper) CallType(name string, args []influxql.DataType) (influxql.DataType, error) {
	switch name {
	case "mean", "median", "integral", "stddev", "derivative", "non_negative_derivative",
		"moving_average", "exponential_moving_average", "double_exponential_moving_average",
		"triple_exponential_moving_average", "relative_strength_index",
		"triple_exponential_derivative", "kaufmans_efficiency_ratio",
		"kaufmans_adaptive_moving_average", "chande_momentum_oscillator",
		"holt_winters", "holt_winters_with_fit":
		return influxql.Float, nil
	case "count", "elapsed":
		return influxql.Integer, nil
	}
	if len(args) > 0 {
		return args[0], nil
	}
	return influxql.Unknown, nil
}

// rewrite expands wildcards and assigns types with the sources' schemas.
func rewriteFields(stmt *influxql.SelectStatement, sources []*source) (*influxql.SelectStatement, error) {
	concrete := stmt.Clone()
	concrete.Sources = nil
	for _, s := range sources {
		concrete.Sources = append(concrete.Sources, &influxql.Measurement{Database: s.db, RetentionPolicy: s.rp, Name: s.name})
	}
	out, err := concrete.RewriteFields(newFieldMapper(sources))
	if err != nil {
		return nil, err
	}
	// A subquery's column that holds tag values (SELECT h FROM (SELECT v,
	// h ...)) is typed as a tag but read as a column, as 1.x does.
	for _, s := range sources {
		if vs := s.virtual; vs != nil {
			influxql.WalkFunc(out.Fields, func(n influxql.Node) {
				if ref, ok := n.(*influxql.VarRef); ok && ref.Type == influxql.Tag {
					if t := vs.columnType(ref.Val); t != influxql.Unknown {
						ref.Type = t
					}
				}
			})
		}
	}
	return out, nil
}

// dimensions returns the GROUP BY tag keys, sorted and without duplicates.
func dimensions(stmt *influxql.SelectStatement) []string {
	var dims []string
	for _, d := range stmt.Dimensions {
		if ref, ok := d.Expr.(*influxql.VarRef); ok {
			dims = append(dims, ref.Val)
		}
	}
	sort.Strings(dims)
	return slices.Compact(dims)
}

// iteratorTypeName is the name 1.x's error texts give an iterator of a type.
func iteratorTypeName(t models.FieldType) string {
	switch t {
	case models.Float:
		return "*query.floatInterruptIterator"
	case models.Integer:
		return "*query.integerInterruptIterator"
	case models.Unsigned:
		return "*query.unsignedInterruptIterator"
	case models.String:
		return "*query.stringInterruptIterator"
	case models.Boolean:
		return "*query.booleanInterruptIterator"
	}
	return fmt.Sprintf("type %d", t)
}

// castable reports whether a stored type can be read as the query type.
func castable(stored, want models.FieldType) bool {
	if stored == want {
		return true
	}
	return isNumeric(stored) && isNumeric(want)
}

func isNumeric(t models.FieldType) bool {
	return t == models.Float || t == models.Integer || t == models.Unsigned
}
