package query

import (
	"slices"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// aggData is what the reducers of one output series computed: the points of
// every call in every bucket that has data.
type aggData struct {
	byBucket map[int64][][]aggPoint
	keys     []int64 // buckets with data, ascending
}

// collect turns the reducers into points, bucket by bucket.
func (x *aggRun) collect() *aggData {
	ap := x.ap
	ncalls := len(ap.calls)
	d := &aggData{byBucket: map[int64][][]aggPoint{}}
	slot := func(b int64) [][]aggPoint {
		s := d.byBucket[b]
		if s == nil {
			s = make([][]aggPoint, ncalls)
			d.byBucket[b] = s
		}
		return s
	}
	var buf []aggPoint
	for b, rs := range x.buckets {
		bt := x.bucketTime(b)
		for k, r := range rs {
			if r == nil {
				continue
			}
			buf = r.emit(buf[:0])
			if len(buf) == 0 {
				continue
			}
			pts := slices.Clone(buf)
			if !ap.calls[k].keepTime {
				for j := range pts {
					pts[j].t = bt
				}
			}
			slot(b)[k] = pts
		}
	}
	for k, cp := range ap.calls {
		if !cp.windowed || x.whole[k] == nil {
			continue
		}
		for _, pt := range x.whole[k].(windowed).windows(ap.w, cp.arg) {
			b := x.bucketOf(pt.t)
			pt.t = x.bucketTime(b)
			if ap.w == nil {
				// 1.x gives an integral without GROUP BY time the epoch as
				// its time, whatever the range (so with a lower bound it
				// takes a row of its own).
				pt.t = 0
			}
			s := slot(b)
			s[k] = append(s[k], pt)
		}
	}
	d.keys = make([]int64, 0, len(d.byBucket))
	for b := range d.byBucket {
		d.keys = append(d.keys, b)
	}
	slices.Sort(d.keys)
	return d
}

// output turns the output series' data into rows: every output stream
// (1.x's call iterator) produces its points in query order, and the zipper
// lines them up by time. Empty buckets of a filled range are generated as
// the streams are read, so a long range of filled buckets costs no memory.
func (x *aggRun) output(ts *tagSet, sink func([]any) (bool, error)) error {
	ap := x.ap
	var d *aggData
	if len(ap.calls) > 0 {
		d = x.collect()
	}
	streams := make([]ptStream, len(ap.outs))
	for j, op := range ap.outs {
		var s ptStream
		switch {
		case op.void:
			s = emptyStream{}
		case op.call >= 0:
			s = x.newLaneStream(op, d)
		default:
			s = x.newRawStream(op, ts)
		}
		streams[j] = x.limitStream(s)
	}
	defer func() {
		for _, s := range streams {
			if c, ok := s.(interface{ close() }); ok {
				c.close()
			}
		}
	}()
	return newZipper(x, sink).run(streams)
}

// limitStream applies OFFSET and LIMIT to one output stream, as 1.x applies
// them to each call's iterator (not to rows).
func (x *aggRun) limitStream(s ptStream) ptStream {
	if x.p.limit <= 0 && x.p.offset <= 0 {
		return s
	}
	return &limitedStream{src: s, skip: x.p.offset, left: x.p.limit}
}

// laneStream is an output stream over one aggregate call: the call's points
// of each bucket in its range, filled, then transformed.
type laneStream struct {
	x  *aggRun
	op *outPlan
	cp *callPlan
	d  *aggData

	lo, hi   int64   // the range of bucket starts (inclusive)
	keys     []int64 // buckets in range where the call has points, ascending
	fed      bool    // the call has points in range
	fedFirst int64   // the bucket of its first point in range

	fill     bool  // generate empty buckets (else only buckets with data)
	i        int   // next index into keys (key iteration)
	b        int64 // next bucket (fill iteration)
	started  bool
	ended    bool
	flushed  bool
	prev     any // fill(previous): the value of the last point
	havePrev bool

	tfs []transformer
	buf []aggPoint
	pos int
	n   int // buckets produced, to check for cancellation now and then
}

func (x *aggRun) newLaneStream(op *outPlan, d *aggData) *laneStream {
	ap, c := x.ap, x.p.c
	s := &laneStream{x: x, op: op, cp: ap.calls[op.call], d: d}
	s.tfs = newTransformers(op.tfs, x.rc)
	s.lo, s.hi = influxql.MinTime, influxql.MaxTime
	if ap.w != nil {
		ext := int64(op.ext) * c.interval
		if c.tmin != influxql.MinTime {
			t := c.tmin
			if c.ascending {
				t -= ext
			}
			s.lo = ap.w.start(t)
		}
		t := c.tmax
		if !c.ascending && t <= influxql.MaxTime-ext {
			t += ext
		}
		s.hi = ap.w.start(t)
	}
	// The call is filled only where it produced points (1.x's fill
	// iterator sees nothing of a call that produced none, as
	// percentile(v, 0)), and without a lower time bound only from its first.
	k := op.call
	for _, b := range d.keys {
		if b >= s.lo && b <= s.hi && len(d.byBucket[b][k]) > 0 {
			s.keys = append(s.keys, b)
		}
	}
	if len(s.keys) > 0 {
		s.fed, s.fedFirst = true, s.keys[0]
	}
	s.fill = ap.w != nil && ap.fill != influxql.NoFill && s.cp.fillable() && s.fed
	return s
}

func (s *laneStream) head() (aggPoint, bool, error) {
	for s.pos >= len(s.buf) {
		if s.ended {
			return aggPoint{}, false, nil
		}
		s.buf, s.pos = s.buf[:0], 0
		if err := s.step(); err != nil {
			return aggPoint{}, false, err
		}
	}
	return s.buf[s.pos], true, nil
}

func (s *laneStream) advance() { s.pos++ }

// step produces the points of the next bucket into buf, or the points the
// transformations emit at the end.
func (s *laneStream) step() error {
	b, ok := s.nextBucket()
	if !ok {
		if !s.flushed {
			s.flushed = true
			s.buf = flushChain(s.tfs, s.buf)
		}
		s.ended = true
		return nil
	}
	if s.n++; s.n&4095 == 0 {
		if err := s.x.rc.check(); err != nil {
			return err
		}
	}
	s.buf = feedChain(s.tfs, s.buf, s.points(b))
	return nil
}

// nextBucket returns the next bucket in query order.
func (s *laneStream) nextBucket() (int64, bool) {
	asc := s.x.p.c.ascending
	if !s.fill {
		if s.i >= len(s.keys) {
			return 0, false
		}
		idx := s.i
		if !asc {
			idx = len(s.keys) - 1 - s.i
		}
		s.i++
		return s.keys[idx], true
	}
	w := s.x.ap.w
	first, last := s.lo, s.hi
	if first == influxql.MinTime {
		// Without a lower bound a call is filled from its first point.
		first = s.fedFirst
	}
	if !s.started {
		s.started = true
		s.b = first
		if !asc {
			s.b = last
		}
		return s.b, s.b >= first && s.b <= last
	}
	if asc {
		nb := w.next(s.b)
		if s.b >= last || nb <= s.b {
			return 0, false
		}
		s.b = nb
	} else {
		pb := w.start(s.b - 1)
		if s.b <= first || pb >= s.b {
			return 0, false
		}
		s.b = pb
	}
	return s.b, true
}

// points returns the call's points in bucket b, or the fill point.
func (s *laneStream) points(b int64) []aggPoint {
	if d := s.d.byBucket[b]; d != nil && len(d[s.op.call]) > 0 {
		pts := d[s.op.call]
		// A bucket's points go out in time order whatever the direction:
		// its last point is the one emitted last.
		s.prev, s.havePrev = pts[len(pts)-1].v, true
		return pts
	}
	if !s.fill {
		return nil
	}
	ap := s.x.ap
	pt := aggPoint{t: b}
	switch ap.fill {
	case influxql.NullFill:
		if s.cp.fn == "count" || s.cp.fn == "count_distinct" {
			pt.v = int64(0)
		}
	case influxql.NumberFill:
		pt.v = castFill(ap.fillValue, s.cp.outType())
	case influxql.PreviousFill:
		if s.havePrev {
			pt.v = s.prev
		}
	case influxql.LinearFill:
		pt.v = s.linear(b)
	}
	return []aggPoint{pt}
}

// linear interpolates the call at bucket b between the nearest buckets of
// its range before and after it that have a value of their own.
func (s *laneStream) linear(b int64) any {
	t := s.cp.outType()
	if !isNumeric(t) {
		return nil
	}
	k := s.op.call
	i, _ := slices.BinarySearch(s.keys, b)
	var pb, nb int64
	var pv, nv any
	for j := i - 1; j >= 0; j-- {
		if d := s.d.byBucket[s.keys[j]][k]; len(d) > 0 && d[0].v != nil {
			pb, pv = s.keys[j], d[0].v
			break
		}
	}
	for j := i; j < len(s.keys); j++ {
		if d := s.d.byBucket[s.keys[j]][k]; len(d) > 0 && d[0].v != nil {
			nb, nv = s.keys[j], d[0].v
			break
		}
	}
	if pv == nil || nv == nil {
		return nil
	}
	// 1.x interpolates over bucket numbers (times divided by the
	// interval), which rounds differently from nanoseconds. Descending,
	// 1.x interpolates from the later bucket (the previous one in output
	// order).
	iv := s.x.ap.w.interval
	b, pb, nb = b/iv, pb/iv, nb/iv
	p, n := toFloat(pv), toFloat(nv)
	if !s.x.p.c.ascending {
		p, n, pb, nb = n, p, nb, pb
	}
	v := (n-p)/float64(nb-pb)*float64(b-pb) + p
	switch t {
	case models.Integer:
		return int64(v)
	case models.Unsigned:
		return uint64(v)
	}
	return v
}

// feedChain passes points through a chain of transformations and appends
// what comes out of the last one to out. Null points do not reach a
// transformation (1.x skips them).
func feedChain(tfs []transformer, out, in []aggPoint) []aggPoint {
	if len(tfs) == 0 {
		return append(out, in...)
	}
	stage := in
	for i, tf := range tfs {
		var next []aggPoint
		if i == len(tfs)-1 {
			next = out
		}
		for _, p := range stage {
			if p.v != nil {
				next = tf.add(next, p.t, p.v)
			}
		}
		stage = next
	}
	return stage
}

// flushChain ends the input of a chain: each transformation's final points
// go through the ones after it.
func flushChain(tfs []transformer, out []aggPoint) []aggPoint {
	for i, tf := range tfs {
		if pts := tf.flush(nil); len(pts) > 0 {
			out = feedChain(tfs[i+1:], out, pts)
		}
	}
	return out
}

// bucketTime is the time of a bucket's rows: its start, or without GROUP BY
// time the start of the query's range (the epoch when it has none).
func (x *aggRun) bucketTime(b int64) int64 {
	if x.ap.w != nil {
		return b
	}
	if x.p.c.tmin == influxql.MinTime {
		return 0
	}
	return x.p.c.tmin
}

// castFill converts fill(<number>) to a call's result type.
func castFill(v any, t models.FieldType) any {
	var f float64
	var isInt bool
	var i int64
	switch v := v.(type) {
	case float64:
		f = v
	case int64:
		i, isInt, f = v, true, float64(v)
	default:
		return nil
	}
	switch t {
	case models.Float:
		return f
	case models.Integer:
		if isInt {
			return i
		}
		return int64(f)
	case models.Unsigned:
		if isInt {
			return uint64(i)
		}
		return uint64(f)
	case models.String:
		return "" // 1.x fills with the type's zero value
	case models.Boolean:
		return false
	}
	return nil
}
