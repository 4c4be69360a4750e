package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"

	"github.com/stratadb/strata/internal/models"
)

// measurement is one measurement of the inverted index.
type measurement struct {
	idx     uint32
	name    []byte          // immutable
	escName []byte          // name as a series key holds it; immutable
	keys    segVec[*tagKey] // kIdx → tag key; read without locks by keyEqual

	mu     sync.RWMutex // guards the fields below; writers also hold Index.commitMu
	series *roaring.Bitmap
	keyIdx map[string]uint32
}

// tagKey is one tag key of a measurement: its values and their postings.
// A value keeps its index for ever; when its last series is dropped it
// becomes dead (no postings) and is hidden from every answer, and a later
// series with the same value revives it.
type tagKey struct {
	name    []byte         // immutable
	escName []byte         // name as a series key holds it; immutable
	vals    segVec[uint32] // vIdx → offset of the value in Index.strs; read without locks

	// Guarded by measurement.mu.
	series *roaring.Bitmap // every series that has this key
	// post holds the only series of a value with one series, the common
	// case for high-cardinality tags (hostname, container id), in 4 bytes
	// instead of a bitmap; 0 means "see multi".
	post  []uint32
	multi map[uint32]*roaring.Bitmap // vIdx → series, for values with more than one
	table valueTable
	live  int // values with at least one series

	sortMu sync.Mutex // guards sorted; readers extend it under measurement.mu (read)
	// sorted lists the values [0, len(sorted)) in bytewise order. Values
	// added later are sorted and merged in on the next ordered read; the
	// slice is replaced, never changed in place, so readers may keep it.
	sorted []uint32
}

func newMeasurement(idx uint32, name []byte) *measurement {
	return &measurement{idx: idx, name: name, escName: models.AppendMeasurement(nil, name),
		series: roaring.New(), keyIdx: map[string]uint32{}}
}

func newTagKey(name []byte) *tagKey {
	return &tagKey{name: name, escName: models.AppendTagPart(nil, name), series: roaring.New()}
}

// alive reports whether value v has at least one series; mu held.
func (tk *tagKey) alive(v uint32) bool {
	if tk.post[v] != 0 {
		return true
	}
	return tk.multi[v] != nil
}

// addPosting adds id to value v and reports whether v was dead.
func (tk *tagKey) addPosting(v, id uint32) bool {
	if p := tk.post[v]; p != 0 {
		if p == id {
			return false
		}
		tk.post[v] = 0
		if tk.multi == nil {
			tk.multi = map[uint32]*roaring.Bitmap{}
		}
		tk.multi[v] = roaring.BitmapOf(p, id)
		return false
	}
	if bm := tk.multi[v]; bm != nil {
		bm.Add(id)
		return false
	}
	tk.post[v] = id
	tk.live++
	return true
}

// removePosting removes id from value v and reports whether v died.
func (tk *tagKey) removePosting(v, id uint32) bool {
	if tk.post[v] == id {
		tk.post[v] = 0
		tk.live--
		return true
	}
	if bm := tk.multi[v]; bm != nil && bm.CheckedRemove(id) && bm.IsEmpty() {
		delete(tk.multi, v)
		tk.live--
		return true
	}
	return false
}

// valueHash is the hash a valueTable files a value under.
func valueHash(v []byte) uint32 { return uint32(xxhash.Sum64(v)) }

func (ix *Index) valueBytes(tk *tagKey, v uint32) []byte {
	return ix.strs.str(*tk.vals.at(uint64(v)))
}

// findValue returns the index of value v of tk; measurement.mu held.
func (ix *Index) findValue(tk *tagKey, v []byte) (uint32, bool) {
	return tk.table.find(valueHash(v), func(i uint32) bool {
		return bytes.Equal(ix.valueBytes(tk, i), v)
	})
}

// measurementByName returns the measurement called name, or nil.
func (ix *Index) measurementByName(name []byte) *measurement {
	ix.mu.RLock()
	i, ok := ix.measByName[string(name)]
	ix.mu.RUnlock()
	if !ok {
		return nil
	}
	return *ix.meas.at(uint64(i))
}

// keyByName returns the tag key called name of m, or nil; m.mu held.
func (m *measurement) keyByName(name []byte) *tagKey {
	i, ok := m.keyIdx[string(name)]
	if !ok {
		return nil
	}
	return *m.keys.at(uint64(i))
}

