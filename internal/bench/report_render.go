package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// goal is a target a ratio (Subject / Baseline) is held against.
type goal struct {
	atLeast bool // ratio ≥ v, else ratio ≤ v
	v       float64
	text    string
}

func (g *goal) met(ratio float64) string {
	if g == nil || math.IsNaN(ratio) {
		return ""
	}
	if (g.atLeast && ratio >= g.v) || (!g.atLeast && ratio <= g.v) {
		return "yes"
	}
	return "NO"
}

// The targets of issue 8, as ratios Strata / InfluxDB. Functions, not
// variables: the package keeps no mutable state.
func goalIngest() *goal { return &goal{atLeast: true, v: 3, text: "≥ 3"} }
func goalRSS() *goal    { return &goal{v: 1.0 / 3, text: "≤ 0.33"} }
func goalDisk() *goal   { return &goal{v: 2.0 / 3, text: "≤ 0.67"} }
func goalQuery() *goal  { return &goal{v: 0.5, text: "≤ 0.5"} }
func goalCold() *goal   { return &goal{v: 0.5, text: "≤ 0.5"} }

// Row is one line of the comparison table.
type Row struct {
	Metric   string
	Subject  string  // the subject's figure, formatted; "—" when missing
	Baseline string  // the baseline's figure
	Ratio    float64 // Subject / Baseline; NaN when either is missing
	Target   string  // "≥ 3", "≤ 0.5", or "" for none
	Met      string  // "yes", "NO", or ""
	Note     string  // answers differ, errors, …
}

// figure is one server's value of a metric.
type figure struct {
	v  float64
	ok bool
}

func (s *SizeReport) server(name string) *ServerRuns {
	if r := s.Servers[name]; r != nil {
		return r
	}
	return &ServerRuns{Name: name}
}

func ingestRate(s *ServerRuns) figure {
	var v []float64
	for _, w := range s.Writes {
		if !w.Interrupted && w.PointsOK > 0 {
			v = append(v, w.PointsPerSec)
		}
	}
	return figure{Median(v), len(v) > 0}
}

func batchP99(s *ServerRuns) figure {
	var v []float64
	for _, w := range s.Writes {
		if w.BatchLatency.Count > 0 {
			v = append(v, float64(w.BatchLatency.P99))
		}
	}
	return figure{Median(v), len(v) > 0}
}

func peakRSS(s *ServerRuns) figure {
	v := s.factNumbers(FactRSS)
	return figure{Median(v) * 1024, len(v) > 0}
}

func bytesPerPoint(s *ServerRuns) figure { return perPoint(s, FactDiskBytes) }

// perPoint divides the last value of a disk fact by the points the last
// run acknowledged.
func perPoint(s *ServerRuns, key string) figure {
	disk := s.factNumbers(key)
	if len(disk) == 0 || len(s.Writes) == 0 {
		return figure{}
	}
	points := s.Writes[len(s.Writes)-1].PointsOK
	if points <= 0 {
		return figure{}
	}
	return figure{disk[len(disk)-1] / float64(points), true}
}

func coldStart(s *ServerRuns) figure {
	v := s.factNumbers(FactColdStart)
	if len(v) == 0 {
		return figure{}
	}
	return figure{Median(v) * float64(time.Millisecond), true}
}

func queryType(s *ServerRuns, typ string) *QueryTypeResult {
	if s.Query == nil {
		return nil
	}
	for i := range s.Query.Types {
		if s.Query.Types[i].Type == typ {
			return &s.Query.Types[i]
		}
	}
	return nil
}

func queryP50(t *QueryTypeResult) figure {
	if t == nil || t.Latency.Count == 0 {
		return figure{}
	}
	return figure{float64(t.Latency.P50), true}
}

func row(metric string, s, b figure, format func(float64) string, g *goal) Row {
	r := Row{Metric: metric, Subject: "—", Baseline: "—", Ratio: math.NaN()}
	if s.ok {
		r.Subject = format(s.v)
	}
	if b.ok {
		r.Baseline = format(b.v)
	}
	if s.ok && b.ok && b.v > 0 {
		r.Ratio = s.v / b.v
	}
	if g != nil {
		r.Target = g.text
		r.Met = g.met(r.Ratio)
	}
	return r
}

func fmtRate(v float64) string  { return Thousands(int64(math.Round(v))) }
func fmtNanos(v float64) string { return fmtDuration(time.Duration(v)) }
func fmtMiB(v float64) string   { return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB" }
func fmtBytes(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// Rows returns the comparison table of one size.
func (s *SizeReport) Rows() []Row {
	sub, base := s.server(Subject), s.server(Baseline)
	rows := []Row{
		row("ingest points/s (median)", ingestRate(sub), ingestRate(base), fmtRate, goalIngest()),
		row("p99 batch latency (median)", batchP99(sub), batchP99(base), fmtNanos, nil),
		row("peak RSS during ingest (median)", peakRSS(sub), peakRSS(base), fmtMiB, goalRSS()),
		row("bytes/point on disk after compaction", bytesPerPoint(sub), bytesPerPoint(base), fmtBytes, goalDisk()),
	}
	for _, typ := range s.queryTypes() {
		ts, tb := queryType(sub, typ), queryType(base, typ)
		r := row("query p50 "+typ, queryP50(ts), queryP50(tb), fmtNanos, goalQuery())
		r.Note = answerNote(ts, tb)
		rows = append(rows, r)
	}
	rows = append(rows, row("cold start until /ping (median)", coldStart(sub), coldStart(base), fmtNanos, goalCold()))
	rows[0].Note = writeNote(sub, base)
	if a, b := perPoint(sub, FactApparent), perPoint(base, FactApparent); a.ok || b.ok {
		r := row("", a, b, fmtBytes, nil)
		rows[3].Note = "apparent size: " + r.Subject + " vs " + r.Baseline
	}
	return rows
}

// queryTypes lists the query types either server ran, in run order.
func (s *SizeReport) queryTypes() []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range []string{Subject, Baseline} {
		if q := s.server(name).Query; q != nil {
			for _, t := range q.Types {
				if !seen[t.Type] {
					seen[t.Type] = true
					out = append(out, t.Type)
				}
			}
		}
	}
	return out
}

// writeNote flags ingest figures that rest on failed requests.
func writeNote(sub, base *ServerRuns) string {
	var parts []string
	for _, s := range []*ServerRuns{sub, base} {
		failed := 0
		for _, w := range s.Writes {
			failed += w.Failed
		}
		if failed > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d failed requests", s.Name, failed))
		}
	}
	return strings.Join(parts, "; ")
}

