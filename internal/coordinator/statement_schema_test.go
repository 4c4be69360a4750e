package coordinator_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/coordinator"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage"
)

// The server hands the executor its *storage.Store as Store; the schema
// and delete statements find their SeriesStore there.
var _ coordinator.SeriesStore = (*storage.Store)(nil)

// newSelectEnv is newEnv with the real SELECT engine behind the executor,
// so that golden files can check what DELETE and DROP left.
func newSelectEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	var eng *query.Engine
	o.selectHook = func(ctx context.Context, stmt *influxql.SelectStatement, opts query.ExecutionOptions, emit func(*query.Result) error) error {
		return eng.Select(ctx, stmt, opts, emit)
	}
	e := newEnv(t, o)
	eng = query.NewEngine(query.EngineOptions{Now: func() time.Time { return testNow }},
		&query.LocalShardMapper{Meta: e.meta, Store: e.store}, e.meta)
	t.Cleanup(func() { eng.Close() })
	return e
}

// TestSchemaGolden runs the command files of testdata/schema, testdata/cq
// and testdata/subscriptions (format: see TestStatementsGolden; -rewrite
// rewrites them). Their influxd-1.6.7/ subdirectories hold what InfluxDB
// 1.6.7 answered to the same files (testdata/record-influxd.py); the
// comments in each file say where, and why, Strata answers otherwise.
func TestSchemaGolden(t *testing.T) {
	for _, dir := range []string{"schema", "cq", "subscriptions"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no golden files in testdata/%s: %v", dir, err)
		}
		for _, path := range files {
			t.Run(dir+"/"+strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
				runSchemaGolden(t, path)
			})
		}
	}
}

func runSchemaGolden(t *testing.T, path string) {
	blocks, trailer, err := parseGolden(path)
	if err != nil {
		t.Fatal(err)
	}
	e := newSelectEnv(t, envOptions{})
	var out strings.Builder
	for i := range blocks {
		blk := &blocks[i]
		var got string
		if fields := strings.Fields(blk.command); fields[0] == "reset" {
			o := envOptions{}
			for _, f := range fields[1:] {
				o.auth = o.auth || f == "auth"
				o.noAutogen = o.noAutogen || f == "no-autocreate"
			}
			e, got = newSelectEnv(t, o), "ok"
		} else {
			got = runGoldenCommand(t, &e, blk)
		}
		if !*rewrite && got != strings.Join(blk.want, "\n") {
			t.Errorf("%s:%d: %s\n%s\n got: %s\nwant: %s", path, blk.line, blk.command,
				strings.Join(blk.input, "\n"), got, strings.Join(blk.want, "\n"))
		}
		for _, c := range blk.comments {
			out.WriteString(c + "\n")
		}
		out.WriteString(blk.command + "\n")
		for _, l := range blk.input {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n" + got + "\n\n")
	}
	for _, c := range trailer {
		out.WriteString(c + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
