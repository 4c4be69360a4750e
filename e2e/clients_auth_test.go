package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/e2e/harness"
)

// The real clients against stratad with auth on: the influx CLI from
// Debian's influxdb-client (-username/-password, INFLUX_USERNAME and
// INFLUX_PASSWORD) and python3-influxdb (InfluxDBClient(username=…,
// password=…)). A missing client fails the test: CI installs them.

// clientEnv is the environment without any INFLUX_* variable of the
// machine running the tests, plus extra.
func clientEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INFLUX_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func TestInfluxCLIWithAuth(t *testing.T) {
	t.Parallel()
	influx, err := exec.LookPath("influx")
	if err != nil {
		t.Fatalf("the influx CLI (Debian package influxdb-client) is not installed: %v", err)
	}
	s := harness.Start(t, harness.Options{Config: authConfig("")})
	host, port := s.HostPort()
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(influx, append([]string{"-host", host, "-port", port}, args...)...)
		cmd.Env = clientEnv(env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ok := func(env []string, args ...string) string {
		t.Helper()
		out, err := run(env, args...)
		if err != nil {
			t.Fatalf("influx %v: %v\n%s", args, err, out)
		}
		return out
	}
	// fails checks that the CLI exits with a non-zero status and shows the
	// server's error text.
	fails := func(text string, env []string, args ...string) {
		t.Helper()
		out, err := run(env, args...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("influx %v: want a failure exit status, got %v\n%s", args, err, out)
		}
		if !strings.Contains(out, text) {
			t.Fatalf("influx %v: output lacks %q:\n%s", args, text, out)
		}
	}
	admin := []string{"-username", authAdmin, "-password", authAdminPass}
	asAdmin := func(args ...string) []string { return append(slices.Clone(admin), args...) }

	// The first admin, created the way the docs say: with the CLI, before
	// any user exists.
	ok(nil, "-execute", "CREATE USER "+authAdmin+" WITH PASSWORD '"+authAdminPass+"' WITH ALL PRIVILEGES")
	fails("unable to parse authentication credentials", nil, "-execute", "SHOW DATABASES")
	fails("authorization failed", nil, "-username", authAdmin, "-password", "wrong-"+authAdminPass, "-execute", "SHOW DATABASES")
	fails("authorization failed", nil, "-username", "nobody", "-password", authAdminPass, "-execute", "SHOW DATABASES")

	ok(nil, asAdmin("-execute", "CREATE DATABASE clidb")...)
	if out := ok(nil, asAdmin("-execute", "SHOW DATABASES")...); !strings.Contains(out, "clidb") {
		t.Fatalf("SHOW DATABASES through the CLI:\n%s", out)
	}
	ok(nil, asAdmin("-database", "clidb", "-precision", "s", "-execute", "INSERT weather,city=oslo temp=-3.5 1600000000")...)

	// Credentials from the environment.
	env := []string{"INFLUX_USERNAME=" + authAdmin, "INFLUX_PASSWORD=" + authAdminPass}
	ok(env, "-execute", "CREATE USER cli WITH PASSWORD 'Cl1-e2e-pw'; GRANT READ ON clidb TO cli")
	if out := ok(env, "-execute", "SHOW USERS"); !strings.Contains(out, "cli") || !strings.Contains(out, authAdmin) {
		t.Fatalf("SHOW USERS with INFLUX_USERNAME/INFLUX_PASSWORD:\n%s", out)
	}
	ok(env, "-database", "clidb", "-execute", "INSERT weather,city=rome temp=21 1600000000000000000")
	fails("authorization failed", []string{"INFLUX_USERNAME=" + authAdmin, "INFLUX_PASSWORD=wrong"}, "-execute", "SHOW DATABASES")

	// A READ user: reads, but may neither write nor administer.
	cli := []string{"-username", "cli", "-password", "Cl1-e2e-pw"}
	if out := ok(nil, append(slices.Clone(cli), "-execute", "SHOW DATABASES")...); !strings.Contains(out, "clidb") {
		t.Fatalf("SHOW DATABASES as the READ user:\n%s", out)
	}
	// The 1.6 CLI reports a failed INSERT but exits 0: only the text is
	// the server's to get right.
	if out, _ := run(nil, append(slices.Clone(cli), "-database", "clidb", "-execute",
		"INSERT weather,city=paris temp=9 1600000000000000000")...); !strings.Contains(out,
		`\"cli\" user is not authorized to write to database \"clidb\"`) { // the CLI prints the JSON body
		t.Fatalf("INSERT as the READ user:\n%s", out)
	}
	fails("cli not authorized to execute statement 'SHOW USERS', requires admin privilege", nil,
		append(slices.Clone(cli), "-execute", "SHOW USERS")...)

	s.Stop()
	got := harness.Export(t, s.Dir)
	want := []string{
		"weather,city=oslo temp=-3.5 1600000000000000000",
		"weather,city=rome temp=21 1600000000000000000",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("exported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	noSecretsInLog(t, s, authAdminPass, "Cl1-e2e-pw")
}

// pythonAuthScript drives python3-influxdb through a bootstrap, user
// management and refusals, and prints what it saw as one JSON object.
const pythonAuthScript = `
import json, sys
from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError

host, port, admin, admin_pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}

def refused(f):
    try:
        f()
        return "no error"
    except InfluxDBClientError as e:
        content = e.content
        if isinstance(content, bytes):
            content = content.decode()
        try:
            content = json.loads(content).get("error", content)
        except ValueError:
            pass
        return [e.code, content]

# Before any user exists the client's default credentials (root:root) are
# not checked; only creating an admin is allowed. Afterwards they are.
boot = InfluxDBClient(host=host, port=port)
out["boot_list"] = refused(boot.get_list_database)
boot.create_user(admin, admin_pw, admin=True)
out["root_root"] = refused(boot.get_list_database)

c = InfluxDBClient(host=host, port=port, username=admin, password=admin_pw, database="pydb")
c.create_database("pydb")
out["admin_write"] = c.write_points([
    {"measurement": "cpu", "tags": {"host": "py1"}, "time": 1600000000, "fields": {"usage": 12.5}},
], time_precision="s")
c.create_user("py", "Py-e2e-pw")
c.grant_privilege("write", "pydb", "py")
out["users"] = sorted([u["user"], u["admin"]] for u in c.get_list_users())
out["grants"] = c.get_list_privileges("py")

p = InfluxDBClient(host=host, port=port, username="py", password="Py-e2e-pw", database="pydb")
out["py_write"] = p.write_points([
    {"measurement": "cpu", "tags": {"host": "py2"}, "time": 1600000001, "fields": {"usage": 99.0}},
], time_precision="s")
out["py_users"] = refused(p.get_list_users)
out["py_create_db"] = refused(lambda: p.create_database("other"))

bad = InfluxDBClient(host=host, port=port, username=admin, password="wrong-" + admin_pw, database="pydb")
out["bad_password"] = refused(bad.get_list_database)
out["bad_password_write"] = refused(lambda: bad.write_points([{"measurement": "cpu", "fields": {"usage": 1.0}}]))
ghost = InfluxDBClient(host=host, port=port, username="ghost", password=admin_pw)
out["unknown_user"] = refused(ghost.get_list_database)

c.revoke_privilege("write", "pydb", "py")
out["py_write_revoked"] = refused(lambda: p.write_points([{"measurement": "cpu", "fields": {"usage": 2.0}}]))
c.drop_user("py")
out["py_dropped"] = refused(p.get_list_database)
print(json.dumps(out))
`

func TestPythonClientWithAuth(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.Options{Config: authConfig("")})
	host, port := s.HostPort()
	raw := runPython(t, pythonAuthScript, host, port, authAdmin, authAdminPass)
	var got map[string]any
	if err := json.Unmarshal([]byte(raw[strings.LastIndexByte(strings.TrimSpace(raw), '\n')+1:]), &got); err != nil {
		t.Fatalf("python output is not JSON (%v):\n%s", err, raw)
	}
	js := func(key string) string {
		b, _ := json.Marshal(got[key]) // decoded JSON: cannot fail
		return string(b)
	}
	checks := []struct{ key, want string }{
		{"boot_list", `[403,"error authorizing query: create admin user first or disable authentication"]`},
		{"root_root", `[401,"authorization failed"]`},
		{"admin_write", `true`},
		{"users", `[["admin",true],["py",false]]`},
		{"grants", `[{"database":"pydb","privilege":"WRITE"}]`},
		{"py_write", `true`},
		{"py_users", `[403,"error authorizing query: py not authorized to execute statement 'SHOW USERS', requires admin privilege"]`},
		{"py_create_db", `[403,"error authorizing query: py not authorized to execute statement 'CREATE DATABASE other', requires admin privilege"]`},
		{"bad_password", `[401,"authorization failed"]`},
		{"bad_password_write", `[401,"authorization failed"]`},
		{"unknown_user", `[401,"authorization failed"]`},
		{"py_write_revoked", `[403,"\"py\" user is not authorized to write to database \"pydb\""]`},
		{"py_dropped", `[401,"authorization failed"]`},
	}
	for _, c := range checks {
		if g := js(c.key); g != c.want {
			t.Errorf("%s = %s, want %s", c.key, g, c.want)
		}
	}
	s.Stop()
	exported := harness.Export(t, s.Dir)
	want := []string{
		"cpu,host=py1 usage=12.5 1600000000000000000",
		"cpu,host=py2 usage=99 1600000001000000000",
	}
	if !slices.Equal(exported, want) {
		t.Fatalf("exported:\n%s\nwant:\n%s", strings.Join(exported, "\n"), strings.Join(want, "\n"))
	}
	noSecretsInLog(t, s, authAdminPass, "Py-e2e-pw")
}
