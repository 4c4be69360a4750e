package coordinator_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/query"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/statements/*.txt")

// TestStatementsGolden runs the command files in testdata/statements. Each
// file is a sequence of blocks separated by blank lines:
//
//	# a comment, kept by -rewrite
//	command arg=value flag
//	input lines (optional)
//	----
//	expected output lines
//
// Commands:
//
//	reset [auth] [no-autocreate]      fresh meta and storage ([http]
//	                                  auth-enabled, [meta]
//	                                  retention-autocreate = false)
//	write db=D [rp=R]                 write the input (line protocol)
//	query [db=D] [rp=R] [user=U] [get] [chunked]
//	                                  run the input as one /query request;
//	                                  the output is the status and body
//	                                  httpd would send
//
// Every file starts with a fresh environment. The same files drive
// testdata/record-influxd.py, which replays them against a real InfluxDB
// 1.x so that the expected outputs can be compared with it.
func TestStatementsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "statements", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			runGoldenFile(t, path)
		})
	}
}

type goldenBlock struct {
	comments []string // lines before the command
	command  string
	input    []string
	want     []string
	line     int // of the command, 1-based
}

func parseGolden(path string) (blocks []goldenBlock, trailer []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var cur goldenBlock
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			continue
		case strings.HasPrefix(l, "#"):
			cur.comments = append(cur.comments, l)
			continue
		}
		cur.command, cur.line = l, i+1
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			cur.input = append(cur.input, lines[i])
		}
		if i == len(lines) {
			return nil, nil, fmt.Errorf("%s:%d: block without ----", path, cur.line)
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			cur.want = append(cur.want, lines[i])
		}
		blocks = append(blocks, cur)
		cur = goldenBlock{}
	}
	return blocks, cur.comments, nil
}

func runGoldenFile(t *testing.T, path string) {
	blocks, trailer, err := parseGolden(path)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{})
	var out strings.Builder
	for i := range blocks {
		blk := &blocks[i]
		got := runGoldenCommand(t, &e, blk)
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

func runGoldenCommand(t *testing.T, e **env, blk *goldenBlock) string {
	t.Helper()
	fields := strings.Fields(blk.command)
	args := map[string]string{}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		args[k] = v
	}
	input := strings.Join(blk.input, "\n")
	switch fields[0] {
	case "reset":
		_, auth := args["auth"]
		_, noAuto := args["no-autocreate"]
		*e = newEnv(t, envOptions{auth: auth, noAutogen: noAuto})
		return "ok"
	case "write":
		if err := (*e).write(args["db"], args["rp"], input); err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	case "query":
		opts := query.ExecutionOptions{Database: args["db"], RetentionPolicy: args["rp"]}
		_, opts.ReadOnly = args["get"]
		if name := args["user"]; name != "" {
			opts.User = (*e).user(name)
		}
		res, err := (*e).run(input, opts)
		if err != nil {
			b, _ := json.Marshal(map[string]string{"error": "error parsing query: " + err.Error()})
			return "400 " + string(b)
		}
		_, chunked := args["chunked"]
		return encodeResponse(res, chunked)
	}
	t.Fatalf("line %d: unknown command %q", blk.line, fields[0])
	return ""
}
