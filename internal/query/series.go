package query

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
)

// seriesRef is one series a query reads.
type seriesRef struct {
	src  *source
	id   uint64
	key  []byte     // canonical series key (in the query's key arena)
	rows *memSeries // a subquery's output series; nil for stored series
}

// tags parses the series' tags; dst is reused.
func (s *seriesRef) tags(dst []models.Tag) []models.Tag {
	_, tags, err := models.ParseSeriesKey(s.key, dst[:0])
	if err != nil {
		return dst[:0]
	}
	return tags
}

// tagValue returns the value of tag key, and whether the series has it.
func tagValue(tags []models.Tag, key string) (string, bool) {
	for i := range tags {
		if string(tags[i].Key) == key {
			return string(tags[i].Value), true
		}
	}
	return "", false
}

// tagSet is one output series: a measurement and the values of the GROUP BY
// tags, with the series that make it up.
type tagSet struct {
	name   string
	key    string            // dimension values joined by NUL: the output order
	lkey   string            // dimension values joined by '|': the SLIMIT order
	tags   map[string]string // GROUP BY tags (nil without GROUP BY)
	series []*seriesRef      // sorted by key
}

// keyArena stores series keys in large blocks, so that a query with a
// million series makes a few allocations instead of a million.
type keyArena struct {
	cur []byte
}

func (a *keyArena) add(appendKey func([]byte) ([]byte, bool)) ([]byte, bool) {
	const blockSize = 64 << 10
	if cap(a.cur)-len(a.cur) < 1024 {
		a.cur = make([]byte, 0, blockSize)
	}
	start := len(a.cur)
	out, ok := appendKey(a.cur)
	if !ok {
		return nil, false
	}
	if cap(out) != cap(a.cur) {
		// A long key did not fit and append copied the block: the copy
		// holds the key, the block stays as it was.
		return out[start:len(out):len(out)], true
	}
	a.cur = out
	return a.cur[start:len(a.cur):len(a.cur)], true
}

// resolveSeries finds the series of every source that match the tag
// condition, groups them into tag sets and sorts everything into output
// order. The tag sets of one measurement name are contiguous.
func (e *Engine) resolveSeries(ctx context.Context, p *plan) ([]*tagSet, error) {
	var (
		arena  keyArena
		tagBuf []models.Tag
		total  int
		out    []*tagSet
	)
	for i := 0; i < len(p.sources); {
		// Sources sharing a name (from several databases or policies) make
		// up one measurement of the output.
		j := i
		for j < len(p.sources) && p.sources[j].name == p.sources[i].name {
			j++
		}
		byKey := map[string]*tagSet{}
		// add puts a series into its tag set; false when it is filtered
		// out.
		add := func(s *seriesRef) error {
			tagBuf = s.tags(tagBuf)
			if p.cond.mixed != nil {
				if _, ok := p.cond.seriesCondition(func(k string) string { v, _ := tagValue(tagBuf, k); return v }); !ok {
					return nil
				}
			}
			total++
			if max := e.opts.MaxSelectSeriesN; max > 0 && total > max {
				return &LimitError{Kind: ErrMaxSelectSeriesLimit, N: total, Limit: max}
			}
			gk := groupKey(tagBuf, p.dims)
			ts := byKey[gk]
			if ts == nil {
				ldims := p.dims
				if p.slimitDims != nil {
					ldims = p.slimitDims
				}
				ts = &tagSet{name: s.src.name, key: gk, lkey: limitKey(tagBuf, ldims)}
				if len(p.dims) > 0 {
					ts.tags = make(map[string]string, len(p.dims))
					for _, d := range p.dims {
						v, _ := tagValue(tagBuf, d)
						ts.tags[d] = v
					}
				}
				byKey[gk] = ts
			}
			ts.series = append(ts.series, s)
			return nil
		}
		for _, src := range p.sources[i:j] {
			if p.tagExpr.none {
				continue
			}
			if src.virtual != nil {
				for _, s := range src.mem {
					if err := add(s); err != nil {
						return nil, err
					}
				}
				continue
			}
			all := roaring.New()
			for _, sd := range src.shards {
				if err := ctx.Err(); err != nil {
					return nil, context.Cause(ctx)
				}
				ids, err := sd.sh.MatchSeries([]byte(src.name), p.tagExpr.expr)
				if err != nil {
					return nil, err
				}
				sd.series = ids
				all.Or(ids)
			}
			it := all.Iterator()
			n := 0
			for it.HasNext() {
				id := uint64(it.Next())
				if n++; n&1023 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, context.Cause(ctx)
					}
				}
				key, ok := arena.add(func(dst []byte) ([]byte, bool) { return src.index.AppendSeriesKey(dst, id) })
				if !ok {
					continue // dropped meanwhile
				}
				if err := add(&seriesRef{src: src, id: id, key: key}); err != nil {
					return nil, err
				}
			}
		}
		sets := make([]*tagSet, 0, len(byKey))
		for _, ts := range byKey {
			slices.SortStableFunc(ts.series, func(a, b *seriesRef) int { return bytes.Compare(a.key, b.key) })
			sets = append(sets, ts)
		}
		if p.slimit > 0 || p.soffset > 0 {
			// SLIMIT and SOFFSET count tag sets in the order of 1.x's index,
			// which joins the values with '|' (so an empty value sorts
			// after those that start with a letter), whatever the ORDER BY.
			slices.SortFunc(sets, func(a, b *tagSet) int { return strings.Compare(a.lkey, b.lkey) })
			if p.slimitDims != nil {
				sets = limitGroups(sets, p.slimit, p.soffset)
			} else {
				sets = limitSets(sets, p.slimit, p.soffset)
			}
		}
		slices.SortFunc(sets, func(a, b *tagSet) int { return strings.Compare(a.key, b.key) })
		if !p.c.ascending {
			slices.Reverse(sets)
		}
		out = append(out, sets...)
		i = j
	}
	if !p.c.ascending {
		// Measurements come in descending name order too, as in 1.x.
		out = reverseByName(out)
	}
	return out, nil
}

