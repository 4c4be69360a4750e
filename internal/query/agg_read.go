package query

import (
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// aggRun aggregates one tag set.
type aggRun struct {
	p   *plan
	ap  *aggPlan
	rc  *readCtx
	rng *rand.Rand
	par int // goroutines the run may use

	buckets  map[int64][]reducer // bucket start (0 without GROUP BY time) → per-call reducers
	whole    []reducer           // per call, for windowed calls
	fed      []bool              // per call: it received points
	fedFirst []int64             // per call: the bucket of its first point
	minT     int64               // earliest data time seen
	any      bool                // some point was added

	lastStart, lastEnd int64 // the bucket bucketOf found last

	tagBuf []models.Tag
	auxBuf []any
}

func (x *aggRun) bucketOf(t int64) int64 {
	if x.ap.w == nil {
		return 0
	}
	// Consecutive points mostly share a bucket: remember the last one (a
	// zoned bucket start costs zone lookups).
	if x.lastEnd > x.lastStart && t >= x.lastStart && t < x.lastEnd {
		return x.lastStart
	}
	b := x.ap.w.start(t)
	x.lastStart, x.lastEnd = b, x.ap.w.next(b)
	return b
}

// reducer returns the reducer of call k for the bucket holding t.
func (x *aggRun) reducer(k int, b int64) reducer {
	cp := x.ap.calls[k]
	if !x.fed[k] || b < x.fedFirst[k] {
		x.fed[k], x.fedFirst[k] = true, b
	}
	if cp.windowed {
		if x.whole[k] == nil {
			x.whole[k] = newReducer(cp, x.rng)
		}
		return x.whole[k]
	}
	rs := x.buckets[b]
	if rs == nil {
		rs = make([]reducer, len(x.ap.calls))
		x.buckets[b] = rs
	}
	if rs[k] == nil {
		rs[k] = newReducer(cp, x.rng)
	}
	return rs[k]
}

func (x *aggRun) saw(t int64) {
	if !x.any || t < x.minT {
		x.minT = t
	}
	x.any = true
}

// seriesGroup is how many series of an output series one goroutine
// aggregates before its reducers are merged with the others'. The grouping
// does not depend on the parallelism, so results (float sums in particular)
// do not either.
const seriesGroup = 32

// run aggregates the series of ts and sends its output rows to sink. With
// more than seriesGroup series, groups of series are aggregated by up to
// x.par goroutines and merged in series order.
func (x *aggRun) run(ts *tagSet, sink func([]any) (bool, error)) error {
	x.init()
	if len(x.ap.calls) == 0 {
		// Only transformations of raw fields: they read for themselves.
	} else if x.p.virtual() {
		if err := x.readMerged(ts.series); err != nil {
			return err
		}
	} else if len(ts.series) <= seriesGroup || !x.mergeable() {
		if err := x.read(ts.series); err != nil {
			return err
		}
	} else if err := x.readGroups(ts.series); err != nil {
		return err
	}
	if !x.any && !x.ap.raw {
		return nil
	}
	if x.any && x.ap.w == nil && x.p.c.ascending && x.minT < x.p.c.tmin && x.p.virtual() {
		// 1.x aggregates a subquery's rows without GROUP BY time in one
		// window that starts at the query's start: when the first row
		// lies before it (the start of an inner GROUP BY time bucket), the
		// window yields nothing.
		return nil
	}
	return x.output(ts, sink)
}

func (x *aggRun) init() {
	n := len(x.ap.calls)
	x.buckets = map[int64][]reducer{}
	x.whole = make([]reducer, n)
	x.fed = make([]bool, n)
	x.fedFirst = make([]int64, n)
}

// mergeable reports whether every call's reducer can be merged.
func (x *aggRun) mergeable() bool {
	for _, cp := range x.ap.calls {
		if cp.fn == "sample" {
			return false
		}
	}
	return true
}

func (x *aggRun) read(series []*seriesRef) error {
	for _, s := range series {
		if err := x.rc.check(); err != nil {
			return err
		}
		var err error
		if x.ap.columnar {
			err = x.readColumnar(s)
		} else {
			err = x.readRows(s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readGroups aggregates groups of series concurrently and merges them.
func (x *aggRun) readGroups(series []*seriesRef) error {
	n := (len(series) + seriesGroup - 1) / seriesGroup
	parts := make([]*aggRun, n)
	errs := make([]error, n)
	sem := make(chan struct{}, max(1, x.par))
	var wg sync.WaitGroup
	for i := range n {
		part := &aggRun{p: x.p, ap: x.ap, rc: x.rc, rng: x.rng}
		part.init()
		parts[i] = part
		group := series[i*seriesGroup : min(len(series), (i+1)*seriesGroup)]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = part.read(group)
		}()
	}
	wg.Wait()
	for i, part := range parts {
		if errs[i] != nil {
			return errs[i]
		}
		x.absorb(part)
	}
	return nil
}

// absorb merges another run's reducers into x.
func (x *aggRun) absorb(o *aggRun) {
	if !o.any {
		return
	}
	x.saw(o.minT)
	for k, fed := range o.fed {
		if fed && (!x.fed[k] || o.fedFirst[k] < x.fedFirst[k]) {
			x.fed[k], x.fedFirst[k] = true, o.fedFirst[k]
		}
	}
	for b, ors := range o.buckets {
		rs := x.buckets[b]
		if rs == nil {
			x.buckets[b] = ors
			continue
		}
		for k, r := range ors {
			switch {
			case r == nil:
			case rs[k] == nil:
				rs[k] = r
			default:
				rs[k].(merger).merge(r)
			}
		}
	}
	for k, r := range o.whole {
		switch {
		case r == nil:
		case x.whole[k] == nil:
			x.whole[k] = r
		default:
			x.whole[k].(merger).merge(r)
		}
	}
}

// readRows is the row path: conditions and auxiliary values.
func (x *aggRun) readRows(s *seriesRef) error {
	p, ap := x.p, x.ap
	x.tagBuf = s.tags(x.tagBuf)
	tags := x.tagBuf
	cond, ok := p.cond.seriesCondition(func(k string) string { v, _ := tagValue(tags, k); return v })
	if !ok {
		return nil
	}
	rr := newSeriesRows(x.rc, s, p.cols, ap.selected, p.c.ascending)
	defer rr.close()
	ce := newCondEval()
	for {
		t, ok, err := rr.next()
		if err != nil || !ok {
			return err
		}
		vals := rr.values()
		if cond != nil && !ce.match(cond, vals) {
			continue
		}
		x.addRow(t, vals, tags)
	}
}

// addRow feeds one row to the reducers.
func (x *aggRun) addRow(t int64, vals []any, tags []models.Tag) {
	ap := x.ap
	var aux []any
	if len(ap.aux) > 0 {
		if x.auxBuf == nil {
			x.auxBuf = make([]any, len(ap.aux))
		}
		aux = x.auxBuf
		for i, a := range ap.aux {
			if a.col >= 0 {
				aux[i] = vals[a.col]
			} else if v, ok := tagValue(tags, a.tag); ok {
				aux[i] = v
			} else {
				aux[i] = nil
			}
		}
	}
	b := x.bucketOf(t)
	for k, cp := range ap.calls {
		if cp.col < 0 || vals[cp.col] == nil || (ap.clip && (t < cp.lo || t > cp.hi)) {
			continue
		}
		x.reducer(k, b).add(t, vals[cp.col], aux)
		x.saw(t)
	}
}

// readMerged feeds the rows of all the series to the reducers merged in
// time order, series by series at equal times: 1.x aggregates the rows of
// a subquery in that order (which decides how float sums round).
func (x *aggRun) readMerged(series []*seriesRef) error {
	p, ap := x.p, x.ap
	h := &rawHeap{asc: p.c.ascending, tiesAsc: true}
	defer func() {
		for _, rs := range h.items {
			rs.rr.close()
		}
	}()
	for i, s := range series {
		tags := s.tags(nil)
		cond, ok := p.cond.seriesCondition(func(k string) string { v, _ := tagValue(tags, k); return v })
		if !ok {
			continue
		}
		rs := &rawSeries{idx: i, rr: newSeriesRows(x.rc, s, p.cols, ap.selected, p.c.ascending), cond: cond, tags: tags, ce: newCondEval()}
		ok, err := rs.advance()
		if err != nil {
			rs.rr.close()
			return err
		}
		if !ok {
			rs.rr.close()
			continue
		}
		h.push(rs)
	}
	for n := 1; len(h.items) > 0; n++ {
		if n&4095 == 0 {
			if err := x.rc.check(); err != nil {
				return err
			}
		}
		rs := h.items[0]
		x.addRow(rs.t, rs.rr.values(), rs.tags)
		ok, err := rs.advance()
		if err != nil {
			return err
		}
		if ok {
			h.fix()
		} else {
			rs.rr.close()
			h.pop()
		}
	}
	return nil
}

// readColumnar is the typed path: each input column is read once and fed
// to its calls run by run, or block by block from statistics.
func (x *aggRun) readColumnar(s *seriesRef) error {
	done := make([]bool, len(x.ap.calls))
	for k, cp := range x.ap.calls {
		if done[k] || cp.col < 0 {
			continue
		}
		var calls []int
		for j := k; j < len(x.ap.calls); j++ {
			if x.ap.calls[j].col == cp.col {
				calls = append(calls, j)
				done[j] = true
			}
		}
		var err error
		switch cp.typ {
		case models.Float:
			err = readColumn[float64](x, s, cp.col, calls)
		case models.Integer:
			err = readColumn[int64](x, s, cp.col, calls)
		case models.Unsigned:
			err = readColumn[uint64](x, s, cp.col, calls)
		case models.String:
			err = readColumn[string](x, s, cp.col, calls)
		case models.Boolean:
			err = readColumn[bool](x, s, cp.col, calls)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readColumn feeds one column of one series to the calls that read it.
func readColumn[T block.Value](x *aggRun, s *seriesRef, col int, calls []int) error {
	ap := x.ap
	asc := x.p.c.ascending
	// A lone first() (last()) needs only each series' earliest (latest)
	// point: read in that direction and stop after one batch.
	stopEarly := ap.w == nil && !ap.clip
	for _, k := range calls {
		if ap.calls[k].fn != ap.calls[calls[0]].fn {
			stopEarly = false
		}
	}
	switch fn := ap.calls[calls[0]].fn; {
	case stopEarly && fn == "first":
		asc = true
	case stopEarly && fn == "last":
		asc = false
	default:
		stopEarly = false
	}
	wantStats := !x.p.noPushdown && !ap.clip
	for _, k := range calls {
		wantStats = wantStats && ap.calls[k].stats
	}
	straddled, statBlocks := 0, 0
	cc := newColCursor[T](x.rc, s, x.p.cols[col], x.rc.tmin, x.rc.tmax, asc)
	defer cc.close()
	for {
		b, err := cc.nextBatch(wantStats)
		if err != nil {
			return err
		}
		if b.Stats != nil {
			statBlocks++
			if x.bucketOf(b.MinTime) == x.bucketOf(b.MaxTime) {
				bk := x.bucketOf(b.MinTime)
				for _, k := range calls {
					x.reducer(k, bk).(statsReducer).addStats(b.Stats, b.MinTime, b.MaxTime)
				}
				x.saw(b.MinTime)
				continue
			}
			// The block spans buckets: decode it after all.
			straddled++
			// Such a block costs a second cursor (whose index lookup
			// costs more than the decode) and a decode: once more than
			// a third of the blocks span buckets, decoding everything is
			// cheaper. (A storage cursor that could decode the block it
			// just summarised would remove this cost.)
			if straddled*3 > statBlocks && statBlocks >= 8 {
				wantStats = false
			}
			if err := x.reread(cc, s, col, calls, b.MinTime, b.MaxTime); err != nil {
				return err
			}
			continue
		}
		if b.Len() == 0 {
			return nil
		}
		x.addRuns(calls, b.Times, b.Values)
		if stopEarly {
			return nil
		}
	}
}

// reread decodes one block that came back as statistics but spans buckets.
func (x *aggRun) reread(cc any, s *seriesRef, col int, calls []int, minT, maxT int64) error {
	var sd *shardData
	switch c := cc.(type) {
	case *colCursor[float64]:
		sd = c.shard()
	case *colCursor[int64]:
		sd = c.shard()
	case *colCursor[uint64]:
		sd = c.shard()
	case *colCursor[string]:
		sd = c.shard()
	case *colCursor[bool]:
		sd = c.shard()
	}
	if sd == nil {
		return nil
	}
	switch x.ap.calls[calls[0]].typ {
	case models.Float:
		return rereadOf[float64](x, sd, s, col, calls, minT, maxT)
	case models.Integer:
		return rereadOf[int64](x, sd, s, col, calls, minT, maxT)
	case models.Unsigned:
		return rereadOf[uint64](x, sd, s, col, calls, minT, maxT)
	case models.String:
		return rereadOf[string](x, sd, s, col, calls, minT, maxT)
	case models.Boolean:
		return rereadOf[bool](x, sd, s, col, calls, minT, maxT)
	}
	return nil
}

func rereadOf[T block.Value](x *aggRun, sd *shardData, s *seriesRef, col int, calls []int, minT, maxT int64) error {
	c := x.p.cols[col]
	cur, _ := openTyped[T](sd.sh, s.key, s.id, c.name, sd.fields[c.name], minT, maxT, true)
	if cur == nil {
		return nil
	}
	defer cur.Close()
	x.rc.stats.cursor(s.src.name, sd.sh.ID(), s.id)
	for {
		b, err := cur.Next(false)
		if err != nil || b.Len() == 0 {
			return err
		}
		x.rc.stats.batch(s.src.name, sd.sh.ID(), c.typ, false, b.Len())
		x.addRuns(calls, b.Times, b.Values)
	}
}

// addRuns splits a batch (sorted either way) into runs of one bucket each.
func (x *aggRun) addRuns(calls []int, times []int64, vals any) {
	n := len(times)
	if n == 0 {
		return
	}
	asc := n == 1 || times[0] < times[n-1]
	for i := 0; i < n; {
		b := x.bucketOf(times[i])
		j := n
		if x.ap.w != nil {
			if asc {
				end := x.ap.w.next(b)
				j = i + searchGE(times[i:], end)
			} else {
				j = i + searchLT(times[i:], b)
			}
		}
		if !x.ap.clip {
			for _, k := range calls {
				addRun(x.reducer(k, b), times[i:j], vals, i, j)
			}
			x.saw(min(times[i], times[j-1]))
		} else {
			for _, k := range calls {
				// Only the points in the call's range.
				cp := x.ap.calls[k]
				i2, j2 := clipRun(times, i, j, cp.lo, cp.hi, asc)
				if i2 < j2 {
					addRun(x.reducer(k, b), times[i2:j2], vals, i2, j2)
					x.saw(min(times[i2], times[j2-1]))
				}
			}
		}
		i = j
	}
}

// clipRun narrows times[i:j] (sorted either way) to the times in [lo, hi].
func clipRun(times []int64, i, j int, lo, hi int64, asc bool) (int, int) {
	for i < j && !inRange(times[i], lo, hi) {
		if asc && times[i] > hi || !asc && times[i] < lo {
			return i, i
		}
		i++
	}
	for j > i && !inRange(times[j-1], lo, hi) {
		j--
	}
	return i, j
}

func inRange(t, lo, hi int64) bool { return t >= lo && t <= hi }

// addRun gives vals[i:j] (a typed slice) to an array reducer.
func addRun(r reducer, times []int64, vals any, i, j int) {
	switch v := vals.(type) {
	case []float64:
		r.(arrayReducer[float64]).addArray(times, v[i:j])
	case []int64:
		r.(arrayReducer[int64]).addArray(times, v[i:j])
	case []uint64:
		r.(arrayReducer[uint64]).addArray(times, v[i:j])
	case []string:
		r.(arrayReducer[string]).addArray(times, v[i:j])
	case []bool:
		r.(arrayReducer[bool]).addArray(times, v[i:j])
	}
}

// searchGE returns the index of the first time >= t in ascending times.
func searchGE(times []int64, t int64) int {
	i, _ := slices.BinarySearch(times, t)
	return i
}

// searchLT returns the index of the first time < t in descending times.
func searchLT(times []int64, t int64) int {
	lo, hi := 0, len(times)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if times[m] >= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
