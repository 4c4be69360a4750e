package coordinator_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/query"
)

// FuzzExecuteQuery runs whatever InfluxQL parses against a real meta and
// storage store, as an anonymous caller with auth off, as an admin and as
// a user with READ on db0, and checks the executor's contract: no panic
// (the executor recovers them, so a "[panic:" error is a failure), results
// in statement order, one refusal or one answer per statement, and "not
// executed" for every statement after a failed one.
func FuzzExecuteQuery(f *testing.F) {
	seeds := []string{
		"SHOW DATABASES",
		"CREATE DATABASE db1 WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h FUTURE LIMIT 1h PAST LIMIT 2h NAME rp",
		"CREATE RETENTION POLICY rp ON db0 DURATION 1h REPLICATION 1 SHARD DURATION 10m DEFAULT; SHOW RETENTION POLICIES ON db0",
		"ALTER RETENTION POLICY autogen ON db0 DURATION 2h SHARD DURATION 1h REPLICATION 2 DEFAULT FUTURE LIMIT 1h",
		"DROP RETENTION POLICY autogen ON db0; DROP DATABASE db0; CREATE DATABASE db0",
		"SHOW SHARDS; SHOW SHARD GROUPS; DROP SHARD 1",
		"CREATE USER u WITH PASSWORD 'p'; GRANT READ ON db0 TO u; REVOKE WRITE ON db0 FROM u; SHOW GRANTS FOR u; DROP USER u",
		"GRANT ALL PRIVILEGES TO reader; REVOKE ALL PRIVILEGES FROM reader; SET PASSWORD FOR reader = 'x'",
		"SELECT * INTO db0..x FROM db1..cpu; SHOW USERS",
		"CREATE DATABASE \"\"; CREATE RETENTION POLICY \"..\" ON db0 DURATION INF REPLICATION 1",
	}
	// The golden files are the richest corpus there is.
	files, _ := filepath.Glob(filepath.Join("testdata", "statements", "*.txt"))
	for _, path := range files {
		blocks, _, err := parseGolden(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, b := range blocks {
			if strings.HasPrefix(b.command, "query") {
				seeds = append(seeds, strings.Join(b.input, "\n"))
			}
		}
	}
	for i, s := range seeds {
		f.Add(s, uint8(i%3))
	}

	e := newEnv(f, envOptions{})
	e.mustRun("CREATE DATABASE db0; CREATE USER admin WITH PASSWORD 'a' WITH ALL PRIVILEGES; CREATE USER reader WITH PASSWORD 'r'; GRANT READ ON db0 TO reader", query.ExecutionOptions{})
	if err := e.write("db0", "", "cpu v=1 1000000000000000000\ncpu v=2 1600000000000000000"); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, text string, role uint8) {
		q, err := influxql.ParseQuery(text)
		if err != nil || len(q.Statements) == 0 {
			return
		}
		opts := query.ExecutionOptions{Database: "db0", ReadOnly: role&4 != 0}
		switch role % 3 {
		case 1:
			if ui := e.meta.Data().User("admin"); ui != nil {
				opts.User = testUser{ui}
			}
		case 2:
			if ui := e.meta.Data().User("reader"); ui != nil {
				opts.User = testUser{ui}
			}
		}
		var res []*query.Result
		for r := range e.exec.ExecuteQuery(context.Background(), q, opts) {
			res = append(res, r)
		}
		if len(res) == 0 {
			t.Fatal("no result")
		}
		if errors.Is(res[0].Err, coordinator.ErrAuthorization) {
			if len(res) != 1 {
				t.Fatalf("refused query sent %d results", len(res))
			}
			return
		}
		next, failed := 0, false
		for _, r := range res {
			if r.Err != nil && strings.Contains(r.Err.Error(), "[panic:") {
				t.Fatalf("panic: %v", r.Err)
			}
			if failed && !errors.Is(r.Err, coordinator.ErrNotExecuted) {
				t.Fatalf("statement %d after a failure: %v", r.StatementID, r.Err)
			}
			if r.StatementID != next {
				t.Fatalf("result for statement %d, want %d", r.StatementID, next)
			}
			next++
			failed = failed || r.Err != nil
		}
		if next != len(q.Statements) {
			t.Fatalf("%d results for %d statements", next, len(q.Statements))
		}
	})
}
