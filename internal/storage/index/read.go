package index

import (
	"bytes"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// The read methods answer from memory only. Byte slices they return
// (measurement names, tag keys, tag values) point into the index and must
// not be modified; they stay valid after the series that used them are
// dropped. Bitmaps they return are new and belong to the caller.

// SeriesKey returns the canonical key of series id, or nil if the id is
// unknown or dropped. The key is built on each call (the index keeps tag
// values once, not whole keys); AppendSeriesKey reuses a buffer instead.
func (ix *Index) SeriesKey(id uint64) []byte {
	key, ok := ix.AppendSeriesKey(nil, id)
	if !ok {
		return nil
	}
	return key
}

// AppendSeriesKey appends the canonical key of series id to dst; ok is
// false (and dst unchanged) if the id is unknown or dropped.
func (ix *Index) AppendSeriesKey(dst []byte, id uint64) (_ []byte, ok bool) {
	if id == 0 || id > ix.maxID.Load() {
		return dst, false
	}
	off := ix.recordOff(id)
	if off == 0 {
		return dst, false
	}
	return ix.appendKey(dst, off), true
}

// MeasurementNames returns the names of the measurements that have series,
// sorted bytewise.
func (ix *Index) MeasurementNames() [][]byte {
	ix.mu.RLock()
	all := make([]*measurement, 0, len(ix.measByName))
	for _, i := range ix.measByName {
		all = append(all, *ix.meas.at(uint64(i)))
	}
	ix.mu.RUnlock()
	names := make([][]byte, 0, len(all))
	for _, m := range all {
		m.mu.RLock()
		if !m.series.IsEmpty() {
			names = append(names, m.name)
		}
		m.mu.RUnlock()
	}
	slices.SortFunc(names, bytes.Compare)
	return names
}

// MeasurementSeries returns a copy of the ids of the series of measurement
// name; it is empty (not nil) when there is no such measurement.
func (ix *Index) MeasurementSeries(name []byte) *roaring.Bitmap {
	m := ix.measurementByName(name)
	if m == nil {
		return roaring.New()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.series.Clone()
}

// MeasurementSeriesCount returns the number of series of measurement name
// (SHOW SERIES EXACT CARDINALITY FROM name).
func (ix *Index) MeasurementSeriesCount(name []byte) int {
	m := ix.measurementByName(name)
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return int(m.series.GetCardinality())
}

// TagKeys returns the tag keys of measurement name that some series has,
// sorted bytewise.
func (ix *Index) TagKeys(name []byte) [][]byte {
	m := ix.measurementByName(name)
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := make([][]byte, 0, len(m.keyIdx))
	for _, i := range m.keyIdx {
		if tk := *m.keys.at(uint64(i)); !tk.series.IsEmpty() {
			keys = append(keys, tk.name)
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys
}

// TagValues returns the values of tag key of measurement name that some
// series has, sorted bytewise.
func (ix *Index) TagValues(name, key []byte) [][]byte {
	m := ix.measurementByName(name)
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	tk := m.keyByName(key)
	if tk == nil || tk.live == 0 {
		return nil
	}
	out := make([][]byte, 0, tk.live)
	for _, v := range ix.sortedValues(tk) {
		if tk.alive(v) {
			out = append(out, ix.valueBytes(tk, v))
		}
	}
	return out
}

// TagValueCount returns the number of values of tag key of measurement name
// (SHOW TAG VALUES EXACT CARDINALITY).
func (ix *Index) TagValueCount(name, key []byte) int {
	m := ix.measurementByName(name)
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if tk := m.keyByName(key); tk != nil {
		return tk.live
	}
	return 0
}
