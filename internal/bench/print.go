package bench

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// PrintWrite prints the summary of a write run: rates, batch latency, and
// every failure by status with the first body seen.
func PrintWrite(w io.Writer, r *WriteResult) {
	fmt.Fprintf(w, "server            %s (version %q), db %s\n", r.URL, r.ServerVersion, r.Database)
	fmt.Fprintf(w, "data set          %d hosts, %v from %s, seed %d, %s fields\n", r.Dataset.Hosts, r.Dataset.Duration,
		r.Dataset.Start.UTC().Format(time.RFC3339), r.Dataset.Seed, fieldKind(r.Dataset.Float))
	fmt.Fprintf(w, "points written    %s of %s in %.2fs (%s requests, %s bytes sent, gzip %v)\n",
		Thousands(r.PointsOK), Thousands(r.Dataset.Points()), r.Elapsed.Seconds(), Thousands(int64(r.Requests)),
		Thousands(r.BytesSent), r.Gzip)
	fmt.Fprintf(w, "points/s          %s\n", Thousands(int64(r.PointsPerSec)))
	fmt.Fprintf(w, "values/s          %s\n", Thousands(int64(r.ValuesPerSec)))
	fmt.Fprintf(w, "batch latency     p50 %s  p99 %s  max %s  (%d batches of %d lines, %d workers)\n",
		fmtDuration(r.BatchLatency.P50), fmtDuration(r.BatchLatency.P99), fmtDuration(r.BatchLatency.Max),
		r.BatchLatency.Count, r.Batch, r.Workers)
	if r.CreateDatabaseError != "" {
		fmt.Fprintf(w, "CREATE DATABASE   FAILED: %s\n", r.CreateDatabaseError)
	}
	if r.Interrupted {
		fmt.Fprintf(w, "INTERRUPTED       the run was stopped before every point was sent\n")
	}
	if len(r.Failures) == 0 {
		fmt.Fprintf(w, "non-2xx responses none\n")
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAILED            %s: %d requests, %s points; first: %s\n", statusName(f.Status), f.Requests,
			Thousands(f.Points), f.FirstBody)
	}
	for _, e := range r.ProfileErrors {
		fmt.Fprintf(w, "profile error     %s\n", e)
	}
}

// PrintQueries prints one line per query type, and with all every
// statement's outcome.
func PrintQueries(w io.Writer, r *QueryResult, all bool) {
	fmt.Fprintf(w, "server %s (version %q), db %s, %d hosts over %v\n", r.URL, r.ServerVersion, r.Database,
		r.Dataset.Hosts, r.Dataset.Duration)
	fmt.Fprintf(w, "%-22s %7s %10s %10s %10s %17s %6s\n", "type", "queries", "p50", "p99", "rows", "hash", "errors")
	for _, t := range r.Types {
		fmt.Fprintf(w, "%-22s %7d %10s %10s %10d %17s %6d\n", t.Type, t.Queries, fmtDuration(t.Latency.P50),
			fmtDuration(t.Latency.P99), t.Rows, t.Hash, t.Errors)
		if t.FirstError != "" {
			fmt.Fprintf(w, "  first error: %s\n", t.FirstError)
		}
		if all {
			for _, o := range t.Outcomes {
				fmt.Fprintf(w, "  %10s rows %6d hash %16s  %s", fmtDuration(o.Latency), o.Rows, o.Hash, o.Statement)
				if o.Error != "" {
					fmt.Fprintf(w, "  ERROR %s", o.Error)
				}
				fmt.Fprintln(w)
			}
		}
	}
}

func fieldKind(float bool) string {
	if float {
		return "float"
	}
	return "integer"
}

func statusName(status int) string {
	if status == 0 {
		return "transport error"
	}
	return "status " + strconv.Itoa(status)
}

// Thousands formats n with comma separators (1,234,567).
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// fmtDuration prints a latency with three significant figures.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}
