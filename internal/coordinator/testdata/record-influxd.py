#!/usr/bin/env python3
"""Replay the golden command files of testdata/statements against a real
InfluxDB 1.x and record its answers in the same format, so that `diff`
shows where Strata's expected outputs and InfluxDB differ.

    testdata/record-influxd.py [-influxd /usr/bin/influxd] [-out DIR] FILE...

For each file it starts influxd on a free loopback port with a throwaway
config (meta, data and wal dirs under a temporary directory, reporting
disabled), runs every block, and writes DIR/<file name> (default DIR:
testdata/statements/influxd-<version>/). "reset" restarts influxd on fresh
directories. "user=U" sends HTTP basic auth with the password the file last
gave U in CREATE USER or SET PASSWORD.

Only the standard library is used; nothing here runs in `go test`.
"""

import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Influxd:
    def __init__(self, binary, auth, autocreate):
        self.dir = tempfile.mkdtemp(prefix="influxd-")
        self.port = free_port()
        conf = os.path.join(self.dir, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.dir}/meta"
  retention-autocreate = {"true" if autocreate else "false"}
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
[http]
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {"true" if auth else "false"}
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
""")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([binary, "-config", conf], stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url("/ping"), timeout=1)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("influxd did not start; see " + self.log.name)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def version(self):
        with urllib.request.urlopen(self.url("/ping")) as r:
            return r.headers.get("X-Influxdb-Version", "unknown")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(method, url, data=None, auth=None):
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    body = None
    if data is not None:
        body = data.encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse_blocks(lines):
    """Yields (comments, command, input, want) like statement_golden_test.go."""
    i, comments = 0, []
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("#"):
            comments.append(line)
            i += 1
            continue
        command, inp = line, []
        i += 1
        while i < len(lines) and lines[i] != "----":
            inp.append(lines[i])
            i += 1
        i += 1
        want = []
        while i < len(lines) and lines[i].strip():
            want.append(lines[i])
            i += 1
        yield comments, command, inp, want
        comments = []


PASSWORD = re.compile(r"CREATE USER (\S+) WITH PASSWORD '([^']*)'|SET PASSWORD FOR (\S+) = '([^']*)'", re.I)


def run_file(binary, path, outdir):
    with open(path) as f:
        lines = f.read().rstrip("\n").split("\n")
    server = Influxd(binary, auth=False, autocreate=True)
    version = server.version()
    passwords = {}
    out = []
    try:
        for comments, command, inp, _ in parse_blocks(lines):
            fields = command.split()
            args = dict((f.split("=", 1) + [""])[:2] for f in fields[1:])
            text = "\n".join(inp)
            if fields[0] == "reset":
                server.stop()
                server = Influxd(binary, auth="auth" in args, autocreate="no-autocreate" not in args)
                passwords = {}
                got = "ok"
            elif fields[0] == "write":
                params = {"db": args.get("db", "")}
                if args.get("rp"):
                    params["rp"] = args["rp"]
                status, body = request("POST", server.url("/write?" + urllib.parse.urlencode(params)), text)
                got = "ok" if status == 204 else "error: " + json.loads(body).get("error", body.strip())
            elif fields[0] == "query":
                params = {"q": text}
                for k in ("db", "rp"):
                    if args.get(k):
                        params[k] = args[k]
                if "chunked" in args:
                    params["chunked"] = "true"
                auth = None
                if args.get("user"):
                    auth = args["user"] + ":" + passwords.get(args["user"], "")
                form = urllib.parse.urlencode(params)
                if "get" in args:
                    status, body = request("GET", server.url("/query?" + form), auth=auth)
                else:
                    status, body = request("POST", server.url("/query"), form, auth=auth)
                got = f"{status} " + body.strip()
                if status == 200:
                    for m in PASSWORD.finditer(text):
                        user, pw = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
                        passwords[user.strip('"')] = pw
            else:
                raise SystemExit(f"{path}: unknown command {command!r}")
            out.extend(comments)
            out.append(command)
            out.extend(inp)
            out.append("----")
            out.append(got)
            out.append("")
    finally:
        server.stop()
    outdir = outdir or os.path.join(os.path.dirname(path), "influxd-" + version.split("~")[0])
    os.makedirs(outdir, exist_ok=True)
    dest = os.path.join(outdir, os.path.basename(path))
    with open(dest, "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    print(dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-influxd", default="/usr/bin/influxd")
    ap.add_argument("-out", default="")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    for path in a.files:
        run_file(a.influxd, path, a.out)


if __name__ == "__main__":
    sys.exit(main())
