package coordinator

import (
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// CREATE, DROP and SHOW SUBSCRIPTIONS. Meta validates (destinations first,
// then database and policy, with 1.x's texts); the subscriber service
// follows meta and starts or stops forwarding on its own.

func (e *StatementExecutor) createSubscription(s *influxql.CreateSubscriptionStatement) error {
	return e.Meta.Apply(func(d *meta.Data) error {
		return d.CreateSubscription(s.Database, s.RetentionPolicy, s.Name, s.Mode, s.Destinations)
	})
}

func (e *StatementExecutor) dropSubscription(s *influxql.DropSubscriptionStatement) error {
	return e.Meta.Apply(func(d *meta.Data) error {
		return d.DropSubscription(s.Database, s.RetentionPolicy, s.Name)
	})
}

// showSubscriptions lists the subscriptions, one row per database that has
// any (unlike SHOW CONTINUOUS QUERIES, 1.x leaves the others out), the
// destinations as a list.
func (e *StatementExecutor) showSubscriptions() []*query.Row {
	var rows []*query.Row
	for _, di := range e.Meta.Data().Databases {
		row := &query.Row{Name: di.Name, Columns: []string{"retention_policy", "name", "mode", "destinations"}}
		for _, rpi := range di.RetentionPolicies {
			for _, sub := range rpi.Subscriptions {
				row.Values = append(row.Values, []any{rpi.Name, sub.Name, sub.Mode, append([]string(nil), sub.Destinations...)})
			}
		}
		if len(row.Values) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}