// applySeries adds series id to memory: the inverted index, its record and
// the series table. key is its canonical key and tags are sorted by key;
// tags with an empty value are not part of a series. The caller holds
// commitMu. On error (an arena is full) no posting has changed.
func (ix *Index) applySeries(id uint32, key, name []byte, tags []models.Tag) error {
	m := ix.measurement(name)
	rec := binary.AppendUvarint(ix.recBuf[:0], uint64(m.idx))
	n := 0
	for i := range tags {
		if len(tags[i].Value) > 0 {
			n++
		}
	}
	rec = binary.AppendUvarint(rec, uint64(n))

	m.mu.Lock()
	// Resolve (and create) keys and values first: interning a value is the
	// only step that can fail, and it must fail before any posting changes.
	pairs := ix.pairBuf[:0]
	for i := range tags {
		if len(tags[i].Value) == 0 {
			continue
		}
		kIdx, tk := ix.tagKeyLocked(m, tags[i].Key)
		vIdx, ok := ix.findValue(tk, tags[i].Value)
		if !ok {
			off, fits := ix.strs.putString(tags[i].Value)
			if !fits {
				m.mu.Unlock()
				return fmt.Errorf("intern tag value of series %d: %w", id, ErrIndexFull)
			}
			vIdx = uint32(tk.vals.push(off))
			tk.post = append(tk.post, 0)
			tk.table.insert(valueHash(tags[i].Value), vIdx, func(v uint32) uint32 {
				return valueHash(ix.valueBytes(tk, v))
			})
		}
		pairs = append(pairs, [2]uint32{kIdx, vIdx})
		rec = binary.AppendUvarint(rec, uint64(kIdx))
		rec = binary.AppendUvarint(rec, uint64(vIdx))
	}
	off, dst, ok := ix.recs.alloc(len(rec))
	if !ok {
		m.mu.Unlock()
		return fmt.Errorf("record of series %d: %w", id, ErrIndexFull)
	}
	copy(dst, rec)
	wasEmpty := m.series.IsEmpty()
	for _, p := range pairs {
		tk := *m.keys.at(uint64(p[0]))
		tk.addPosting(p[1], id)
		tk.series.Add(id)
	}
	m.series.Add(id)
	m.mu.Unlock()
	ix.recBuf, ix.pairBuf = rec, pairs

	ix.offs.slot(uint64(id)).Store(off)
	if uint64(id) > ix.maxID.Load() {
		ix.maxID.Store(uint64(id))
	}
	h := xxhash.Sum64(key)
	st := &ix.stripes[h&(numStripes-1)]
	st.mu.Lock()
	st.insertLocked(uint32(h>>32), id)
	st.mu.Unlock()
	ix.nSeries.Add(1)
	if wasEmpty {
		ix.nMeas.Add(1)
	}
	return nil
}

