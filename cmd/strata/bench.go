package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/stratadb/strata/internal/bench"
)

const benchUsage = `Usage: strata bench <command> [flags]

Commands:
  gen     print the data set as line protocol
  write   send the data set to a server over HTTP and measure ingest
  query   run the TSBS-style query set and measure latency, rows and result hashes
  wait    wait until a server's /ping answers; print how long that took (ms)
  report  turn a results directory written by scripts/bench into the comparison table

The data set (gen, write, query): --hosts, --duration, --start, --interval,
--seed, --float. write and query must be given the same data set flags, so
that the query windows fall where the data is.

Profiling a server under load is one command:
  strata bench write --hosts 4000 --duration 2h --profile DIR
saves DIR/cpu.pprof and DIR/heap.pprof from the server's /debug/pprof while
the load runs (go tool pprof DIR/cpu.pprof).
`

func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sub, args := args[0], args[1:]
	switch sub {
	case "gen":
		return benchGen(args, stdout, stderr)
	case "write":
		return benchWrite(ctx, args, stdout, stderr)
	case "query":
		return benchQuery(ctx, args, stdout, stderr)
	case "wait":
		return benchWait(ctx, args, stdout, stderr)
	case "report":
		return benchReport(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, benchUsage)
		return 0
	}
	fmt.Fprintf(stderr, "strata bench: unknown command %q\n", sub)
	fmt.Fprint(stderr, benchUsage)
	return 2
}

// datasetFlags registers the flags that describe a data set and returns a
// function that builds it after parsing.
func datasetFlags(fs *flag.FlagSet) func() (bench.Dataset, error) {
	hosts := fs.Int("hosts", 100, "number of simulated hosts")
	duration := fs.Duration("duration", 24*time.Hour, "simulated time span")
	start := fs.String("start", bench.DefaultStart().Format(time.RFC3339), "time of the first point (RFC 3339)")
	interval := fs.Duration("interval", bench.DefaultInterval, "time between two points of one host")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same data and queries")
	float := fs.Bool("float", false, "write float fields instead of integer fields")
	return func() (bench.Dataset, error) {
		t, err := time.Parse(time.RFC3339Nano, *start)
		if err != nil {
			return bench.Dataset{}, fmt.Errorf("-start: %w", err)
		}
		ds := bench.Dataset{Hosts: *hosts, Start: t, Duration: *duration, Interval: *interval, Seed: *seed, Float: *float}
		return ds, ds.Validate()
	}
}

func parseBench(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "strata bench %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

func benchGen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	dataset := datasetFlags(fs)
	if !parseBench(fs, args, stderr) {
		return 2
	}
	ds, err := dataset()
	if err != nil {
		fmt.Fprintf(stderr, "strata bench gen: %v\n", err)
		return 2
	}
	g, err := bench.NewGenerator(ds)
	if err != nil {
		fmt.Fprintf(stderr, "strata bench gen: %v\n", err)
		return 2
	}
	w := bufio.NewWriterSize(stdout, 1<<20)
	var buf []byte
	for !g.Done() {
		buf, _ = g.Next(buf[:0], 1000)
		if _, err := w.Write(buf); err != nil {
			fmt.Fprintf(stderr, "strata bench gen: %v\n", err)
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "strata bench gen: %v\n", err)
		return 1
	}
	return 0
}

// writeJSON writes v as indented JSON to path ("" does nothing).
func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func logger(stderr io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(stderr, nil))
}

