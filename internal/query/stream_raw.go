package query

// rawStream is the output stream of a transformation of a raw field: the
// field's points of every series of the output series that pass the
// condition, merged in query order (as 1.x merges the series of a tag set
// for a transformation), then transformed.
type rawStream struct {
	x   *aggRun
	op  *outPlan
	ts  *tagSet
	h   rawHeap
	tfs []transformer

	lo, hi int64       // the times the transformation reads
	one    [1]aggPoint // the point being fed, without an allocation per point
	opened bool
	ended  bool
	buf    []aggPoint
	pos    int
	err    error
}

func (x *aggRun) newRawStream(op *outPlan, ts *tagSet) ptStream {
	if op.col < 0 {
		return emptyStream{}
	}
	c := x.p.c
	s := &rawStream{x: x, op: op, ts: ts, h: rawHeap{asc: c.ascending, tiesAsc: x.p.virtual()}, lo: c.tmin, hi: c.tmax}
	s.tfs = newTransformers(op.tfs, x.rc)
	return s
}

// open starts reading every series of the output series.
func (s *rawStream) open() error {
	s.opened = true
	p := s.x.p
	selected := make([]bool, len(p.cols))
	selected[s.op.col] = true
	for i, ser := range s.ts.series {
		tags := ser.tags(nil)
		cond, ok := p.cond.seriesCondition(func(k string) string { v, _ := tagValue(tags, k); return v })
		if !ok {
			continue
		}
		rs := &rawSeries{idx: i, rr: newSeriesRows(s.x.rc, ser, p.cols, selected, p.c.ascending), cond: cond, tags: tags, ce: newCondEval()}
		ok, err := rs.advance()
		if err != nil {
			rs.rr.close()
			return err
		}
		if !ok {
			rs.rr.close()
			continue
		}
		s.h.push(rs)
	}
	return nil
}

func (s *rawStream) head() (aggPoint, bool, error) {
	if !s.opened {
		if err := s.open(); err != nil {
			s.err = err
		}
	}
	for s.pos >= len(s.buf) {
		if s.err != nil {
			return aggPoint{}, false, s.err
		}
		if s.ended {
			return aggPoint{}, false, nil
		}
		s.buf, s.pos = s.buf[:0], 0
		if err := s.step(); err != nil {
			s.err = err
		}
	}
	return s.buf[s.pos], true, nil
}

func (s *rawStream) advance() { s.pos++ }

// step feeds the next raw point to the transformations.
func (s *rawStream) step() error {
	for len(s.h.items) > 0 {
		rs := s.h.items[0]
		t, v := rs.t, rs.rr.values()[s.op.col]
		ok, err := rs.advance()
		if err != nil {
			return err
		}
		if ok {
			s.h.fix()
		} else {
			rs.rr.close()
			s.h.pop()
		}
		if t < s.lo || t > s.hi || v == nil {
			continue
		}
		s.one[0] = aggPoint{t: t, v: v}
		s.buf = feedChain(s.tfs, s.buf, s.one[:])
		return nil
	}
	s.ended = true
	s.buf = flushChain(s.tfs, s.buf)
	return nil
}

func (s *rawStream) close() {
	for _, rs := range s.h.items {
		rs.rr.close()
	}
	s.h.items = nil
}
