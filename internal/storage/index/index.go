package index

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/vfs"
)

// Options configures an Index.
type Options struct {
	// MaxSeriesPerDatabase is [data] max-series-per-database; 0 means
	// unlimited.
	MaxSeriesPerDatabase int
	// MaxValuesPerTag is [data] max-values-per-tag; 0 means unlimited.
	MaxValuesPerTag int
	// Logger receives repairs and background snapshot failures; nil
	// discards.
	Logger *slog.Logger
	// SnapshotBytes is how far the series file may grow past the last
	// snapshot before a background snapshot is written (at least half the
	// last snapshot's size, so that snapshots cost amortised O(1) per
	// series). 0 means 32 MiB; negative means only at Close and on
	// Snapshot.
	SnapshotBytes int64
}

const defaultSnapshotBytes = 32 << 20

// Index is the series file and inverted tag index of one database. All
// methods are safe for concurrent use.
type Index struct {
	fsys vfs.FS
	dir  string
	path string // the series file
	opts Options
	log  *slog.Logger

	// The in-memory index. Its containers are written only by the holder
	// of commitMu; see each field for how readers reach it.
	strs       *arena                // tag values; read without locks
	recs       *arena                // series records; read without locks
	offs       segVec[atomic.Uint32] // series id → record offset in recs; 0: unknown or dropped; sparse
	meas       segVec[*measurement]  // measurement index → measurement
	stripes    [numStripes]stripe    // xxhash(key) → series id
	maxID      atomic.Uint64         // highest id with an offs entry
	nSeries    atomic.Int64          // live series
	nMeas      atomic.Int64          // measurements with at least one live series
	nDead      uint64                // dropped series whose records are still in memory; under commitMu
	mu         sync.RWMutex          // guards measByName
	measByName map[string]uint32     // name → measurement index

	// commitMu serialises every change: series-file appends, fsyncs, the
	// in-memory apply that follows them, and snapshots. Lock order:
	// commitMu → createMu → mu → measurement.mu → tagKey.sortMu; a stripe's
	// mutex is taken alone.
	commitMu   sync.Mutex
	file       vfs.File
	fileEnd    int64  // bytes of the series file that are durable and applied
	lastFileID uint64 // highest id written to the series file
	snapEnd    int64  // fileEnd covered by the snapshot on disk (0: none)
	snapSize   int64  // size of that snapshot
	broken     error  // set when a failed append could not be undone
	recBuf     []byte // scratch of applySeries
	pairBuf    [][2]uint32
	keyBuf     []byte
	tagBuf     []models.Tag
	closed     atomic.Bool // set under commitMu

	// createMu guards the allocation of new series: the batch being
	// filled, the series waiting for it, and the counts the limits need.
	createMu sync.Mutex
	cur      *batch
	pending  map[string]*pendingSeries // key → series allocated but not yet applied
	nextID   uint64
	// Values that pending series would add, for max-values-per-tag:
	// pendVals holds measurement+key+value, pendValN counts per
	// measurement+key.
	pendVals map[string]struct{}
	pendValN map[string]int
	canonBuf []byte

	snapReq chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup // the snapshot goroutine
}

// snapshotName is the file the inverted index is snapshotted to.
const snapshotName = "index.snap"

// Open opens (creating if needed) the index in dir. It loads the snapshot
// if there is a usable one and replays the series file after it, or the
// whole series file otherwise. A torn record at the end of the series file
// is truncated and logged; damage elsewhere is a *CorruptionError.
func Open(fsys vfs.FS, dir string, opts Options) (*Index, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix := &Index{
		fsys:    fsys,
		dir:     dir,
		path:    filepath.Join(dir, seriesFileName),
		opts:    opts,
		log:     log,
		snapReq: make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	ix.resetMemory()
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create index dir: %w", err)
	}
	f, err := fsys.OpenFile(ix.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open series file: %w", err)
	}
	if err := ix.load(f); err != nil {
		f.Close()
		return nil, err
	}
	// A snapshot being written when the process died is garbage.
	_ = fsys.Remove(filepath.Join(dir, snapshotName+".tmp"))
	ix.file = f
	ix.cur = newBatch()
	ix.wg.Add(1)
	go ix.snapshotLoop()
	ix.commitMu.Lock()
	ix.maybeSnapshotLocked()
	ix.commitMu.Unlock()
	return ix, nil
}

