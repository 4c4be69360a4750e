package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/e2e/harness"
)

// Real clients from Debian's packages (installed by .ci/deps): the influx
// CLI from influxdb-client and the Python client from python3-influxdb. A
// missing client fails the test rather than skipping it: CI installs them.

// debianPython is Debian's interpreter, which has python3-influxdb; a
// python3 earlier on PATH (pyenv) would not.
const debianPython = "/usr/bin/python3"

func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(debianPython, append([]string{"-c", script}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	return string(out)
}

func TestPythonClientWrites(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	host, port := s.HostPort()
	out := runPython(t, `
import sys
from influxdb import InfluxDBClient
c = InfluxDBClient(host=sys.argv[1], port=int(sys.argv[2]), database="pydb")
c.create_database("pydb")
ok = c.write_points([
    {"measurement": "cpu", "tags": {"host": "py1", "region": "eu"},
     "time": 1600000000000000000, "fields": {"usage": 12.5, "cores": 8}},
    {"measurement": "cpu", "tags": {"host": "py2", "region": "eu"},
     "time": 1600000001000000000, "fields": {"usage": 99.0, "cores": 16, "ok": True, "note": "hi \"there\""}},
], time_precision="n")
print("ok" if ok else "failed")
print(",".join(sorted(d["name"] for d in c.get_list_database())))
`, host, port)
	if !strings.Contains(out, "ok\n") || !strings.Contains(out, "pydb") {
		t.Fatalf("python client said:\n%s", out)
	}
	s.Stop()
	got := harness.Export(t, s.Dir)
	want := []string{
		`cpu,host=py1,region=eu cores=8i 1600000000000000000`,
		`cpu,host=py1,region=eu usage=12.5 1600000000000000000`,
		`cpu,host=py2,region=eu cores=16i 1600000001000000000`,
		`cpu,host=py2,region=eu note="hi \"there\"" 1600000001000000000`,
		`cpu,host=py2,region=eu ok=true 1600000001000000000`,
		`cpu,host=py2,region=eu usage=99 1600000001000000000`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("exported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestInfluxCLIWrites(t *testing.T) {
	influx, err := exec.LookPath("influx")
	if err != nil {
		t.Fatalf("the influx CLI (Debian package influxdb-client) is not installed: %v", err)
	}
	s := harness.Start(t, harness.Options{})
	host, port := s.HostPort()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(influx, append([]string{"-host", host, "-port", port}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("influx %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("-execute", "CREATE DATABASE clidb")
	if out := run("-execute", "SHOW DATABASES"); !strings.Contains(out, "clidb") {
		t.Fatalf("SHOW DATABASES through the CLI:\n%s", out)
	}
	run("-database", "clidb", "-precision", "s", "-execute", "INSERT weather,city=oslo temp=-3.5,wind=12i 1600000000")
	run("-database", "clidb", "-execute", "INSERT weather,city=rome temp=21 1600000000000000000")
	s.Stop()
	got := harness.Export(t, s.Dir)
	want := []string{
		"weather,city=oslo temp=-3.5 1600000000000000000",
		"weather,city=oslo wind=12i 1600000000000000000",
		"weather,city=rome temp=21 1600000000000000000",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("exported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