// answerNote says whether the two servers gave the same answers.
func answerNote(s, b *QueryTypeResult) string {
	switch {
	case s == nil || b == nil:
		return "not run on both"
	case s.Errors > 0 || b.Errors > 0:
		return fmt.Sprintf("errors: %s %d/%d, %s %d/%d", Subject, s.Errors, s.Queries, Baseline, b.Errors, b.Queries)
	case s.Hash == b.Hash:
		return fmt.Sprintf("same answers (%d rows)", s.Rows)
	}
	return fmt.Sprintf("ANSWERS DIFFER: rows %d vs %d", s.Rows, b.Rows)
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "—"
	}
	if r >= 10 {
		return strconv.FormatFloat(r, 'f', 1, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// sizeTitle describes the data set of one size.
func (s *SizeReport) sizeTitle() string {
	for _, name := range []string{Subject, Baseline} {
		if w := s.server(name).Writes; len(w) > 0 {
			ds := w[0].Dataset
			return fmt.Sprintf("%s hosts, %v at %v, %s points (%s values) per run, %d run(s)",
				Thousands(int64(s.Hosts)), ds.Duration, ds.Interval, Thousands(ds.Points()), Thousands(ds.Values()), len(w))
		}
	}
	return Thousands(int64(s.Hosts)) + " hosts"
}

// WriteText prints the comparison tables and every problem as plain text.
func (r *Report) WriteText(w io.Writer) {
	for i := range r.Sizes {
		s := &r.Sizes[i]
		fmt.Fprintf(w, "\n== %s\n", s.sizeTitle())
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "metric\tStrata\tInfluxDB\tStrata/InfluxDB\ttarget\tmet\tnote")
		for _, row := range s.Rows() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Metric, row.Subject, row.Baseline, fmtRatio(row.Ratio),
				row.Target, row.Met, row.Note)
		}
		_ = tw.Flush()
		for _, p := range s.Problems() {
			fmt.Fprintf(w, "PROBLEM: %s\n", p)
		}
	}
}

// Problems lists everything that went wrong for one size, for both
// servers: nothing is left out of a report.
func (s *SizeReport) Problems() []string {
	var out []string
	for _, name := range []string{Subject, Baseline} {
		sr := s.Servers[name]
		if sr == nil {
			out = append(out, name+": no results at all")
			continue
		}
		for _, e := range sr.Fact(FactError) {
			out = append(out, name+": "+e)
		}
		for i, wr := range sr.Writes {
			if wr.CreateDatabaseError != "" {
				out = append(out, fmt.Sprintf("%s run %d: CREATE DATABASE failed: %s", name, i+1, wr.CreateDatabaseError))
			}
			if wr.Interrupted {
				out = append(out, fmt.Sprintf("%s run %d: interrupted before every point was sent", name, i+1))
			}
			for _, f := range wr.Failures {
				out = append(out, fmt.Sprintf("%s run %d: %s on %d write requests (%s points); first: %s", name, i+1,
					statusName(f.Status), f.Requests, Thousands(f.Points), f.FirstBody))
			}
		}
		if sr.Query == nil {
			out = append(out, name+": no query results")
			continue
		}
		for _, t := range sr.Query.Types {
			if t.Errors > 0 {
				out = append(out, fmt.Sprintf("%s %s: %d of %d queries failed; first: %s", name, t.Type, t.Errors, t.Queries, t.FirstError))
			}
		}
	}
	out = append(out, s.mismatches()...)
	return out
}

// mismatches names the first query of each type whose answers differ.
func (s *SizeReport) mismatches() []string {
	var out []string
	for _, typ := range s.queryTypes() {
		a, b := queryType(s.server(Subject), typ), queryType(s.server(Baseline), typ)
		if a == nil || b == nil || a.Hash == b.Hash {
			continue
		}
		for i := range min(len(a.Outcomes), len(b.Outcomes)) {
			oa, ob := a.Outcomes[i], b.Outcomes[i]
			if oa.Hash != ob.Hash && oa.Error == "" && ob.Error == "" {
				out = append(out, fmt.Sprintf("%s: answers differ, first at query %d (%d vs %d rows): %s", typ, i+1, oa.Rows, ob.Rows, oa.Statement))
				break
			}
		}
	}
	return out
}
