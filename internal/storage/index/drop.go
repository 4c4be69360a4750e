package index

import (
	"github.com/RoaringBitmap/roaring/v2"
)

// DropSeries removes the series ids from the index. It returns once
// tombstones for them are durable in the series file; unknown and already
// dropped ids are ignored. Ids are never reused: a series created again
// later gets a new id. A writer that looked the id up just before the drop
// may still write data under it (as in 1.x, DROP SERIES races with writes
// to the same series).
func (ix *Index) DropSeries(ids *roaring.Bitmap) error {
	if ids == nil || ids.IsEmpty() {
		return nil
	}
	ix.commitMu.Lock()
	defer ix.commitMu.Unlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	maxID := ix.maxID.Load()
	var live []uint32
	it := ids.Iterator()
	for it.HasNext() {
		id := it.Next()
		if uint64(id) > maxID {
			break
		}
		if id != 0 && ix.recordOff(uint64(id)) != 0 {
			live = append(live, id)
		}
	}
	if len(live) == 0 {
		return nil
	}
	if err := ix.appendLocked(appendTombstoneRecords(nil, live)); err != nil {
		return err
	}
	// createMu keeps the counts behind the limits consistent for creators.
	ix.createMu.Lock()
	for _, id := range live {
		ix.removeSeries(id)
	}
	ix.createMu.Unlock()
	ix.maybeSnapshotLocked()
	return nil
}

// DropMeasurement drops every series of measurement name; the measurement
// then disappears from MeasurementNames.
func (ix *Index) DropMeasurement(name []byte) error {
	return ix.DropSeries(ix.MeasurementSeries(name))
}
