package query

// Merging reducers: an aggregate output series whose series are read by
// several goroutines gets one set of reducers per group of series, merged
// in series order afterwards. Every reducer but sample's merges exactly:
// the merged state is the state the reducer would have after seeing the
// other's points after its own.

// merger is implemented by the reducers that can absorb another of their
// kind.
type merger interface {
	merge(other reducer)
}

func (r *countR[T]) merge(o reducer) { r.n += o.(*countR[T]).n }

func (r *sumR[T]) merge(o reducer) { r.s += o.(*sumR[T]).s }

func (r *meanR[T]) merge(o reducer) {
	m := o.(*meanR[T])
	r.sum += m.sum
	r.n += m.n
}

func (r *minMaxR[T]) merge(o reducer) {
	m := o.(*minMaxR[T])
	if m.set && r.better(m.v, m.t) {
		r.set, r.v, r.t, r.aux = true, m.v, m.t, m.aux
	}
}

func (r *minMaxBoolR) merge(o reducer) {
	if m := o.(*minMaxBoolR); m.set && r.better(m.v, m.t) {
		r.set, r.v, r.t, r.aux = true, m.v, m.t, m.aux
	}
}

func (r *firstLastR[T]) merge(o reducer) {
	m := o.(*firstLastR[T])
	if m.set && r.better(m.v, m.t) {
		r.set, r.v, r.t, r.aux = true, m.v, m.t, m.aux
	}
}

func (r *spreadR[T]) merge(o reducer) {
	if m := o.(*spreadR[T]); m.set {
		r.take(m.lo, m.hi)
	}
}

func (r *stddevR[T]) merge(o reducer) { r.pts = append(r.pts, o.(*stddevR[T]).pts...) }

func (r *medianR[T]) merge(o reducer) { r.vals = append(r.vals, o.(*medianR[T]).vals...) }

func (r *modeR[T]) merge(o reducer) { r.pts = append(r.pts, o.(*modeR[T]).pts...) }

func (r *percentileR[T]) merge(o reducer) { r.pts = append(r.pts, o.(*percentileR[T]).pts...) }

func (r *distinctR[T]) merge(o reducer) {
	for v, t := range o.(*distinctR[T]).first {
		r.put(t, v)
	}
}

func (r *countDistinctR[T]) merge(o reducer) {
	for v := range o.(*countDistinctR[T]).seen {
		r.put(v)
	}
}

func (r *topR[T]) merge(o reducer) {
	m := o.(*topR[T])
	for _, p := range m.heap {
		r.put(p)
	}
	for _, p := range m.groups {
		r.put(p)
	}
}

func (r *integralR[T]) merge(o reducer) { r.pts = append(r.pts, o.(*integralR[T]).pts...) }
