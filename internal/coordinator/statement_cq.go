package coordinator

import (
	"errors"
	"fmt"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// CREATE, DROP and SHOW CONTINUOUS QUERIES. influxql's parser already
// refuses a continuous query without INTO, without GROUP BY time(), or
// with a RESAMPLE FOR shorter than its interval; what is left to check
// here needs meta.
//
// As 1.x does, CREATE first qualifies every measurement of the query with
// a database and retention policy and stores the text of the qualified
// statement: SHOW CONTINUOUS QUERIES prints "... INTO db0.autogen.cpu_mean
// FROM db0.autogen.cpu ...", and the query keeps meaning the same thing if
// the default policy changes. The database that qualifies a measurement
// without one is the request's db parameter, else the ON database (1.x's
// quirk: "CREATE CONTINUOUS QUERY cq ON db0 ... FROM cpu" sent with
// db=db1 reads db1.autogen.cpu); the policy is the rp parameter, else the
// database's default.

// ErrInvalidMeasurement is 1.x's error for a FROM measurement without a
// name (it belongs with the package's sentinels in statement_errors.go).
var ErrInvalidMeasurement = errors.New("invalid measurement")

// createContinuousQuery qualifies the statement, checks that every
// database and policy it names exists, and stores it. It returns the
// qualified statement, whose text 1.x also uses in read-only warnings.
func (e *StatementExecutor) createContinuousQuery(s *influxql.CreateContinuousQueryStatement, opts query.ExecutionOptions) (*influxql.CreateContinuousQueryStatement, error) {
	q := &influxql.CreateContinuousQueryStatement{
		Name:          s.Name,
		Database:      s.Database,
		Source:        s.Source.Clone(),
		ResampleEvery: s.ResampleEvery,
		ResampleFor:   s.ResampleFor,
	}
	if t := s.Source.Target; t != nil && t.Measurement != nil && q.Source.Target != nil {
		// SelectStatement.Clone forgets that the target is one, which
		// lets it go without a name (INTO db.rp.:MEASUREMENT).
		q.Source.Target.Measurement.IsTarget = t.Measurement.IsTarget
	}
	defaultDB := opts.Database
	if defaultDB == "" {
		defaultDB = s.Database
	}
	data := e.Meta.Data()
	var err error
	influxql.WalkFunc(q, func(n influxql.Node) {
		if m, ok := n.(*influxql.Measurement); ok && err == nil {
			err = qualifyMeasurement(data, m, defaultDB, opts.RetentionPolicy)
		}
	})
	if err != nil {
		return nil, err
	}
	influxql.WalkFunc(q, func(n influxql.Node) {
		if m, ok := n.(*influxql.Measurement); ok && err == nil {
			if _, rerr := data.RetentionPolicy(m.Database, m.RetentionPolicy); rerr != nil {
				var notFound *meta.RetentionPolicyNotFoundError
				if errors.As(rerr, &notFound) {
					rerr = &meta.RetentionPolicyNotFoundError{Name: m.Database + "." + m.RetentionPolicy}
				}
				err = rerr
			}
		}
	})
	if err != nil {
		return nil, err
	}
	text := q.String()
	if err := e.Meta.Apply(func(d *meta.Data) error { return d.CreateContinuousQuery(q.Database, q.Name, text) }); err != nil {
		return nil, err
	}
	return q, nil
}

// qualifyMeasurement gives m a database and a retention policy, as 1.x's
// NormalizeStatement does.
func qualifyMeasurement(data *meta.Data, m *influxql.Measurement, defaultDB, defaultRP string) error {
	if !m.IsTarget && m.Name == "" && m.SystemIterator == "" && m.Regex == nil {
		return ErrInvalidMeasurement
	}
	if m.Database == "" {
		m.Database = defaultDB
	}
	if m.Database == "" {
		return ErrDatabaseNameRequired
	}
	di := data.Database(m.Database)
	if di == nil {
		return &meta.DatabaseNotFoundError{Name: m.Database}
	}
	if m.RetentionPolicy == "" {
		switch {
		case defaultRP != "":
			m.RetentionPolicy = defaultRP
		case di.DefaultRetentionPolicy != "":
			m.RetentionPolicy = di.DefaultRetentionPolicy
		default:
			return fmt.Errorf("default retention policy not set for: %s", di.Name)
		}
	}
	return nil
}

// dropContinuousQuery removes a continuous query; a missing database or
// query is not an error (1.x since 1.3).
func (e *StatementExecutor) dropContinuousQuery(s *influxql.DropContinuousQueryStatement) error {
	return e.Meta.Apply(func(d *meta.Data) error { return d.DropContinuousQuery(s.Database, s.Name) })
}

// showContinuousQueries lists the continuous queries, one row per
// database (a database without any still gets its empty row), as 1.x.
func (e *StatementExecutor) showContinuousQueries() []*query.Row {
	data := e.Meta.Data()
	rows := make([]*query.Row, 0, len(data.Databases))
	for _, di := range data.Databases {
		row := &query.Row{Name: di.Name, Columns: []string{"name", "query"}}
		for _, cq := range di.ContinuousQueries {
			row.Values = append(row.Values, []any{cq.Name, cq.Query})
		}
		rows = append(rows, row)
	}
	return rows
}