// groupKey joins the values of the dimensions (sorted) with NUL bytes.
func groupKey(tags []models.Tag, dims []string) string {
	if len(dims) == 0 {
		return ""
	}
	var b strings.Builder
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(0)
		}
		v, _ := tagValue(tags, d)
		b.WriteString(v)
	}
	return b.String()
}

// limitKey joins the values of the dimensions (sorted) with '|'.
func limitKey(tags []models.Tag, dims []string) string {
	var b strings.Builder
	for i, d := range dims {
		if i > 0 {
			b.WriteByte('|')
		}
		v, _ := tagValue(tags, d)
		b.WriteString(v)
	}
	return b.String()
}

// limitSets applies SLIMIT and SOFFSET to one measurement's tag sets.
func limitSets(sets []*tagSet, limit, offset int) []*tagSet {
	if offset > 0 {
		if offset >= len(sets) {
			return nil
		}
		sets = sets[offset:]
	}
	if limit > 0 && limit < len(sets) {
		sets = sets[:limit]
	}
	return sets
}

// limitGroups applies SLIMIT and SOFFSET to groups of tag sets that share
// their SLIMIT key (a subquery's tag sets, grouped by the outer GROUP BY
// tags). sets are sorted by that key.
func limitGroups(sets []*tagSet, limit, offset int) []*tagSet {
	var out []*tagSet
	group := -1
	for i, ts := range sets {
		if i == 0 || ts.lkey != sets[i-1].lkey {
			group++
		}
		if group >= offset && (limit <= 0 || group < offset+limit) {
			out = append(out, ts)
		}
	}
	return out
}

// reverseByName reverses the order of the measurements while keeping each
// measurement's tag sets in their order.
func reverseByName(sets []*tagSet) []*tagSet {
	out := make([]*tagSet, 0, len(sets))
	for end := len(sets); end > 0; {
		start := end - 1
		for start > 0 && sets[start-1].name == sets[end-1].name {
			start--
		}
		out = append(out, sets[start:end]...)
		end = start
	}
	return out
}
