package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/stratadb/strata/internal/models"
)

// SeriesSpec is one series to create. Key is its canonical key
// (models.AppendSeriesKey of Measurement and Tags); when Measurement is nil
// they are parsed from Key. CreateSeries fills ID, or sets Err and leaves ID
// 0 for a series it refused.
type SeriesSpec struct {
	Key         []byte
	Measurement []byte
	Tags        []models.Tag // sorted by key; empty values are not part of the series
	ID          uint64
	Err         error
}

// batch is a group of new series written with one append and one fsync
// (group commit): while one goroutine writes and syncs a batch, the series
// of other callers gather in the next.
type batch struct {
	buf   []byte // series-file records
	items []batchItem
	vals  []pendingValue // tag values the batch adds (with max-values-per-tag)
	maxID uint64
	done  chan struct{}
	err   error // set before done is closed
}

type batchItem struct {
	id   uint32
	key  []byte
	name []byte
	tags []models.Tag
}

type pendingSeries struct {
	id uint32
	b  *batch
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

type specWait struct {
	i int
	b *batch
}

// CreateSeries resolves every spec to a series id, creating the series that
// do not exist yet, and returns when the new ones are durable in the series
// file: concurrent callers share appends and fsyncs. Concurrent calls for
// the same key get the same id. A spec over a limit, malformed, or past the
// 32-bit id space gets Err and ID 0 while the others proceed. The error
// result is for I/O failures only; the specs whose series could not be
// written then have ID 0 and Err set to it.
func (ix *Index) CreateSeries(specs []SeriesSpec) error {
	missing := false
	for i := range specs {
		s := &specs[i]
		s.Err = nil
		s.ID = ix.SeriesID(s.Key)
		missing = missing || s.ID == 0
	}
	if !missing {
		return nil
	}

	var waits []specWait
	ix.createMu.Lock()
	if ix.closed.Load() {
		ix.createMu.Unlock()
		return ErrClosed
	}
	for i := range specs {
		s := &specs[i]
		if s.ID != 0 {
			continue
		}
		if id := ix.SeriesID(s.Key); id != 0 { // applied since the first look
			s.ID = id
			continue
		}
		if p, ok := ix.pending[string(s.Key)]; ok {
			s.ID = uint64(p.id)
			waits = append(waits, specWait{i, p.b})
			continue
		}
		id, err := ix.prepareLocked(s)
		if err != nil {
			s.Err = err
			continue
		}
		s.ID = uint64(id)
		waits = append(waits, specWait{i, ix.cur})
	}
	ix.createMu.Unlock()

	var first error
	for _, w := range waits {
		if err := ix.commit(w.b); err != nil {
			specs[w.i].ID, specs[w.i].Err = 0, err
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// prepareLocked validates s, checks the limits, allocates its id and adds
// it to the current batch; createMu is held.
func (ix *Index) prepareLocked(s *SeriesSpec) (uint32, error) {
	name, tags := s.Measurement, s.Tags
	if name == nil {
		var err error
		if name, tags, err = models.ParseSeriesKey(s.Key, nil); err != nil {
			return 0, fmt.Errorf("%w: %q: %w", ErrBadSeriesKey, s.Key, err)
		}
	}
	if err := ix.validateLocked(s.Key, name, tags); err != nil {
		return 0, err
	}
	if lim := ix.opts.MaxSeriesPerDatabase; lim > 0 && int(ix.nSeries.Load())+len(ix.pending) >= lim {
		return 0, maxSeriesError(lim)
	}
	var newVals []pendingValue
	if lim := ix.opts.MaxValuesPerTag; lim > 0 {
		var err error
		if newVals, err = ix.checkValuesLocked(name, tags, lim); err != nil {
			return 0, err
		}
	}
	if ix.nextID > 1<<32-1 {
		return 0, ErrSeriesIDsExhausted
	}
	id := uint32(ix.nextID)
	ix.nextID++

	b := ix.cur
	// One allocation holds the copies of the key, measurement and tags: the
	// caller's bytes may borrow a request buffer.
	n := len(s.Key) + len(name)
	nt := 0
	for i := range tags {
		if len(tags[i].Value) > 0 {
			n += len(tags[i].Key) + len(tags[i].Value)
			nt++
		}
	}
	data := make([]byte, 0, n)
	data = append(data, s.Key...)
	data = append(data, name...)
	it := batchItem{id: id, key: data[:len(s.Key)], name: data[len(s.Key):], tags: make([]models.Tag, 0, nt)}
	for i := range tags {
		if len(tags[i].Value) == 0 {
			continue
		}
		k := len(data)
		data = append(data, tags[i].Key...)
		v := len(data)
		data = append(data, tags[i].Value...)
		it.tags = append(it.tags, models.Tag{Key: data[k:v], Value: data[v:]})
	}
	b.items = append(b.items, it)
	b.buf = appendSeriesRecord(b.buf, uint64(id), it.name, it.tags)
	b.maxID = uint64(id)
	ix.pending[string(it.key)] = &pendingSeries{id: id, b: b}
	for _, pv := range newVals {
		ix.pendVals[pv.value] = struct{}{}
		ix.pendValN[pv.key]++
	}
	b.vals = append(b.vals, newVals...)
	return id, nil
}

// validateLocked checks that key is the canonical key of name and tags.
func (ix *Index) validateLocked(key, name []byte, tags []models.Tag) error {
	if len(name) == 0 {
		return fmt.Errorf("%w: empty measurement in %q", ErrBadSeriesKey, key)
	}
	if len(key) > models.MaxKeyLength {
		return fmt.Errorf("%w: key of %d bytes is longer than %d", ErrBadSeriesKey, len(key), models.MaxKeyLength)
	}
	var prev []byte
	for i := range tags {
		if len(tags[i].Value) == 0 {
			continue
		}
		if len(tags[i].Key) == 0 {
			return fmt.Errorf("%w: empty tag key in %q", ErrBadSeriesKey, key)
		}
		if prev != nil && bytes.Compare(prev, tags[i].Key) >= 0 {
			return fmt.Errorf("%w: tags of %q not sorted by key or repeated", ErrBadSeriesKey, key)
		}
		prev = tags[i].Key
	}
	ix.canonBuf = models.AppendSeriesKey(ix.canonBuf[:0], name, tags)
	if !bytes.Equal(ix.canonBuf, key) {
		return fmt.Errorf("%w: key %q is not the canonical %q", ErrBadSeriesKey, key, ix.canonBuf)
	}
	return nil
}

// valueKey names a tag value (or, with value nil, a tag key) of a
// measurement in the pending-value maps.
func valueKey(name, key, value []byte) string {
	b := make([]byte, 0, 2*binary.MaxVarintLen32+len(name)+len(key)+len(value))
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = append(b, value...)
	return string(b)
}

// pendingValue is a tag value a pending series adds to its measurement:
// value names it, key its measurement and tag key.
type pendingValue struct{ value, key string }

// checkValuesLocked applies max-values-per-tag the way 1.x does: a tag
// whose value is new to its measurement and key is refused when the key
// already has lim values. Values of series still waiting for their fsync
// count. It returns the new values the series would add.
func (ix *Index) checkValuesLocked(name []byte, tags []models.Tag, lim int) ([]pendingValue, error) {
	m := ix.measurementByName(name)
	var newVals []pendingValue
	for i := range tags {
		t := &tags[i]
		if len(t.Value) == 0 {
			continue
		}
		exists, n := false, 0
		if m != nil {
			m.mu.RLock()
			if tk := m.keyByName(t.Key); tk != nil {
				n = tk.live
				if v, ok := ix.findValue(tk, t.Value); ok && tk.alive(v) {
					exists = true
				}
			}
			m.mu.RUnlock()
		}
		if exists {
			continue
		}
		pv := pendingValue{value: valueKey(name, t.Key, t.Value), key: valueKey(name, t.Key, nil)}
		if _, ok := ix.pendVals[pv.value]; ok {
			continue
		}
		n += ix.pendValN[pv.key]
		if n >= lim {
			return nil, maxValuesError(n, lim, name, t.Key, t.Value)
		}
		newVals = append(newVals, pv)
	}
	return newVals, nil
}

// commit makes batch b durable and applied, or failed; it returns b's
// result. Whoever holds commitMu first when b is still open writes it,
// together with every series that joined it.
func (ix *Index) commit(b *batch) error {
	select {
	case <-b.done:
		return b.err
	default:
	}
	ix.commitMu.Lock()
	defer ix.commitMu.Unlock()
	select {
	case <-b.done:
		return b.err
	default:
	}
	ix.createMu.Lock()
	if ix.cur != b {
		ix.createMu.Unlock()
		panic("BUG: an open batch that is not the current one")
	}
	ix.cur = newBatch()
	ix.createMu.Unlock()

	err := ix.appendLocked(b.buf)
	ix.createMu.Lock()
	if err == nil {
		ix.lastFileID = max(ix.lastFileID, b.maxID)
		for i := range b.items {
			it := &b.items[i]
			if aerr := ix.applySeries(it.id, it.key, it.name, it.tags); aerr != nil {
				// The series is durable but not in memory; only a reopen
				// (with an index that fits) can bring them together.
				ix.broken = fmt.Errorf("%w: %w", ErrBroken, aerr)
				err = aerr
				break
			}
		}
	} else if len(b.items) > 0 && ix.nextID == b.maxID+1 {
		// Nothing was written, and no id was handed out after the batch's:
		// take its ids back, so that failures leave no gaps in the id
		// space. (The callers that held them got the error and id 0.)
		ix.nextID = uint64(b.items[0].id)
	}
	for i := range b.items {
		delete(ix.pending, string(b.items[i].key))
	}
	for _, pv := range b.vals {
		delete(ix.pendVals, pv.value)
		if ix.pendValN[pv.key]--; ix.pendValN[pv.key] <= 0 {
			delete(ix.pendValN, pv.key)
		}
	}
	ix.createMu.Unlock()
	b.err = err
	close(b.done)
	if err == nil {
		ix.maybeSnapshotLocked()
	}
	return err
}

// appendLocked appends records to the series file and fsyncs it. On
// failure it cuts the file back to its last durable size, so that a
// half-written batch can never be read back; if that fails too, the index
// is broken. commitMu is held.
func (ix *Index) appendLocked(buf []byte) error {
	if ix.closed.Load() {
		return ErrClosed
	}
	if ix.broken != nil {
		return ix.broken
	}
	_, err := ix.file.Write(buf)
	if err == nil {
		err = ix.file.Sync()
	}
	if err == nil {
		ix.fileEnd += int64(len(buf))
		return nil
	}
	err = fmt.Errorf("append %d bytes to %s at offset %d: %w", len(buf), ix.path, ix.fileEnd, err)
	if terr := ix.file.Truncate(ix.fileEnd); terr != nil {
		ix.broken = fmt.Errorf("%w: truncate %s to %d: %w (after: %w)", ErrBroken, ix.path, ix.fileEnd, terr, err)
		ix.log.Error("series file cannot be repaired after a failed append", "path", ix.path, "err", ix.broken)
		return ix.broken
	}
	if _, serr := ix.file.Seek(ix.fileEnd, io.SeekStart); serr != nil {
		ix.broken = fmt.Errorf("%w: seek %s to %d: %w (after: %w)", ErrBroken, ix.path, ix.fileEnd, serr, err)
		return ix.broken
	}
	return err
}

// Snapshot writes a snapshot of the inverted index now, if the series file
// grew since the last one. Open and a background goroutine call it too.
func (ix *Index) Snapshot() error {
	ix.commitMu.Lock()
	defer ix.commitMu.Unlock()
	if ix.closed.Load() {
		return ErrClosed
	}
	return ix.snapshotLocked()
}

func (ix *Index) snapshotLocked() error {
	if ix.broken != nil {
		// Memory may lack series the file has: a snapshot would hide them
		// from the replay that can still recover them.
		return ix.broken
	}
	if ix.snapEnd == ix.fileEnd {
		return nil
	}
	size, err := ix.writeSnapshotLocked()
	if err != nil {
		return err
	}
	ix.snapEnd, ix.snapSize = ix.fileEnd, size
	return nil
}

// maybeSnapshotLocked asks the snapshot goroutine for a snapshot when the
// series file outgrew the last one; commitMu is held.
func (ix *Index) maybeSnapshotLocked() {
	limit := ix.opts.SnapshotBytes
	if limit < 0 {
		return
	}
	if limit == 0 {
		limit = defaultSnapshotBytes
	}
	limit = max(limit, ix.snapSize/2)
	if ix.fileEnd-max(ix.snapEnd, fileHeaderLen) < limit {
		return
	}
	select {
	case ix.snapReq <- struct{}{}:
	default:
	}
}

func (ix *Index) snapshotLoop() {
	defer ix.wg.Done()
	for {
		select {
		case <-ix.stop:
			return
		case <-ix.snapReq:
			if err := ix.Snapshot(); err != nil && !errors.Is(err, ErrClosed) {
				ix.log.Error("index snapshot failed", "dir", ix.dir, "err", err)
			}
		}
	}
}
