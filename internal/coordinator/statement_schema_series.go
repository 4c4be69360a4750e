package coordinator

import (
	"cmp"
	"container/heap"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/query"
	"github.com/stratadb/strata/internal/storage/index"
)

// SHOW SERIES lists series keys in 1.x's order: by measurement name, then
// by tag pairs compared one by one (key, then value, as raw bytes), a
// series whose pairs are a prefix of another's first. That is not the
// byte order of the escaped keys ("cpu,host=a\ b" comes before
// "cpu,host=a!b", and every "cpu" series before "cpu!").
//
// With LIMIT the first series are found without building every key: the
// index answers "which series have key k" and "which have k = v" as
// bitmaps, and its values are sorted, so the lister descends pair by pair
// (first the series without further tags, then those whose next key is the
// smallest, value by value) and only sorts keys once a group is small.

// bruteForceSeries is the group size under which the lister builds and
// sorts the keys instead of descending further.
const bruteForceSeries = 1024

// seriesLister orders the series of one measurement.
type seriesLister struct {
	idx  *index.Index
	name []byte
	keys [][]byte          // the measurement's tag keys, sorted
	has  []*roaring.Bitmap // has[i]: the series having keys[i]; built lazily
}

func newSeriesLister(idx *index.Index, name []byte) *seriesLister {
	keys := idx.TagKeys(name)
	return &seriesLister{idx: idx, name: name, keys: keys, has: make([]*roaring.Bitmap, len(keys))}
}

func (l *seriesLister) having(i int) (*roaring.Bitmap, error) {
	if l.has[i] == nil {
		bm, err := l.idx.Match(l.name, index.NewLeaf(l.keys[i], index.NotEqual, nil, nil))
		if err != nil {
			return nil, err
		}
		l.has[i] = bm
	}
	return l.has[i], nil
}

// compareSeriesKeys compares two canonical (escaped) series keys in 1.x's
// order, unescaping as it goes: measurement, then tag key and value pair
// by pair, fewer pairs first. It allocates nothing.
func compareSeriesKeys(a, b []byte) int {
	i, j := 0, 0
	if c := comparePart(a, &i, b, &j, ',', &measurementEscapes); c != 0 {
		return c
	}
	for {
		if i >= len(a) || j >= len(b) {
			return cmp.Compare(len(a)-i, len(b)-j) // fewer pairs first
		}
		i, j = i+1, j+1 // the commas
		if c := comparePart(a, &i, b, &j, '=', &tagEscapes); c != 0 {
			return c
		}
		i, j = i+1, j+1 // the equals signs
		if c := comparePart(a, &i, b, &j, ',', &tagEscapes); c != 0 {
			return c
		}
	}
}

// The escape sets of series keys (models' are unexported).
var (
	measurementEscapes = [256]bool{',': true, ' ': true}
	tagEscapes         = [256]bool{',': true, '=': true, ' ': true}
)

// comparePart compares the unescaped parts of a from *i and b from *j,
// each ending at an unescaped delim or the end of its key; when they are
// equal, *i and *j are left on the delimiters.
func comparePart(a []byte, i *int, b []byte, j *int, delim byte, esc *[256]bool) int {
	for {
		ca, okA := nextKeyByte(a, i, delim, esc)
		cb, okB := nextKeyByte(b, j, delim, esc)
		switch {
		case !okA && !okB:
			return 0
		case !okA:
			return -1
		case !okB:
			return 1
		case ca != cb:
			return cmp.Compare(ca, cb)
		}
	}
}

// nextKeyByte returns the next unescaped byte of the part at *i, or false
// at its end.
func nextKeyByte(b []byte, i *int, delim byte, esc *[256]bool) (byte, bool) {
	if *i >= len(b) || b[*i] == delim {
		return 0, false
	}
	if b[*i] == '\\' && *i+1 < len(b) && esc[b[*i+1]] {
		*i += 2
		return b[*i-1], true
	}
	*i++
	return b[*i-1], true
}

// sorted returns the keys of the series of set in order, the first n of
// them (all when n < 0). The keys share one buffer; for a small n only the
// n smallest are kept (a bounded heap), instead of sorting them all.
func (l *seriesLister) sorted(set *roaring.Bitmap, n int) ([][]byte, error) {
	card := int(set.GetCardinality())
	// Size the buffer from the first key: the keys of one measurement are
	// of similar length, and growing a buffer of megabytes is costly.
	first, _ := l.idx.AppendSeriesKey(nil, uint64(set.Minimum()))
	buf := make([]byte, 0, card*(len(first)+len(first)/4+8))
	offs := make([]int, 0, card+1)
	it := set.Iterator()
	for it.HasNext() {
		start := len(buf)
		var ok bool
		if buf, ok = l.idx.AppendSeriesKey(buf, uint64(it.Next())); ok {
			offs = append(offs, start)
		}
	}
	offs = append(offs, len(buf))
	m := len(offs) - 1
	key := func(k int) []byte { return buf[offs[k]:offs[k+1]:offs[k+1]] }
	less := func(x, y int) int { return compareSeriesKeys(key(x), key(y)) }
	var order []int
	if n < 0 || n*4 >= m {
		order = make([]int, m)
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, less)
		if n >= 0 && n < m {
			order = order[:n]
		}
	} else {
		h := &keyHeap{less: less}
		for k := range m {
			if h.Len() < n {
				heap.Push(h, k)
			} else if less(k, h.ids[0]) < 0 {
				h.ids[0] = k
				heap.Fix(h, 0)
			}
		}
		order = h.ids
		slices.SortFunc(order, less)
	}
	out := make([][]byte, len(order))
	for k, o := range order {
		out[k] = key(o)
	}
	return out, nil
}

