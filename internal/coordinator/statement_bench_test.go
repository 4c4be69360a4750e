package coordinator_test

import (
	"context"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
)

// benchQuery runs q repeatedly and reports per query; bytes are the query
// text, so MB/s reads as statement text handled per second.
func benchQuery(b *testing.B, e *env, text string, opts query.ExecutionOptions) {
	b.Helper()
	q, err := influxql.ParseQuery(text)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		for r := range e.exec.ExecuteQuery(ctx, q, opts) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkShowDatabases lists 100 databases.
func BenchmarkShowDatabases(b *testing.B) {
	e := newEnv(b, envOptions{})
	if err := e.meta.Apply(func(d *meta.Data) error {
		for i := range 100 {
			if err := d.CreateDatabase("db" + itoa(int64(i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	benchQuery(b, e, "SHOW DATABASES", query.ExecutionOptions{})
}

// BenchmarkShowShards lists 1000 shard groups of one policy, the answer a
// monitoring script asks for every few seconds on a long-lived server.
func BenchmarkShowShards(b *testing.B) {
	e := newEnv(b, envOptions{})
	if _, err := e.meta.CreateDatabase("db0"); err != nil {
		b.Fatal(err)
	}
	if err := e.meta.Apply(func(d *meta.Data) error {
		for i := range 1000 {
			if err := d.CreateShardGroup("db0", "autogen", time.Unix(0, 0).Add(time.Duration(i)*7*24*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	benchQuery(b, e, "SHOW SHARDS", query.ExecutionOptions{})
}

// BenchmarkAuthorizedQuery is a non-admin user's query of four statements
// that each need a privilege check: the cost authorization adds to every
// request.
func BenchmarkAuthorizedQuery(b *testing.B) {
	e := newEnv(b, envOptions{auth: true})
	e.mustRun("CREATE USER admin WITH PASSWORD 'a' WITH ALL PRIVILEGES; CREATE DATABASE db0; CREATE DATABASE db1; CREATE USER u WITH PASSWORD 'p'; GRANT ALL ON db0 TO u; GRANT READ ON db1 TO u", query.ExecutionOptions{})
	benchQuery(b, e, "SHOW RETENTION POLICIES ON db0; SHOW RETENTION POLICIES ON db1; SHOW DATABASES; DROP RETENTION POLICY ghost ON db0",
		query.ExecutionOptions{User: e.user("u"), Database: "db0"})
}
