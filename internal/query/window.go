package query

import (
	"time"

	"github.com/influxdata/influxql"
)

// windower computes GROUP BY time buckets: intervals aligned to the epoch
// plus the offset, in the wall-clock time of tz() when one is given (so a
// 1d bucket starts at local midnight and lasts 23 or 25 hours across a DST
// change).
type windower struct {
	interval int64
	offset   int64
	loc      *time.Location
}

// floorStart returns the start of the bucket that holds t, for plain
// (zone-less) buckets; MinTime when that start is not representable.
func floorStart(t, interval, offset int64) int64 {
	if t < influxql.MinTime+offset {
		return influxql.MinTime
	}
	r := (t - offset) % interval
	if r < 0 {
		r += interval
	}
	if t-r < influxql.MinTime {
		return influxql.MinTime
	}
	return t - r
}

// start returns the start of the bucket that holds t.
func (w *windower) start(t int64) int64 {
	if w.loc == nil {
		return floorStart(t, w.interval, w.offset)
	}
	zone := zoneOffset(t, w.loc)
	s := floorStart(t+zone, w.interval, w.offset) - zone
	// t may lie after a zone change that the bucket start precedes: use the
	// start's own offset, unless the change is as long as a bucket (then
	// buckets are plain UTC intervals anyway).
	if o := zone - zoneOffset(s, w.loc); o != 0 && abs64(o) < w.interval {
		s += o
	}
	return s
}

// next returns the start of the bucket after the one starting at s.
func (w *windower) next(s int64) int64 {
	if w.loc == nil {
		return s + w.interval
	}
	// Half a bucket past the next nominal start is safely inside the next
	// bucket whatever the zone changes (which are shorter than half a
	// bucket whenever they shift buckets at all).
	return w.start(s + w.interval + w.interval/2)
}

// zoneOffset returns loc's UTC offset at t, in nanoseconds.
func zoneOffset(t int64, loc *time.Location) int64 {
	_, off := time.Unix(0, t).In(loc).Zone()
	return int64(off) * int64(time.Second)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