func benchWrite(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	dataset := datasetFlags(fs)
	var cfg bench.WriteConfig
	fs.StringVar(&cfg.URL, "url", bench.DefaultURL, "server base URL")
	fs.StringVar(&cfg.Database, "db", bench.DefaultDatabase, "database (created first)")
	fs.IntVar(&cfg.Batch, "batch", bench.DefaultBatch, "lines per request")
	fs.IntVar(&cfg.Workers, "workers", bench.DefaultWorkers, "concurrent requests")
	fs.BoolVar(&cfg.Gzip, "gzip", false, "gzip request bodies")
	fs.DurationVar(&cfg.ProgressEvery, "progress", bench.DefaultProgressEvery, "progress interval on stderr (0 for none)")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "directory to save the server's cpu.pprof and heap.pprof taken during the load")
	fs.IntVar(&cfg.ProfileSeconds, "profile-seconds", 15, "length of the CPU profile")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file")
	verbose := fs.Bool("v", false, "log diagnostics to stderr")
	if !parseBench(fs, args, stderr) {
		return 2
	}
	ds, err := dataset()
	if err != nil {
		fmt.Fprintf(stderr, "strata bench write: %v\n", err)
		return 2
	}
	if cfg.ProgressEvery > 0 {
		cfg.Progress = stderr
	}
	cfg.Logger = logger(stderr, *verbose)
	fmt.Fprintf(stderr, "writing %s points (%d hosts × %d timestamps, %s values) to %s db=%s, batch %d, %d workers, gzip %v\n",
		bench.Thousands(ds.Points()), ds.Hosts, ds.Epochs(), bench.Thousands(ds.Values()), cfg.URL, cfg.Database, cfg.Batch, cfg.Workers, cfg.Gzip)
	res, err := bench.Write(ctx, cfg, ds)
	if err != nil {
		fmt.Fprintf(stderr, "strata bench write: %v\n", err)
		return 1
	}
	bench.PrintWrite(stdout, res)
	if err := writeJSON(*jsonOut, res); err != nil {
		fmt.Fprintf(stderr, "strata bench write: %v\n", err)
		return 1
	}
	if res.Failed > 0 || res.Interrupted || res.CreateDatabaseError != "" {
		return 1
	}
	return 0
}

func benchQuery(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	dataset := datasetFlags(fs)
	var cfg bench.QueryConfig
	fs.StringVar(&cfg.URL, "url", bench.DefaultURL, "server base URL")
	fs.StringVar(&cfg.Database, "db", bench.DefaultDatabase, "database holding the data set")
	fs.IntVar(&cfg.PerType, "queries", bench.DefaultQueries, "queries per type")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "timeout of one query")
	types := fs.String("types", strings.Join(bench.QueryTypes(), ","), "comma-separated query types")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file")
	show := fs.Bool("print", false, "print every statement with its latency, rows and hash")
	verbose := fs.Bool("v", false, "log diagnostics to stderr")
	if !parseBench(fs, args, stderr) {
		return 2
	}
	ds, err := dataset()
	if err != nil {
		fmt.Fprintf(stderr, "strata bench query: %v\n", err)
		return 2
	}
	for t := range strings.SplitSeq(*types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.Types = append(cfg.Types, t)
		}
	}
	cfg.Progress = stderr
	cfg.Logger = logger(stderr, *verbose)
	res, err := bench.RunQueries(ctx, cfg, ds)
	if err != nil {
		fmt.Fprintf(stderr, "strata bench query: %v\n", err)
		if errors.Is(err, bench.ErrUnknownQueryType) {
			return 2
		}
		return 1
	}
	bench.PrintQueries(stdout, res, *show)
	if err := writeJSON(*jsonOut, res); err != nil {
		fmt.Fprintf(stderr, "strata bench query: %v\n", err)
		return 1
	}
	for _, t := range res.Types {
		if t.Errors > 0 {
			return 1
		}
	}
	return 0
}

func benchWait(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	u := fs.String("url", bench.DefaultURL, "server base URL")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if !parseBench(fs, args, stderr) {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	d, err := bench.WaitReady(ctx, *u)
	if err != nil {
		fmt.Fprintf(stderr, "strata bench wait: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d\n", d.Milliseconds())
	return 0
}

func benchReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	dir := fs.String("dir", "", "results directory written by scripts/bench")
	md := fs.String("md", "", "also write the Markdown report to this file")
	if !parseBench(fs, args, stderr) || *dir == "" {
		fmt.Fprintln(stderr, "usage: strata bench report -dir RESULTS [-md FILE]")
		return 2
	}
	rep, err := bench.LoadReport(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "strata bench report: %v\n", err)
		return 1
	}
	rep.WriteText(stdout)
	if *md != "" {
		f, err := os.Create(*md)
		if err != nil {
			fmt.Fprintf(stderr, "strata bench report: %v\n", err)
			return 1
		}
		rep.WriteMarkdown(f)
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "strata bench report: %v\n", err)
			return 1
		}
	}
	return 0
}