// measurement returns the measurement called name, creating it; the caller
// holds commitMu.
func (ix *Index) measurement(name []byte) *measurement {
	if m := ix.measurementByName(name); m != nil {
		return m
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	idx := uint32(ix.meas.length())
	m := newMeasurement(idx, bytes.Clone(name))
	ix.meas.push(m)
	ix.measByName[string(name)] = idx
	return m
}

// tagKeyLocked returns the tag key called name of m, creating it; the
// caller holds commitMu and m.mu.
func (ix *Index) tagKeyLocked(m *measurement, name []byte) (uint32, *tagKey) {
	if i, ok := m.keyIdx[string(name)]; ok {
		return i, *m.keys.at(uint64(i))
	}
	tk := newTagKey(bytes.Clone(name))
	i := uint32(m.keys.push(tk))
	m.keyIdx[string(name)] = i
	return i, tk
}

// removeSeries drops series id from memory; the caller holds commitMu. It
// reports whether the series was live.
func (ix *Index) removeSeries(id uint32) bool {
	if uint64(id) > ix.maxID.Load() {
		return false
	}
	off := ix.recordOff(uint64(id))
	if off == 0 {
		return false
	}
	key := ix.appendKey(ix.keyBuf[:0], off)
	ix.keyBuf = key
	h := xxhash.Sum64(key)
	st := &ix.stripes[h&(numStripes-1)]
	st.mu.Lock()
	st.removeLocked(uint32(h>>32), id)
	st.mu.Unlock()

	r := ix.recs.from(off)
	mIdx, r := uvar(r)
	n, r := uvar(r)
	m := *ix.meas.at(uint64(mIdx))
	m.mu.Lock()
	for ; n > 0; n-- {
		var k, v uint32
		k, r = uvar(r)
		v, r = uvar(r)
		tk := *m.keys.at(uint64(k))
		tk.removePosting(v, id)
		tk.series.Remove(id)
	}
	m.series.Remove(id)
	nowEmpty := m.series.IsEmpty()
	m.mu.Unlock()

	ix.offs.slot(uint64(id)).Store(0)
	ix.nDead++
	ix.nSeries.Add(-1)
	if nowEmpty {
		ix.nMeas.Add(-1)
	}
	return true
}

// recordOff returns the record offset of series id; 0 if it is unknown or
// dropped.
func (ix *Index) recordOff(id uint64) uint32 {
	if p := ix.offs.lookup(id); p != nil {
		return p.Load()
	}
	return 0
}

// uvar decodes a uvarint of a trusted in-memory record (validated when it
// was built or loaded).
func uvar(b []byte) (uint32, []byte) {
	v, n := binary.Uvarint(b)
	return uint32(v), b[n:]
}

// appendKey appends the canonical series key of the record at off.
func (ix *Index) appendKey(dst []byte, off uint32) []byte {
	r := ix.recs.from(off)
	mIdx, r := uvar(r)
	n, r := uvar(r)
	m := *ix.meas.at(uint64(mIdx))
	dst = append(dst, m.escName...)
	for ; n > 0; n-- {
		var k, v uint32
		k, r = uvar(r)
		v, r = uvar(r)
		tk := *m.keys.at(uint64(k))
		dst = append(dst, ',')
		dst = append(dst, tk.escName...)
		dst = append(dst, '=')
		if val, esc := ix.strs.strEsc(*tk.vals.at(uint64(v))); esc {
			dst = models.AppendTagPart(dst, val)
		} else {
			dst = append(dst, val...)
		}
	}
	return dst
}

// keyEqual reports whether series id has the canonical key key, comparing
// part by part without building the key (SeriesID must not allocate).
func (ix *Index) keyEqual(id uint32, key []byte) bool {
	off := ix.recordOff(uint64(id))
	if off == 0 {
		return false
	}
	r := ix.recs.from(off)
	mIdx, r := uvar(r)
	n, r := uvar(r)
	m := *ix.meas.at(uint64(mIdx))
	if !bytes.HasPrefix(key, m.escName) {
		return false
	}
	pos := len(m.escName)
	for ; n > 0; n-- {
		var k, v uint32
		k, r = uvar(r)
		v, r = uvar(r)
		tk := *m.keys.at(uint64(k))
		// ",key=" then the value.
		if pos >= len(key) || key[pos] != ',' || !bytes.HasPrefix(key[pos+1:], tk.escName) {
			return false
		}
		pos += 1 + len(tk.escName)
		if pos >= len(key) || key[pos] != '=' {
			return false
		}
		pos++
		val, esc := ix.strs.strEsc(*tk.vals.at(uint64(v)))
		if esc {
			if pos = eatEscaped(key, pos, val); pos < 0 {
				return false
			}
		} else {
			if !bytes.HasPrefix(key[pos:], val) {
				return false
			}
			pos += len(val)
		}
	}
	return pos == len(key)
}

// eatEscaped matches the line-protocol escaped form of tag value s (as
// models.AppendTagPart writes it) at key[pos:] and returns the position
// after it, or -1.
func eatEscaped(key []byte, pos int, s []byte) int {
	for _, c := range s {
		if c == ',' || c == ' ' || c == '=' {
			if pos >= len(key) || key[pos] != '\\' {
				return -1
			}
			pos++
		}
		if pos >= len(key) || key[pos] != c {
			return -1
		}
		pos++
	}
	return pos
}

// sortedValues returns the indexes of all values of tk (live and dead) in
// bytewise order; m.mu is held (read or write).
func (ix *Index) sortedValues(tk *tagKey) []uint32 {
	tk.sortMu.Lock()
	defer tk.sortMu.Unlock()
	n := len(tk.post)
	if len(tk.sorted) >= n {
		return tk.sorted
	}
	cmp := func(a, b uint32) int { return bytes.Compare(ix.valueBytes(tk, a), ix.valueBytes(tk, b)) }
	add := make([]uint32, 0, n-len(tk.sorted))
	for i := len(tk.sorted); i < n; i++ {
		add = append(add, uint32(i))
	}
	slices.SortFunc(add, cmp)
	old := tk.sorted
	merged := make([]uint32, 0, n)
	i, j := 0, 0
	for i < len(old) && j < len(add) {
		if cmp(old[i], add[j]) <= 0 {
			merged = append(merged, old[i])
			i++
		} else {
			merged = append(merged, add[j])
			j++
		}
	}
	merged = append(merged, old[i:]...)
	merged = append(merged, add[j:]...)
	tk.sorted = merged
	return merged
}
