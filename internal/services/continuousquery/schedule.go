package continuousquery

import (
	"fmt"
	"strings"
	"time"

	"github.com/influxdata/influxql"
)

// cq is a continuous query parsed from its stored text, with the timing
// its SELECT and RESAMPLE clause give it.
type cq struct {
	db, name string
	text     string // the stored CREATE CONTINUOUS QUERY text
	stmt     *influxql.SelectStatement
	raw      bool // no aggregate: 1.x refuses to run it

	interval time.Duration  // GROUP BY time() interval
	offset   time.Duration  // GROUP BY time() offset, in [0, interval)
	every    time.Duration  // RESAMPLE EVERY, else the interval
	forDur   time.Duration  // RESAMPLE FOR, else the larger of interval and every
	loc      *time.Location // tz(), UTC without
}

// parseCQ parses a stored continuous query.
func parseCQ(db, name, text string) (*cq, error) {
	stmt, err := influxql.NewParser(strings.NewReader(text)).ParseStatement()
	if err != nil {
		return nil, fmt.Errorf("%w: %s.%s: %v", ErrInvalidQuery, db, name, err)
	}
	c, ok := stmt.(*influxql.CreateContinuousQueryStatement)
	if !ok || c.Source == nil || c.Source.Target == nil || c.Source.Target.Measurement == nil {
		return nil, fmt.Errorf("%w: %s.%s: not a continuous query with INTO", ErrInvalidQuery, db, name)
	}
	interval, err := c.Source.GroupByInterval()
	if err != nil {
		return nil, fmt.Errorf("%w: %s.%s: %v", ErrInvalidQuery, db, name, err)
	}
	if interval <= 0 {
		return nil, fmt.Errorf("%w: %s.%s: no GROUP BY time()", ErrInvalidQuery, db, name)
	}
	offset, err := c.Source.GroupByOffset()
	if err != nil {
		return nil, fmt.Errorf("%w: %s.%s: %v", ErrInvalidQuery, db, name, err)
	}
	q := &cq{
		db: db, name: name, text: text,
		stmt:     c.Source,
		raw:      c.Source.IsRawQuery,
		interval: interval,
		offset:   offset,
		every:    interval,
		forDur:   interval,
		loc:      c.Source.Location,
	}
	if q.loc == nil {
		q.loc = time.UTC
	}
	if c.ResampleEvery > 0 {
		q.every = c.ResampleEvery
	}
	switch {
	case c.ResampleFor > 0:
		q.forDur = c.ResampleFor
	case interval < q.every:
		q.forDur = q.every
	}
	return q, nil
}

// The schedule is 1.x's (services/continuous_querier, learned from its
// documentation and behaviour):
//
//   - A query runs when lastRun + EVERY has passed; the first time the
//     service sees it, it runs at once.
//   - Each run records lastRun = now truncated to EVERY (offset
//     included), so runs stay aligned to the GROUP BY boundaries.
//   - A run covers [start, end): start = (nextRun + interval - FOR - 1ns)
//     truncated to the interval, end = (now + interval - min(EVERY,
//     interval)) truncated to the interval, both shifted by the offset.
//     With neither EVERY nor FOR, a run at 8:00 covers [7:00, 8:00); EVERY
//     30m over 1h intervals re-runs the current hour every half hour; FOR
//     90m over 30m intervals recomputes the last three.
//   - start comes from nextRun, not now, so runs missed while the service
//     was busy are covered by the next one. A run whose window is empty
//     (the first one, mostly) runs nothing.
//
// Truncation honours tz(): windows start on local boundaries, and a
// boundary moved by a daylight-saving change moves with it.

// shouldRun reports whether the query is due at now, given its last run,
// and the time the due run was planned for.
func (q *cq) shouldRun(lastRun time.Time, hasRun bool, now time.Time) (bool, time.Time) {
	if !hasRun {
		return true, now.In(q.loc)
	}
	_, startOff := lastRun.Add(-1).In(q.loc).Zone()
	next := lastRun.Add(q.every)
	if _, endOff := next.Add(-1).In(q.loc).Zone(); startOff != endOff {
		if diff := time.Duration(startOff-endOff) * time.Second; diff.Abs() < q.every {
			next = next.Add(diff)
		}
	}
	return !next.After(now), next
}

// lastRunAt is the lastRun recorded by a run at now.
func (q *cq) lastRunAt(now time.Time) time.Time {
	return truncate(now.In(q.loc).Add(-q.offset), q.every).Add(q.offset)
}

// window returns the range [start, end) a run planned for next and made
// at now covers; ok is false when it is empty.
func (q *cq) window(next, now time.Time) (start, end time.Time, ok bool) {
	every := min(q.every, q.interval)
	start = truncate(next.In(q.loc).Add(q.interval-q.forDur-q.offset-1), q.interval).Add(q.offset)
	end = truncate(now.In(q.loc).Add(q.interval-every-q.offset), q.interval).Add(q.offset)
	return start, end, end.After(start)
}

// truncate rounds t down to a multiple of d in t's location (so that days
// start at local midnight). When the result lies across a UTC-offset
// change from t, it is moved by the change, unless that is d or more.
func truncate(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	ns := t.UnixNano()
	_, off := t.Zone()
	offset := int64(off) * int64(time.Second)
	rem := (ns + offset) % int64(d)
	if rem < 0 {
		rem += int64(d)
	}
	out := time.Unix(0, ns-rem).In(t.Location())
	if _, off2 := out.Zone(); off2 != off {
		if diff := time.Duration(off-off2) * time.Second; diff.Abs() < d {
			out = out.Add(diff)
		}
	}
	return out
}
