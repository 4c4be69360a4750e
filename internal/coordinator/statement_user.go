package coordinator

import (
	"cmp"
	"slices"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// Statements on users and privileges. CREATE USER and SET PASSWORD go
// through meta.Store, which hashes the password; nothing here logs or
// returns a password (the statements' String methods redact it).

// grant sets a user's privilege on a database. meta checks the user first
// and the database second, 1.x's order.
func (e *StatementExecutor) grant(s *influxql.GrantStatement) error {
	return e.Meta.Apply(func(d *meta.Data) error {
		return d.SetPrivilege(s.User, s.On, meta.Privilege(s.Privilege))
	})
}

// revoke takes a privilege away as 1.x does: REVOKE ALL leaves none, and
// REVOKE READ or WRITE clears that bit of what the user holds (ALL minus
// WRITE is READ; READ minus READ is "NO PRIVILEGES", which stays listed
// in SHOW GRANTS). Reading and writing happen in one Apply, so two
// concurrent revokes cannot lose each other.
func (e *StatementExecutor) revoke(s *influxql.RevokeStatement) error {
	return e.Meta.Apply(func(d *meta.Data) error {
		p := meta.NoPrivileges
		if s.Privilege != influxql.AllPrivileges {
			held, err := d.UserPrivilege(s.User, s.On)
			if err != nil {
				return err
			}
			p = held &^ meta.Privilege(s.Privilege)
		}
		return d.SetPrivilege(s.User, s.On, p)
	})
}

// showUsers lists users in creation order with their admin flag.
func (e *StatementExecutor) showUsers() []*query.Row {
	row := &query.Row{Columns: []string{"user", "admin"}}
	for _, u := range e.Meta.Data().Users {
		row.Values = append(row.Values, []any{u.Name, u.Admin})
	}
	return []*query.Row{row}
}

// showGrants lists a user's privileges by database name. 1.x prints them in
// Go map order, which changes from call to call; sorted is the one order
// that lets clients and tests compare answers.
func (e *StatementExecutor) showGrants(s *influxql.ShowGrantsForUserStatement) ([]*query.Row, error) {
	u := e.Meta.Data().User(s.Name)
	if u == nil {
		return nil, meta.ErrUserNotFound
	}
	type grant struct {
		db string
		p  meta.Privilege
	}
	grants := make([]grant, 0, len(u.Privileges))
	for db, p := range u.Privileges {
		grants = append(grants, grant{db, p})
	}
	slices.SortFunc(grants, func(a, b grant) int { return cmp.Compare(a.db, b.db) })
	row := &query.Row{Columns: []string{"database", "privilege"}}
	for _, g := range grants {
		row.Values = append(row.Values, []any{g.db, g.p.String()})
	}
	return []*query.Row{row}, nil
}
