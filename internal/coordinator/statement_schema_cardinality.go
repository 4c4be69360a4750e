package coordinator

import (
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// The CARDINALITY statements, in 1.x's two shapes:
//
//   - the estimates (SHOW MEASUREMENT CARDINALITY and SHOW SERIES
//     CARDINALITY without FROM or WHERE) are one row without a name,
//     column "cardinality estimation", answered 0 for a database that does
//     not exist. Strata's "estimate" is exact: counting is as cheap as
//     estimating from the index and the shards' series sets.
//   - every other form counts exactly, per measurement for series, tag
//     keys, tag values and field keys (rows named after the measurement,
//     column "count"; measurements with nothing to count are left out),
//     or in total for measurements (one row without a name).
//
// LIMIT and OFFSET apply to each row's single value, as they do to the
// SELECT 1.x rewrites these statements into; GROUP BY is ignored.

func countRow(name string, n int) *query.Row {
	return &query.Row{Name: name, Columns: []string{"count"}, Values: [][]any{{int64(n)}}}
}

func estimateRow(n int) []*query.Row {
	return []*query.Row{{Columns: []string{"cardinality estimation"}, Values: [][]any{{int64(n)}}}}
}

// limitRows applies a statement's OFFSET and LIMIT to rows of one value:
// any OFFSET skips the value, no LIMIT cuts it.
func limitRows(rows []*query.Row, offset, _ int) []*query.Row {
	if offset > 0 {
		return nil
	}
	return rows
}

// requireDatabase checks that db exists, for the exact forms.
func (e *StatementExecutor) requireDatabase(db string) error {
	if e.Meta.Data().Database(db) == nil {
		return &meta.DatabaseNotFoundError{Name: db}
	}
	return nil
}

func (e *StatementExecutor) showMeasurementCardinality(s *influxql.ShowMeasurementCardinalityStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if !s.Exact && len(s.Sources) == 0 && s.Condition == nil {
		names, err := e.measurementsWithSeries(db, nil, nil)
		if err != nil {
			return nil, err
		}
		return estimateRow(len(names)), nil
	}
	if influxql.HasTimeExpr(s.Condition) {
		return nil, &TimeConditionError{Statement: "SHOW MEASUREMENT EXACT CARDINALITY"}
	}
	if err := e.requireDatabase(db); err != nil {
		return nil, err
	}
	names, err := e.measurementsWithSeries(db, s.Sources, s.Condition)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return limitRows([]*query.Row{{Columns: []string{"count"}, Values: [][]any{{int64(len(names))}}}}, s.Offset, s.Limit), nil
}

func (e *StatementExecutor) showSeriesCardinality(s *influxql.ShowSeriesCardinalityStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if !s.Exact && len(s.Sources) == 0 && s.Condition == nil {
		if e.Meta.Data().Database(db) == nil {
			return estimateRow(0), nil
		}
		sc, err := e.openScope(db, nil)
		if err != nil {
			return nil, err
		}
		return estimateRow(int(sc.live.GetCardinality())), nil
	}
	if influxql.HasTimeExpr(s.Condition) {
		return nil, &TimeConditionError{Statement: "SHOW SERIES EXACT CARDINALITY"}
	}
	if err := e.requireDatabase(db); err != nil {
		return nil, err
	}
	sc, err := e.openScope(db, s.Condition)
	if err != nil {
		return nil, err
	}
	var rows []*query.Row
	for _, name := range sc.measurementNames(s.Sources) {
		set, _, err := sc.series(name)
		if err != nil {
			return nil, err
		}
		if n := set.GetCardinality(); n > 0 {
			rows = append(rows, countRow(string(name), int(n)))
		}
	}
	return limitRows(rows, s.Offset, s.Limit), nil
}

func (e *StatementExecutor) showTagKeyCardinality(s *influxql.ShowTagKeyCardinalityStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if influxql.HasTimeExpr(s.Condition) {
		return nil, &TimeConditionError{Statement: "SHOW TAG KEY EXACT CARDINALITY"}
	}
	if err := e.requireDatabase(db); err != nil {
		return nil, err
	}
	sc, err := e.openScope(db, s.Condition)
	if err != nil {
		return nil, err
	}
	all := tagKeyFilter(0, nil)
	var rows []*query.Row
	for _, name := range sc.measurementNames(s.Sources) {
		set, whole, err := sc.series(name)
		if err != nil {
			return nil, err
		}
		if set.IsEmpty() {
			continue
		}
		keys, err := presentKeys(sc.idx, name, set, whole, all)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			rows = append(rows, countRow(string(name), len(keys)))
		}
	}
	return limitRows(rows, s.Offset, s.Limit), nil
}

// showTagValuesCardinality counts (key, value) pairs per measurement. A
// time condition narrows the shards, as for SHOW TAG VALUES.
func (e *StatementExecutor) showTagValuesCardinality(s *influxql.ShowTagValuesCardinalityStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if err := e.requireDatabase(db); err != nil {
		return nil, err
	}
	sc, err := e.openScope(db, s.Condition)
	if err != nil {
		return nil, err
	}
	var rows []*query.Row
	for _, name := range sc.measurementNames(s.Sources) {
		n, err := sc.tagValueCount(name, s.Op, s.TagKeyExpr)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			rows = append(rows, countRow(string(name), n))
		}
	}
	return limitRows(rows, s.Offset, s.Limit), nil
}

// tagValueCount counts the (key, value) pairs tagValuePairs would return,
// from the index's counts when nothing restricts the series.
func (sc *schemaScope) tagValueCount(name []byte, op influxql.Token, lit influxql.Literal) (int, error) {
	set, whole, err := sc.series(name)
	if err != nil || set.IsEmpty() {
		return 0, err
	}
	if !whole {
		pairs, err := sc.tagValuePairs(name, op, lit, -1)
		return len(pairs), err
	}
	keys, err := presentKeys(sc.idx, name, set, whole, tagKeyFilter(op, lit))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		n += sc.idx.TagValueCount(name, k)
	}
	return n, nil
}

// showFieldKeyCardinality counts the distinct field keys of each
// measurement (a field with two types in two shards counts once).
func (e *StatementExecutor) showFieldKeyCardinality(s *influxql.ShowFieldKeyCardinalityStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db, err := schemaDatabase(s.Database, opts)
	if err != nil {
		return nil, err
	}
	if influxql.HasTimeExpr(s.Condition) {
		return nil, &TimeConditionError{Statement: "SHOW FIELD KEY CARDINALITY"}
	}
	if err := e.requireDatabase(db); err != nil {
		return nil, err
	}
	names, fields, err := e.measurementFields(db, s.Sources)
	if err != nil {
		return nil, err
	}
	var rows []*query.Row
	for _, m := range names {
		n := 0
		for i, f := range fields[m] {
			if i == 0 || fields[m][i-1].name != f.name {
				n++
			}
		}
		rows = append(rows, countRow(m, n))
	}
	return limitRows(rows, s.Offset, s.Limit), nil
}
