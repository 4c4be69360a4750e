package coordinator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/query"
)

// The read-only warning of a SELECT … INTO :MEASUREMENT sent with GET
// quotes the statement qualified as 1.x normalizes it: the target gets the
// default database and retention policy like every other measurement
// ("INTO db0..:MEASUREMENT" becomes "INTO db0.autogen.:MEASUREMENT"),
// although SelectStatement.Clone() drops Measurement.IsTarget, without
// which the nameless target cannot be qualified.
func TestReadOnlyWarningQualifiesMeasurementTarget(t *testing.T) {
	hook := func(context.Context, *influxql.SelectStatement, query.ExecutionOptions, func(*query.Result) error) error {
		return nil
	}
	e := newEnv(t, envOptions{selectHook: hook})
	e.mustRun("CREATE DATABASE db0", query.ExecutionOptions{})
	res, err := e.run("SELECT v INTO db0..:MEASUREMENT FROM cpu", query.ExecutionOptions{Database: "db0", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := encodeResponse(res, false)
	want := "deprecated use of 'SELECT v INTO db0.autogen.:MEASUREMENT FROM db0.autogen.cpu' in a read only context"
	if !strings.Contains(got, want) {
		t.Fatalf("got  %s\nwant a message containing %q", got, want)
	}
}
