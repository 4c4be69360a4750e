package bench

import (
	"fmt"
	"io"
	"strings"
)

// mdEscape keeps a cell's text from breaking the table.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// WriteMarkdown writes docs/benchmarks.md: the machine, one table per
// size, every problem, the raw runs, the targets and the method.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprint(w, `# Benchmarks: Strata and InfluxDB 1.x side by side

This file is written by `+"`make bench`"+` (scripts/bench, `+"`strata bench`"+`); do not edit it by
hand, run it again. Ratios are Strata / InfluxDB; the targets are goals the numbers are held
against (issue 8), not assertions.

## Machine and settings

`)
	for _, kv := range r.Machine {
		fmt.Fprintf(w, "- **%s**: %s\n", mdEscape(kv[0]), mdEscape(kv[1]))
	}
	for i := range r.Sizes {
		s := &r.Sizes[i]
		fmt.Fprintf(w, "\n## %s\n\n", s.sizeTitle())
		fmt.Fprintln(w, "| metric | Strata | InfluxDB | Strata / InfluxDB | target | met | note |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | :---: | :---: | --- |")
		for _, row := range s.Rows() {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(row.Metric), mdEscape(row.Subject),
				mdEscape(row.Baseline), fmtRatio(row.Ratio), row.Target, row.Met, mdEscape(row.Note))
		}
		if p := s.Problems(); len(p) > 0 {
			fmt.Fprintf(w, "\nProblems (%d):\n\n", len(p))
			for _, line := range p {
				fmt.Fprintf(w, "- %s\n", mdEscape(line))
			}
		}
		s.writeRaw(w)
	}
	fmt.Fprint(w, methodText)
}

// writeRaw lists every ingest run and the query figures of both servers.
func (s *SizeReport) writeRaw(w io.Writer) {
	fmt.Fprintf(w, "\n<details><summary>Every run</summary>\n\n")
	fmt.Fprintln(w, "| server | run | points/s | batch p50 | batch p99 | peak RSS | failed requests |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, name := range []string{Subject, Baseline} {
		sr := s.server(name)
		rss := sr.factNumbers(FactRSS)
		for i, wr := range sr.Writes {
			r := "—"
			if i < len(rss) {
				r = fmtMiB(rss[i] * 1024)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %d |\n", name, i+1, fmtRate(wr.PointsPerSec),
				fmtDuration(wr.BatchLatency.P50), fmtDuration(wr.BatchLatency.P99), r, wr.Failed)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| query type | server | queries | errors | p50 | p99 | rows | hash |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, typ := range s.queryTypes() {
		for _, name := range []string{Subject, Baseline} {
			t := queryType(s.server(name), typ)
			if t == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %d | `%s` |\n", typ, name, t.Queries, t.Errors,
				fmtDuration(t.Latency.P50), fmtDuration(t.Latency.P99), t.Rows, t.Hash)
		}
	}
	fmt.Fprintf(w, "\n</details>\n")
}

const methodText = `
## Targets

| figure | target (Strata / InfluxDB) |
| --- | --- |
| ingest points/s at 4,000 hosts | ≥ 3 |
| peak RSS during ingest | ≤ 1/3 |
| bytes per point on disk after compaction | ≤ 2/3 |
| every query type's p50 | ≤ 1/2 |
| cold start (launch on the populated directory until /ping answers) | ≤ 1/2 |

Where a figure misses its target, [performance.md](performance.md) says why — what profiling
showed — and what would close the gap.

## Method

- **Data.** ` + "`strata bench`" + ` generates a TSBS "cpu-only" data set: per host the tags hostname,
  region, datacenter, rack, os, arch, team, service, service_version and service_environment;
  measurement ` + "`cpu`" + ` with ten integer fields (usage_user … usage_guest_nice, random walks clamped to
  0..100); one point per host every 10 s, in time order across hosts. The seed fixes every byte.
- **Servers.** Both run on loopback on this machine with equivalent settings from one ` + "`[data]`" + `
  section (cache sizes, snapshot and full-compaction cold durations, WAL fsync delay 0),
  ` + "`[monitor] store-enabled = false`" + `, HTTP logging off. Each ingest run starts a fresh server on
  empty directories; runs alternate between the servers.
- **Ingest.** The same data set is written to each server by ` + "`strata bench write`" + ` (5,000 lines a
  batch, 4 workers, HTTP keep-alive, no gzip, no retries: every non-2xx is counted and reported).
  The ingest figure is the median of the runs, as is the p99 batch latency. Peak RSS is the
  server's VmHWM from /proc at the end of the ingest.
- **Disk.** After the last run the script waits until the data directories stop changing (both
  servers are configured to snapshot the cache after 10 s and fully compact after 30 s without
  writes), stops the server gracefully, and counts the bytes of the data and WAL directories.
  Bytes per point = those bytes / points acknowledged.
- **Cold start.** The server is launched on the populated directories and timed until /ping
  answers, three times (stopped gracefully in between; ` + "`BENCH_COLD_RUNS`" + `); the median is
  reported, since one start takes tens of milliseconds, about as much as the noise of one launch.
- **Queries.** On that restarted server ` + "`strata bench query`" + ` runs each TSBS query type with the same
  seeded hosts and windows on both servers, one query at a time; p50/p99 are nearest-rank over the
  queries that succeeded. Each answer is reduced to a row count and a hash of its canonical form,
  so a wrong answer shows as "ANSWERS DIFFER" next to the latency.

## Reproduce

    make bench                                         # the default sizes (100 and 4,000 hosts)
    BENCH_HOSTS=100 BENCH_DURATION=10m BENCH_RUNS=1 make bench   # a quick smoke run

Profile stratad under the ingest load (CPU and heap from /debug/pprof while the load runs):

    strata bench write --url http://127.0.0.1:8086 --hosts 4000 --duration 2h --profile /tmp/prof
    go tool pprof -top /tmp/prof/cpu.pprof
`
