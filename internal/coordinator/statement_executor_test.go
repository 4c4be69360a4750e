package coordinator_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/vfs"
)

// shardsOf writes one point per time to db/rp and returns the ids of the
// shards that hold them.
func shardsOf(t *testing.T, e *env, db, rp string, times ...int64) []uint64 {
	t.Helper()
	var ids []uint64
	for _, ts := range times {
		if err := e.write(db, rp, "cpu value=1 "+itoa(ts)); err != nil {
			t.Fatalf("write: %v", err)
		}
		sg := e.meta.Data().ShardGroupByTimestamp(db, rp, time.Unix(0, ts))
		if sg == nil {
			t.Fatalf("no shard group at %d", ts)
		}
		ids = append(ids, sg.Shards[0].ID)
	}
	return ids
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestDropRemovesData checks that DROP SHARD, DROP RETENTION POLICY and
// DROP DATABASE remove the data from storage, not only from meta.
func TestDropRemovesData(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustRun("CREATE DATABASE db0; CREATE RETENTION POLICY rp1 ON db0 DURATION INF REPLICATION 1; CREATE DATABASE db1", query.ExecutionOptions{})
	auto := shardsOf(t, e, "db0", "autogen", 1e18, 1.6e18)
	rp1 := shardsOf(t, e, "db0", "rp1", 1e18)
	db1 := shardsOf(t, e, "db1", "", 1e18)
	for _, id := range slices.Concat(auto, rp1, db1) {
		if e.store.Shard(id) == nil {
			t.Fatalf("shard %d not in storage after the write", id)
		}
	}
	shardDir := func(db, rp string, id uint64) string {
		return filepath.Join(e.dir, "data", db, rp, itoa(int64(id)))
	}
	if !exists(shardDir("db0", "autogen", auto[0])) {
		t.Fatalf("%s missing: the test's idea of the layout is wrong", shardDir("db0", "autogen", auto[0]))
	}

	e.mustRun("DROP SHARD "+itoa(int64(auto[0])), query.ExecutionOptions{})
	if e.store.Shard(auto[0]) != nil || exists(shardDir("db0", "autogen", auto[0])) {
		t.Fatalf("shard %d still stored after DROP SHARD", auto[0])
	}
	if e.store.Shard(auto[1]) == nil {
		t.Fatalf("DROP SHARD removed shard %d too", auto[1])
	}

	e.mustRun("DROP RETENTION POLICY rp1 ON db0", query.ExecutionOptions{})
	if e.store.Shard(rp1[0]) != nil || exists(filepath.Join(e.dir, "data", "db0", "rp1")) {
		t.Fatal("rp1's shard still stored after DROP RETENTION POLICY")
	}
	if e.store.Shard(auto[1]) == nil {
		t.Fatal("DROP RETENTION POLICY removed another policy's shard")
	}

	e.mustRun("DROP DATABASE db1", query.ExecutionOptions{})
	if e.store.Shard(db1[0]) != nil || exists(filepath.Join(e.dir, "data", "db1")) || exists(filepath.Join(e.dir, "wal", "db1")) {
		t.Fatal("db1 still stored after DROP DATABASE")
	}
	if e.store.Index("db1") != nil {
		t.Fatal("db1's index still open after DROP DATABASE")
	}
	if e.store.Shard(auto[1]) == nil {
		t.Fatal("DROP DATABASE db1 removed a shard of db0")
	}
}

// orderChecker is the real store, wrapped to record what meta said when
// storage was asked to delete.
type orderChecker struct {
	coordinator.DataDropper
	meta *meta.Store
	log  []string
}

func (o *orderChecker) DeleteDatabase(db string) error {
	o.log = append(o.log, "database "+db+" in meta: "+yes(o.meta.Database(db) != nil))
	return o.DataDropper.DeleteDatabase(db)
}

func (o *orderChecker) DeleteRetentionPolicy(db, rp string) error {
	_, err := o.meta.RetentionPolicy(db, rp)
	o.log = append(o.log, "policy "+db+"."+rp+" in meta: "+yes(err == nil))
	return o.DataDropper.DeleteRetentionPolicy(db, rp)
}

func (o *orderChecker) DeleteShard(id uint64) error {
	_, _, sg := o.meta.Data().ShardOwner(id)
	o.log = append(o.log, "shard "+itoa(int64(id))+" in meta: "+yes(sg != nil))
	return o.DataDropper.DeleteShard(id)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// TestDropMetaFirst checks that meta forgets what is dropped before
// storage deletes it, so that a write in flight cannot recreate it.
func TestDropMetaFirst(t *testing.T) {
	e := newEnv(t, envOptions{})
	oc := &orderChecker{DataDropper: e.store, meta: e.meta}
	e.exec.Store = oc
	e.mustRun("CREATE DATABASE db0; CREATE RETENTION POLICY rp1 ON db0 DURATION INF REPLICATION 1; CREATE DATABASE db1", query.ExecutionOptions{})
	id := shardsOf(t, e, "db0", "autogen", 1e18)[0]
	e.mustRun("DROP SHARD "+itoa(int64(id))+"; DROP RETENTION POLICY rp1 ON db0; DROP DATABASE db1", query.ExecutionOptions{})
	// Dropping what does not exist does not reach storage.
	e.mustRun("DROP RETENTION POLICY rp1 ON db0; DROP DATABASE db1; DROP DATABASE nope", query.ExecutionOptions{})
	want := []string{"shard 1 in meta: no", "policy db0.rp1 in meta: no", "database db1 in meta: no"}
	if diff := cmp.Diff(want, oc.log); diff != "" {
		t.Fatalf("storage calls (-want +got):\n%s", diff)
	}
}

// TestDropStorageFailure checks that a failed file removal is the
// statement's error, named, after meta has dropped the database.
func TestDropStorageFailure(t *testing.T) {
	fsys := vfs.NewErrorFS(vfs.Default, nil)
	e := newEnv(t, envOptions{storageFS: fsys})
	e.mustRun("CREATE DATABASE db0", query.ExecutionOptions{})
	shardsOf(t, e, "db0", "", 1e18)
	fsys.SetInjector(func(op vfs.Op, path string) error {
		if op == vfs.OpRemove {
			return vfs.ErrInjected
		}
		return nil
	})
	res, err := e.run("DROP DATABASE db0; SHOW DATABASES", query.ExecutionOptions{})
	fsys.SetInjector(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Err == nil || !errors.Is(res[0].Err, vfs.ErrInjected) ||
		!strings.Contains(res[0].Err.Error(), "remove files of database db0") {
		t.Fatalf("got %+v, want the injected error on statement 0", res)
	}
	if !errors.Is(res[1].Err, coordinator.ErrNotExecuted) {
		t.Fatalf("statement 1: %v, want not executed", res[1].Err)
	}
	if e.meta.Database("db0") != nil {
		t.Fatal("db0 still in meta")
	}
}

func TestNotImplemented(t *testing.T) {
	e := newEnv(t, envOptions{})
	res, err := e.run("SHOW STATS; SHOW DATABASES", query.ExecutionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !errors.Is(res[0].Err, coordinator.ErrNotImplemented) ||
		res[0].Err.Error() != "statement not supported yet: SHOW STATS" ||
		!errors.Is(res[1].Err, coordinator.ErrNotExecuted) || res[1].StatementID != 1 {
		t.Fatalf("got %+v", res)
	}
	res, _ = e.run("SELECT * FROM db0..cpu", query.ExecutionOptions{})
	if len(res) != 1 || !errors.Is(res[0].Err, coordinator.ErrNotImplemented) {
		t.Fatalf("SELECT without a Select hook: %+v", res)
	}
}

// TestSelectHook checks how SELECT results from the hook are numbered,
// chunked, warned about and cut short.
func TestSelectHook(t *testing.T) {
	row := func(v int) []*query.Row {
		return []*query.Row{{Name: "cpu", Columns: []string{"time", "v"}, Values: [][]any{{int64(v), v}}}}
	}
	hook := func(ctx context.Context, s *influxql.SelectStatement, opts query.ExecutionOptions, emit func(*query.Result) error) error {
		switch s.Sources[0].(*influxql.Measurement).Name {
		case "chunks":
			for i := range 3 {
				if err := emit(&query.Result{Series: row(i), Partial: i < 2}); err != nil {
					return err
				}
			}
		case "empty":
		case "fails":
			return errors.New("boom")
		case "failsmid":
			if err := emit(&query.Result{Series: row(1), Partial: true}); err != nil {
				return err
			}
			return emit(&query.Result{Err: errors.New("midway")})
		case "written":
			return emit(&query.Result{Series: []*query.Row{{Name: "result", Columns: []string{"time", "written"}, Values: [][]any{{int64(0), int64(3)}}}}})
		case "panics":
			panic("engine bug")
		}
		return nil
	}
	tests := []struct {
		q       string
		get     bool
		chunked bool
		want    string
	}{
		{q: "SELECT v FROM chunks; SELECT v FROM empty", chunked: true,
			want: `200 {"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[0,0]]}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[1,1]]}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[2,2]]}]}]}` + "\n" +
				`{"results":[{"statement_id":1}]}`},
		{q: "SELECT v FROM chunks",
			want: `200 {"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[0,0],[1,1],[2,2]]}]}]}`},
		{q: "SELECT v FROM fails; SHOW DATABASES",
			want: `200 {"results":[{"statement_id":0,"error":"boom"},{"statement_id":1,"error":"not executed"}]}`},
		{q: "SELECT v FROM failsmid; SHOW DATABASES", chunked: true,
			want: `200 {"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[1,1]]}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"error":"midway"}]}` + "\n" +
				`{"results":[{"statement_id":1,"error":"not executed"}]}`},
		{q: "SHOW DATABASES; SELECT v INTO x FROM written", get: true,
			want: `200 {"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"]}]},{"statement_id":1,"series":[{"name":"result","columns":["time","written"],"values":[[0,3]]}],"messages":[{"level":"warning","text":"deprecated use of 'SELECT v INTO x FROM written' in a read only context, please use a POST request instead"}]}]}`},
		{q: "SELECT v INTO x FROM empty", get: true,
			want: `200 {"results":[{"statement_id":0,"messages":[{"level":"warning","text":"deprecated use of 'SELECT v INTO x FROM empty' in a read only context, please use a POST request instead"}]}]}`},
		{q: "SELECT v FROM empty", get: true, want: `200 {"results":[{"statement_id":0}]}`},
		{q: "SHOW DATABASES; SELECT v FROM panics; SHOW DATABASES",
			want: `200 {"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"]}]},{"statement_id":1,"error":"SELECT v FROM panics [panic:engine bug]"}]}`},
	}
	e := newEnv(t, envOptions{selectHook: hook})
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res, err := e.run(tt.q, query.ExecutionOptions{ReadOnly: tt.get})
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeResponse(res, tt.chunked); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestCancel checks that a cancelled query stops and closes its channel,
// even while nobody reads it.
func TestCancel(t *testing.T) {
	started := make(chan struct{})
	hook := func(ctx context.Context, _ *influxql.SelectStatement, _ query.ExecutionOptions, emit func(*query.Result) error) error {
		close(started)
		for {
			if err := emit(&query.Result{Partial: true}); err != nil {
				return err
			}
		}
	}
	e := newEnv(t, envOptions{selectHook: hook})
	q, err := influxql.ParseQuery("SELECT v FROM cpu; CREATE DATABASE never")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := e.exec.ExecuteQuery(ctx, q, query.ExecutionOptions{})
	<-ch
	<-started
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				if e.meta.Database("never") != nil {
					t.Fatal("the statement after the cancelled one ran")
				}
				return
			}
		case <-deadline:
			t.Fatal("channel not closed after cancel")
		}
	}
}

// TestPasswordsNeverLeak runs every statement that carries a password,
// failing and succeeding, over GET (warnings quote the statement) with
// debug logging, and checks that no password appears in any result, error,
// message or log line.
func TestPasswordsNeverLeak(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, envOptions{auth: true})
	e.exec.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	queries := []struct {
		q    string
		user string
	}{
		{"CREATE USER root WITH PASSWORD 'pw-root-1' WITH ALL PRIVILEGES; CREATE USER bob WITH PASSWORD 'pw-bob-2'", ""},
		{"CREATE USER bob WITH PASSWORD 'pw-other-3'", "root"}, // exists: error
		{"SET PASSWORD FOR bob = 'pw-bob-4'; SET PASSWORD FOR ghost = 'pw-ghost-5'", "root"},
		{"SET PASSWORD FOR bob = 'pw-self-6'", "bob"},                                        // refused
		{"CREATE USER eve WITH PASSWORD 'pw-eve-7' WITH ALL PRIVILEGES", "bob"},              // refused
		{"CREATE USER long WITH PASSWORD '" + strings.Repeat("pw-long-8", 10) + "'", "root"}, // bcrypt refuses > 72 bytes
		{"CREATE USER bob WITH PASSWORD 'pw-bob-4'; SHOW USERS; SHOW GRANTS FOR bob", "root"},
	}
	var seen strings.Builder
	for _, qq := range queries {
		opts := query.ExecutionOptions{ReadOnly: true}
		if qq.user != "" {
			opts.User = e.user(qq.user)
		}
		res, err := e.run(qq.q, opts)
		if err != nil {
			t.Fatal(err)
		}
		seen.WriteString(encodeResponse(res, true) + "\n")
	}
	seen.WriteString(logs.String())
	out := seen.String()
	for _, pw := range []string{"pw-root-1", "pw-bob-2", "pw-other-3", "pw-bob-4", "pw-ghost-5", "pw-self-6", "pw-eve-7", "pw-long-8"} {
		if strings.Contains(out, pw) {
			t.Errorf("password %q leaked:\n%s", pw, out)
		}
	}
	// The statements did run and were logged, redacted.
	for _, want := range []string{"user already exists", "user not found", "requires admin privilege", "[REDACTED]", "executing statement"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := e.meta.Authenticate("bob", "pw-bob-4"); err != nil {
		t.Fatalf("SET PASSWORD did not take: %v", err)
	}
}

// TestConcurrentStatements runs privilege changes and reads from many
// goroutines (for -race) and checks that no change was lost: REVOKE reads
// and writes a privilege in one meta change.
func TestConcurrentStatements(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.mustRun("CREATE USER u WITH PASSWORD 'p'", query.ExecutionOptions{})
	const n = 8
	for i := range n {
		e.mustRun("CREATE DATABASE db"+itoa(int64(i))+"; GRANT ALL ON db"+itoa(int64(i))+" TO u", query.ExecutionOptions{})
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			e.mustRun("REVOKE WRITE ON db"+itoa(int64(i))+" FROM u", query.ExecutionOptions{})
		}()
		go func() {
			defer wg.Done()
			e.mustRun("SHOW GRANTS FOR u; SHOW DATABASES; SHOW SHARDS", query.ExecutionOptions{})
		}()
	}
	wg.Wait()
	for i := range n {
		if p, _ := e.meta.Data().UserPrivilege("u", "db"+itoa(int64(i))); p != meta.ReadPrivilege {
			t.Errorf("db%d: privilege %v, want READ", i, p)
		}
	}
}