// keyHeap is a max-heap of key indexes: its root is the largest kept.
type keyHeap struct {
	ids  []int
	less func(x, y int) int
}

func (h *keyHeap) Len() int           { return len(h.ids) }
func (h *keyHeap) Less(i, j int) bool { return h.less(h.ids[i], h.ids[j]) > 0 }
func (h *keyHeap) Swap(i, j int)      { h.ids[i], h.ids[j] = h.ids[j], h.ids[i] }
func (h *keyHeap) Push(x any)         { h.ids = append(h.ids, x.(int)) }
func (h *keyHeap) Pop() any {
	x := h.ids[len(h.ids)-1]
	h.ids = h.ids[:len(h.ids)-1]
	return x
}

// first appends to out the keys of the first n series of set (all when
// n < 0), in order. Every series of set has the same tag pairs for the
// keys before keys[from], and no other key before it.
func (l *seriesLister) first(set *roaring.Bitmap, from, n int, out [][]byte) ([][]byte, int, error) {
	if n == 0 || set.IsEmpty() {
		return out, n, nil
	}
	if n < 0 || set.GetCardinality() <= bruteForceSeries {
		keys, err := l.sorted(set, n)
		if err != nil {
			return nil, 0, err
		}
		return append(out, keys...), takeN(n, len(keys)), nil
	}
	// First the series with no key from keys[from] on (at most one: two
	// series cannot have the same tags), then those whose next key is
	// keys[from], keys[from+1], ...
	rest := set.Clone()
	for j := from; j < len(l.keys); j++ {
		h, err := l.having(j)
		if err != nil {
			return nil, 0, err
		}
		rest.AndNot(h)
	}
	var err error
	if !rest.IsEmpty() {
		if out, n, err = l.first(rest, len(l.keys), n, out); err != nil {
			return nil, 0, err
		}
	}
	remaining := roaring.AndNot(set, rest)
	for j := from; j < len(l.keys) && n != 0 && !remaining.IsEmpty(); j++ {
		h, err := l.having(j)
		if err != nil {
			return nil, 0, err
		}
		group := roaring.And(remaining, h)
		remaining.AndNot(group)
		if group.IsEmpty() {
			continue
		}
		size := group.GetCardinality()
		if size <= bruteForceSeries || uint64(l.idx.TagValueCount(l.name, l.keys[j])) > 8*size {
			// Few series, or many more values than series: sorting the
			// group's keys is cheaper than walking the values.
			keys, err := l.sorted(group, n)
			if err != nil {
				return nil, 0, err
			}
			out, n = append(out, keys...), takeN(n, len(keys))
			continue
		}
		for _, v := range l.idx.TagValues(l.name, l.keys[j]) {
			sub, err := l.idx.Match(l.name, index.NewLeaf(l.keys[j], index.Equal, v, nil))
			if err != nil {
				return nil, 0, err
			}
			sub.And(group)
			if sub.IsEmpty() {
				continue
			}
			group.AndNot(sub)
			if out, n, err = l.first(sub, j+1, n, out); err != nil {
				return nil, 0, err
			}
			if n == 0 || group.IsEmpty() {
				break
			}
		}
	}
	return out, n, nil
}

// takeN is what is left of a budget of n (< 0: unlimited) after got.
func takeN(n, got int) int {
	if n < 0 {
		return n
	}
	return max(n-got, 0)
}

// showSeries answers SHOW SERIES: one row without a name, column key.
// Without ON and a db parameter, the database may come from FROM (1.x
// rewrites the statement into a SELECT, whose sources carry it).
func (e *StatementExecutor) showSeries(s *influxql.ShowSeriesStatement, opts query.ExecutionOptions) ([]*query.Row, error) {
	db := s.Database
	if db == "" {
		db = opts.Database
	}
	for _, src := range s.Sources {
		if m, ok := src.(*influxql.Measurement); ok && m.Database != "" {
			if db == "" {
				db = m.Database
			}
			if e.Meta.Data().Database(m.Database) == nil {
				return nil, &meta.DatabaseNotFoundError{Name: m.Database}
			}
		}
	}
	if db == "" {
		return nil, ErrDatabaseNameRequired
	}
	if e.Meta.Data().Database(db) == nil {
		return nil, &meta.DatabaseNotFoundError{Name: db}
	}
	sc, err := e.openScope(db, s.Condition)
	if err != nil {
		return nil, err
	}
	want := -1
	if s.Limit > 0 {
		want = s.Offset + s.Limit
	}
	var keys [][]byte
	for _, name := range sc.measurementNames(s.Sources) {
		if want == 0 {
			break
		}
		set, _, err := sc.series(name)
		if err != nil {
			return nil, err
		}
		if keys, want, err = newSeriesLister(sc.idx, name).first(set, 0, want, keys); err != nil {
			return nil, err
		}
	}
	keys = limitSlice(keys, s.Offset, 0)
	if len(keys) == 0 {
		return nil, nil
	}
	row := &query.Row{Columns: []string{"key"}, Values: make([][]any, len(keys))}
	for i, k := range keys {
		row.Values[i] = []any{string(k)}
	}
	return []*query.Row{row}, nil
}