// resetMemory empties the in-memory index (before a load, or after a
// snapshot that turned out unusable).
func (ix *Index) resetMemory() {
	ix.strs, ix.recs = newArena(), newArena()
	ix.offs = segVec[atomic.Uint32]{}
	ix.meas = segVec[*measurement]{}
	ix.stripes = [numStripes]stripe{}
	ix.maxID.Store(0)
	ix.nSeries.Store(0)
	ix.nMeas.Store(0)
	ix.nDead = 0
	ix.measByName = map[string]uint32{}
	ix.pending = map[string]*pendingSeries{}
	ix.pendVals = map[string]struct{}{}
	ix.pendValN = map[string]int{}
	ix.nextID, ix.lastFileID = 1, 0
	ix.snapEnd, ix.snapSize = 0, 0
}

// load reads the series file header, the snapshot, and the tail.
func (ix *Index) load(f vfs.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat series file: %w", err)
	}
	size := fi.Size()
	if size < fileHeaderLen {
		if size > 0 {
			ix.log.Warn("series file header torn; rewriting it", "path", ix.path, "size", size)
		}
		if err := writeFileHeader(ix.fsys, f, ix.dir); err != nil {
			return fmt.Errorf("write series file header %s: %w", ix.path, err)
		}
		size = fileHeaderLen
	} else {
		var hdr [fileHeaderLen]byte
		if _, err := f.ReadAt(hdr[:], 0); err != nil {
			return fmt.Errorf("read series file header %s: %w", ix.path, err)
		}
		if string(hdr[:]) != fileMagic {
			return &CorruptionError{Path: ix.path, Offset: 0, Reason: "not a series file (bad magic)"}
		}
	}

	start := int64(fileHeaderLen)
	if end, ok := ix.loadSnapshot(size); ok {
		live, dead := ix.nSeries.Load(), int64(ix.nDead)
		if dead > live && dead >= compactMinDead {
			// Dropped series leave their records and tag values in memory
			// (and in every later snapshot); rebuilding from the series
			// file, without them, returns that memory.
			ix.log.Info("index snapshot holds mostly dropped series; rebuilding it from the series file",
				"dir", ix.dir, "live", live, "dropped", dead)
			ix.resetMemory()
		} else {
			start = end
		}
	}
	var dropped *roaring.Bitmap
	if start == fileHeaderLen {
		dropped = ix.droppedIDs(f, start, size)
	}
	end, err := ix.replay(f, start, size, dropped)
	if err != nil {
		return err
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("seek series file: %w", err)
	}
	ix.fileEnd = end
	ix.nextID = ix.lastFileID + 1
	return nil
}

// loadSnapshot loads the snapshot if there is one that fits a series file
// of size bytes, and returns the offset the series file must be replayed
// from. Any problem is logged and answered by a full replay: the snapshot
// is only ever a cache of the series file.
func (ix *Index) loadSnapshot(size int64) (int64, bool) {
	path := filepath.Join(ix.dir, snapshotName)
	f, err := vfs.Open(ix.fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false
	}
	if err != nil {
		ix.log.Warn("cannot open index snapshot; replaying the series file", "path", path, "err", err)
		return 0, false
	}
	defer f.Close()
	m, err := vfs.Map(f)
	if err != nil {
		ix.log.Warn("cannot read index snapshot; replaying the series file", "path", path, "err", err)
		return 0, false
	}
	defer m.Close()
	end, err := ix.decodeSnapshot(m.Data)
	if err == nil && (end < fileHeaderLen || end > size) {
		err = fmt.Errorf("snapshot covers %d bytes of a %d-byte series file", end, size)
	}
	if err != nil {
		ix.log.Warn("index snapshot unusable; replaying the series file", "path", path, "err", err)
		ix.resetMemory()
		return 0, false
	}
	ix.snapEnd, ix.snapSize = end, int64(len(m.Data))
	return end, true
}

// compactMinDead is how many dropped series a snapshot must hold (and more
// than its live ones) before Open rebuilds the index without them.
const compactMinDead = 1 << 14

// droppedIDs is the first pass of a replay from the start of the series
// file: it collects the ids that tombstones drop, so that the second pass
// can leave those series out instead of adding and removing them (which
// would leave their records and values in memory). A tombstone only counts
// for series created before it, as when records are applied one by one.
func (ix *Index) droppedIDs(f vfs.File, start, size int64) *roaring.Bitmap {
	s := newRecordScanner(f, start, size)
	dropped := roaring.New()
	var ids []uint32
	maxSeen := uint64(0)
	for s.Next() {
		switch s.typ {
		case recSeries:
			r := payloadReader{b: s.payload}
			if id := r.uvarint(); r.err == nil && id > maxSeen {
				maxSeen = id
			}
		case recTombstone:
			var err error
			if ids, err = decodeTombstonePayload(s.payload, ids[:0]); err != nil {
				return dropped // the second pass reports it
			}
			for _, id := range ids {
				if uint64(id) <= maxSeen {
					dropped.Add(id)
				}
			}
		}
	}
	return dropped
}

