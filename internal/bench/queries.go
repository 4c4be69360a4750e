package bench

import (
	"fmt"
	"strings"
	"time"
)

// The query types, named as in TSBS.
const (
	SingleGroupby111  = "single-groupby-1-1-1"
	SingleGroupby5112 = "single-groupby-5-1-12"
	CPUMaxAll1        = "cpu-max-all-1"
	DoubleGroupby1    = "double-groupby-1"
	HighCPU1          = "high-cpu-1"
	Lastpoint         = "lastpoint"
	GroupbyOrderbyLim = "groupby-orderby-limit"
)

// QueryTypes returns every query type, in the order a run uses by default.
func QueryTypes() []string {
	return []string{SingleGroupby111, SingleGroupby5112, CPUMaxAll1, DoubleGroupby1,
		HighCPU1, Lastpoint, GroupbyOrderbyLim}
}

// QueryDescription returns a one-line description of a query type, or ""
// for an unknown one.
func QueryDescription(typ string) string {
	switch typ {
	case SingleGroupby111:
		return "max of 1 metric, 1 host, random 1 h window, by 1 min"
	case SingleGroupby5112:
		return "max of 5 metrics, 1 host, random 12 h window, by 1 min"
	case CPUMaxAll1:
		return "max of all 10 metrics, 1 host, random 8 h window, by 1 h"
	case DoubleGroupby1:
		return "mean of 1 metric, all hosts, random 12 h window, by 1 h and host"
	case HighCPU1:
		return "points with usage_user > 90, 1 host, random 12 h window"
	case Lastpoint:
		return "the last point of every host"
	case GroupbyOrderbyLim:
		return "max of 1 metric by 1 min, the last 5 buckets before a random time"
	}
	return ""
}

// Query is one statement of a run.
type Query struct {
	Type      string `json:"type"`
	Statement string `json:"q"`
}

// Queries returns n queries of type typ over ds. The hosts and windows
// come from a stream seeded by ds.Seed and the type's name, so they are
// the same for every server and do not depend on which other types run.
//
// A window longer than the data set is cut to the whole set (a 10-minute
// smoke run still runs the 12-hour types, over everything).
func Queries(ds Dataset, typ string, n int) ([]Query, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if QueryDescription(typ) == "" {
		return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownQueryType, typ, strings.Join(QueryTypes(), ", "))
	}
	g := queryGen{ds: ds, r: newRNG(ds.Seed, stringHash(typ))}
	out := make([]Query, n)
	for i := range out {
		out[i] = Query{Type: typ, Statement: g.statement(typ)}
	}
	return out, nil
}

type queryGen struct {
	ds Dataset
	r  rng
}

// window returns a random window of length d inside the data set, on
// whole seconds, as TSBS's RandWindow does.
func (g *queryGen) window(d time.Duration) (start, end time.Time) {
	span := g.ds.End().Sub(g.ds.Start)
	if d >= span {
		return g.ds.Start, g.ds.End()
	}
	slack := int((span - d) / time.Second)
	start = g.ds.Start.Add(time.Duration(g.r.intn(slack+1)) * time.Second)
	return start, start.Add(d)
}

func (g *queryGen) host() string { return HostName(g.r.intn(g.ds.Hosts)) }

func influxTime(t time.Time) string { return "'" + t.UTC().Format(time.RFC3339Nano) + "'" }

func timeRange(start, end time.Time) string {
	return "time >= " + influxTime(start) + " AND time < " + influxTime(end)
}

// aggregates returns "fn(f1), fn(f2), …" over the first n cpu fields.
func aggregates(fn string, n int) string {
	var b strings.Builder
	names := FieldNames()
	for i, f := range names[:n] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(fn + "(" + f + ")")
	}
	return b.String()
}

func (g *queryGen) statement(typ string) string {
	switch typ {
	case SingleGroupby111:
		h := g.host()
		s, e := g.window(time.Hour)
		return fmt.Sprintf("SELECT %s FROM cpu WHERE hostname = '%s' AND %s GROUP BY time(1m)", aggregates("max", 1), h, timeRange(s, e))
	case SingleGroupby5112:
		h := g.host()
		s, e := g.window(12 * time.Hour)
		return fmt.Sprintf("SELECT %s FROM cpu WHERE hostname = '%s' AND %s GROUP BY time(1m)", aggregates("max", 5), h, timeRange(s, e))
	case CPUMaxAll1:
		h := g.host()
		s, e := g.window(8 * time.Hour)
		return fmt.Sprintf("SELECT %s FROM cpu WHERE hostname = '%s' AND %s GROUP BY time(1h)", aggregates("max", FieldsPerPoint), h, timeRange(s, e))
	case DoubleGroupby1:
		s, e := g.window(12 * time.Hour)
		return fmt.Sprintf("SELECT %s FROM cpu WHERE %s GROUP BY time(1h), hostname", aggregates("mean", 1), timeRange(s, e))
	case HighCPU1:
		h := g.host()
		s, e := g.window(12 * time.Hour)
		return fmt.Sprintf("SELECT * FROM cpu WHERE usage_user > 90 AND hostname = '%s' AND %s", h, timeRange(s, e))
	case Lastpoint:
		return "SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1"
	case GroupbyOrderbyLim:
		_, e := g.window(time.Hour)
		return fmt.Sprintf("SELECT %s FROM cpu WHERE time < %s GROUP BY time(1m) ORDER BY time DESC LIMIT 5", aggregates("max", 1), influxTime(e))
	}
	panic("BUG: statement for unchecked query type " + typ)
}
