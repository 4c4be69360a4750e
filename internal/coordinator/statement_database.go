package coordinator

import (
	"fmt"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// Statements on databases and retention policies. Where data is removed,
// meta changes first and storage second: once meta no longer lists the
// database, policy or shard, no write can create its shards again, so the
// files storage removes stay removed (1.x issue #4538). A crash between
// the two leaves orphan files, which the server removes at start-up.

func (e *StatementExecutor) createDatabase(s *influxql.CreateDatabaseStatement) error {
	// 1.x checks the names before anything else, so that an invalid name
	// says "invalid name" whatever else is wrong.
	if !meta.ValidName(s.Name) {
		return meta.ErrInvalidName
	}
	if !s.RetentionPolicyCreate {
		_, err := e.Meta.CreateDatabase(s.Name)
		return err
	}
	if s.RetentionPolicyName != "" && !meta.ValidName(s.RetentionPolicyName) {
		return meta.ErrInvalidName
	}
	spec := &meta.RetentionPolicySpec{
		Name:               s.RetentionPolicyName,
		Duration:           s.RetentionPolicyDuration,
		ReplicaN:           s.RetentionPolicyReplication,
		ShardGroupDuration: s.RetentionPolicyShardGroupDuration,
		FutureWriteLimit:   s.FutureWriteLimit,
		PastWriteLimit:     s.PastWriteLimit,
	}
	_, err := e.Meta.CreateDatabaseWithRetentionPolicy(s.Name, spec)
	return err
}

// dropDatabase removes the database from meta (with every privilege on
// it), then its files. Dropping a missing database is not an error (1.x).
func (e *StatementExecutor) dropDatabase(s *influxql.DropDatabaseStatement) error {
	if e.Meta.Data().Database(s.Name) == nil {
		return nil
	}
	if err := e.Meta.Apply(func(d *meta.Data) error { return d.DropDatabase(s.Name) }); err != nil {
		return err
	}
	if err := e.Store.DeleteDatabase(s.Name); err != nil {
		return fmt.Errorf("remove files of database %s: %w", s.Name, err)
	}
	return nil
}

// showDatabases lists the databases in creation order; a user without
// admin rights sees only those it may read or write (1.x).
func (e *StatementExecutor) showDatabases(u query.User) []*query.Row {
	row := &query.Row{Name: "databases", Columns: []string{"name"}}
	for _, db := range e.Meta.Data().Databases {
		if canSeeDatabase(u, db.Name) {
			row.Values = append(row.Values, []any{db.Name})
		}
	}
	return []*query.Row{row}
}

func (e *StatementExecutor) createRetentionPolicy(s *influxql.CreateRetentionPolicyStatement) error {
	if !meta.ValidName(s.Name) {
		return meta.ErrInvalidName
	}
	spec := &meta.RetentionPolicySpec{
		Name:               s.Name,
		Duration:           &s.Duration,
		ReplicaN:           &s.Replication,
		ShardGroupDuration: s.ShardGroupDuration,
		FutureWriteLimit:   &s.FutureWriteLimit,
		PastWriteLimit:     &s.PastWriteLimit,
	}
	return e.Meta.Apply(func(d *meta.Data) error {
		return d.CreateRetentionPolicy(s.Database, spec, s.Default)
	})
}

func (e *StatementExecutor) alterRetentionPolicy(s *influxql.AlterRetentionPolicyStatement) error {
	upd := &meta.RetentionPolicyUpdate{
		Duration:           s.Duration,
		ReplicaN:           s.Replication,
		ShardGroupDuration: s.ShardGroupDuration,
		FutureWriteLimit:   s.FutureWriteLimit,
		PastWriteLimit:     s.PastWriteLimit,
	}
	return e.Meta.Apply(func(d *meta.Data) error {
		return d.UpdateRetentionPolicy(s.Database, s.Name, upd, s.Default)
	})
}

// dropRetentionPolicy removes the policy and its shard groups from meta,
// then its files. A missing database or policy is not an error (1.x).
func (e *StatementExecutor) dropRetentionPolicy(s *influxql.DropRetentionPolicyStatement) error {
	di := e.Meta.Data().Database(s.Database)
	if di == nil || s.Name == "" || di.RetentionPolicy(s.Name) == nil {
		return nil
	}
	if err := e.Meta.Apply(func(d *meta.Data) error { return d.DropRetentionPolicy(s.Database, s.Name) }); err != nil {
		return err
	}
	if err := e.Store.DeleteRetentionPolicy(s.Database, s.Name); err != nil {
		return fmt.Errorf("remove files of retention policy %s.%s: %w", s.Database, s.Name, err)
	}
	return nil
}

// showRetentionPolicies lists the policies of the statement's database, or
// of the request's db parameter without ON. Durations print as Go prints
// them ("0s", "168h0m0s"), as in 1.x. The columns are 1.12's: 1.11 and
// older lack the two write limits.
func (e *StatementExecutor) showRetentionPolicies(s *influxql.ShowRetentionPoliciesStatement, defaultDB string) ([]*query.Row, error) {
	db := s.Database
	if db == "" {
		db = defaultDB
	}
	if db == "" {
		return nil, ErrDatabaseNameRequired
	}
	di := e.Meta.Data().Database(db)
	if di == nil {
		return nil, &meta.DatabaseNotFoundError{Name: db}
	}
	row := &query.Row{Columns: []string{
		"name", "duration", "shardGroupDuration", "replicaN", "futureWriteLimit", "pastWriteLimit", "default",
	}}
	for _, rp := range di.RetentionPolicies {
		row.Values = append(row.Values, []any{
			rp.Name,
			rp.Duration.String(),
			rp.ShardGroupDuration.String(),
			rp.ReplicaN,
			rp.FutureWriteLimit.String(),
			rp.PastWriteLimit.String(),
			di.DefaultRetentionPolicy == rp.Name,
		})
	}
	return []*query.Row{row}, nil
}