// replay applies the series-file records from start and returns the offset
// after the last intact one, having truncated a torn tail. Series in
// dropped (when not nil) are skipped, and then so are tombstones.
func (ix *Index) replay(f vfs.File, start, size int64, dropped *roaring.Bitmap) (int64, error) {
	s := newRecordScanner(f, start, size)
	var ids []uint32
	for s.Next() {
		corrupt := func(reason string) error {
			return &CorruptionError{Path: ix.path, Offset: s.recOff, Reason: reason}
		}
		switch s.typ {
		case recSeries:
			id, name, tags, err := decodeSeriesPayload(s.payload, ix.tagBuf[:0])
			if err != nil {
				return 0, corrupt(err.Error())
			}
			ix.tagBuf = tags
			if id <= ix.lastFileID {
				return 0, corrupt(fmt.Sprintf("series id %d not above %d", id, ix.lastFileID))
			}
			if dropped != nil && dropped.Contains(uint32(id)) {
				ix.lastFileID = id
				continue
			}
			key := models.AppendSeriesKey(ix.canonBuf[:0], name, tags)
			ix.canonBuf = key
			if ix.SeriesID(key) != 0 {
				return 0, corrupt(fmt.Sprintf("series key %q created twice", key))
			}
			if err := ix.applySeries(uint32(id), key, name, tags); err != nil {
				return 0, err
			}
			ix.lastFileID = id
		case recTombstone:
			var err error
			ids, err = decodeTombstonePayload(s.payload, ids[:0])
			if err != nil {
				return 0, corrupt(err.Error())
			}
			if dropped != nil {
				continue
			}
			for _, id := range ids {
				ix.removeSeries(id)
			}
		default:
			return 0, corrupt(fmt.Sprintf("unknown record type %d", s.typ))
		}
	}
	if s.ioErr != nil {
		return 0, fmt.Errorf("read series file %s at offset %d: %w", ix.path, s.off, s.ioErr)
	}
	if s.reason == "" {
		return s.off, nil
	}
	if !s.torn {
		return 0, &CorruptionError{Path: ix.path, Offset: s.off, Reason: s.reason}
	}
	ix.log.Warn("series file has a torn tail; truncating it",
		"path", ix.path, "offset", s.off, "dropped_bytes", size-s.off, "reason", s.reason)
	if err := f.Truncate(s.off); err != nil {
		return 0, fmt.Errorf("truncate torn tail of %s at offset %d: %w", ix.path, s.off, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync %s after truncating its tail: %w", ix.path, err)
	}
	return s.off, nil
}

// Close writes a snapshot when the index changed since the last one, stops
// the background snapshot goroutine and closes the series file. Writes
// after Close fail with ErrClosed.
func (ix *Index) Close() error {
	ix.commitMu.Lock()
	if ix.closed.Load() {
		ix.commitMu.Unlock()
		return nil
	}
	ix.closed.Store(true)
	ix.commitMu.Unlock()
	close(ix.stop)
	ix.wg.Wait()

	ix.commitMu.Lock()
	defer ix.commitMu.Unlock()
	var errs []error
	if err := ix.snapshotLocked(); err != nil {
		errs = append(errs, err)
	}
	if err := ix.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close series file: %w", err))
	}
	return errors.Join(errs...)
}

// SeriesID returns the id of the series with canonical key key
// (models.AppendSeriesKey), or 0 when there is none. It does not allocate
// and takes only one stripe's read lock.
func (ix *Index) SeriesID(key []byte) uint64 {
	h := xxhash.Sum64(key)
	st := &ix.stripes[h&(numStripes-1)]
	st.mu.RLock()
	id := st.lookupLocked(ix, uint32(h>>32), key)
	st.mu.RUnlock()
	return uint64(id)
}

// SeriesCount returns the number of live series.
func (ix *Index) SeriesCount() int { return int(ix.nSeries.Load()) }

// MeasurementCount returns the number of measurements with live series.
func (ix *Index) MeasurementCount() int { return int(ix.nMeas.Load()) }

// Statistics reports the "database" statistic of 1.x: numSeries and
// numMeasurements, with tags (typically {"database": name}).
func (ix *Index) Statistics(tags map[string]string) []stats.Statistic {
	t := make(map[string]string, len(tags))
	for k, v := range tags {
		t[k] = v
	}
	return []stats.Statistic{{
		Name: "database",
		Tags: t,
		Values: map[string]any{
			"numSeries":       ix.nSeries.Load(),
			"numMeasurements": ix.nMeas.Load(),
		},
	}}
}
