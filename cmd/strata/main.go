// Command strata is Strata's client and offline tool.
//
//	strata inspect verify -dir DATA_DIR [-wal-dir WAL_DIR]
//	strata inspect dump FILE.tsm
//	strata inspect report -dir DATA_DIR [-wal-dir WAL_DIR]
//	strata inspect export -dir DATA_DIR [-wal-dir WAL_DIR] [-db DB] [-rp RP] [-out FILE]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stratadb/strata/internal/inspect"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "strata: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: strata <command> [arguments]

Commands:
  inspect verify   check every data file, tombstone and WAL segment of a stopped server
  inspect dump     print a data file's index and blocks
  inspect report   series and values per shard
  inspect export   write the stored points as line protocol
`)
}

// dirs are the flags every inspect command that reads a server's
// directories takes. The WAL directory defaults to ../wal beside the data
// directory, the layout stratad uses by default.
func dirFlags(fs *flag.FlagSet) (data, wal *string) {
	data = fs.String("dir", "", "the server's data directory ([data] dir)")
	wal = fs.String("wal-dir", "", "the server's WAL directory ([data] wal-dir; default: DIR/../wal)")
	return data, wal
}

func walDefault(data, wal string) string {
	if wal != "" {
		return wal
	}
	return filepath.Join(filepath.Dir(filepath.Clean(data)), "wal")
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("inspect "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch sub {
	case "verify":
		data, wal := dirFlags(fs)
		if fs.Parse(args) != nil || *data == "" {
			fmt.Fprintln(stderr, "strata inspect verify: -dir is required")
			return 2
		}
		problems, err := inspect.Verify(stdout, *data, walDefault(*data, *wal))
		if err != nil {
			fmt.Fprintf(stderr, "strata inspect verify: %v\n", err)
			return 1
		}
		if len(problems) > 0 {
			fmt.Fprintf(stderr, "%d damaged file(s):\n", len(problems))
			for _, p := range problems {
				fmt.Fprintf(stderr, "  %v\n", p.Err)
			}
			return 1
		}
		fmt.Fprintln(stdout, "Broken Blocks: 0 / all files healthy")
		return 0
	case "dump":
		if fs.Parse(args) != nil || fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: strata inspect dump FILE.tsm")
			return 2
		}
		if err := inspect.Dump(stdout, fs.Arg(0)); err != nil {
			fmt.Fprintf(stderr, "strata inspect dump: %v\n", err)
			return 1
		}
		return 0
	case "report":
		data, wal := dirFlags(fs)
		if fs.Parse(args) != nil || *data == "" {
			fmt.Fprintln(stderr, "strata inspect report: -dir is required")
			return 2
		}
		if _, err := inspect.Report(stdout, *data, walDefault(*data, *wal), nil); err != nil {
			fmt.Fprintf(stderr, "strata inspect report: %v\n", err)
			return 1
		}
		return 0
	case "export":
		data, wal := dirFlags(fs)
		db := fs.String("db", "", "export only this database")
		rp := fs.String("rp", "", "export only this retention policy")
		out := fs.String("out", "-", "output file (- for standard output)")
		if fs.Parse(args) != nil || *data == "" {
			fmt.Fprintln(stderr, "strata inspect export: -dir is required")
			return 2
		}
		w := stdout
		if *out != "-" {
			f, err := os.Create(*out)
			if err != nil {
				fmt.Fprintf(stderr, "strata inspect export: %v\n", err)
				return 1
			}
			defer f.Close()
			w = f
		}
		err := inspect.Export(w, *data, walDefault(*data, *wal), inspect.ExportOptions{Database: *db, RetentionPolicy: *rp})
		if err != nil {
			fmt.Fprintf(stderr, "strata inspect export: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "strata inspect: unknown command %q\n", sub)
	return 2
}
