package wal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratadb/strata/internal/stats"
	"github.com/stratadb/strata/internal/vfs"
)

// DefaultSegmentSize is the size after which a segment is rotated, as in
// 1.x.
const DefaultSegmentSize = 10 << 20

// maxSpareBuffer bounds the batch buffer the committer keeps for reuse, so
// that one burst of huge records does not pin its memory forever.
const maxSpareBuffer = 4 << 20

// maxPooledRecord bounds the encode buffers kept in the pool, for the same
// reason.
const maxPooledRecord = 1 << 20

// Options configure a WAL.
type Options struct {
	// SegmentSize is the size after which the next batch goes to a new
	// segment; ≤ 0 means DefaultSegmentSize.
	SegmentSize int64
	// FsyncDelay is how long the committer waits after the first record of
	// a batch before writing and fsyncing it ([data] wal-fsync-delay);
	// 0 commits as soon as possible.
	FsyncDelay time.Duration
	// Logger receives repairs and failures; nil discards.
	Logger *slog.Logger
	// MinSegmentID is the smallest id a new segment may take. The engine
	// passes one more than the last segment its data files cover, so that
	// ids never restart below that checkpoint once every segment has been
	// removed (replay skips segments at or below it).
	MinSegmentID uint64
}

// WAL is the write-ahead log of one shard. See the package documentation
// for its life cycle and durability rules.
type WAL struct {
	fs   vfs.FS
	dir  string
	opts Options
	log  *slog.Logger

	kick chan struct{} // capacity 1: a batch is pending
	stop chan struct{} // closed by Close: the committer commits what is left and exits
	wg   sync.WaitGroup

	// encBuf pools the buffers records are framed and compressed into
	// before they are copied into the batch.
	encBuf sync.Pool

	mu struct {
		sync.Mutex
		pending  *batch // records waiting for the committer; nil when none
		spare    []byte // a batch buffer to reuse
		closed   bool
		replayed bool // Replay has completed without error
		written  bool // Write has enqueued a record
	}

	// file is held for a whole commit (write + fsync) by the committer, and
	// by Replay, Rotate, Remove and Close.
	file struct {
		sync.Mutex
		cur    *segment // segment being appended to; nil until the next commit creates one
		nextID uint64   // id of the next segment to create
	}

	// list mirrors the segment files for Segments, Size and Statistics. It
	// is held only briefly, never across I/O; file is always taken first.
	list struct {
		sync.Mutex
		segs  []segmentInfo // ascending id; includes the current segment
		curID uint64        // id of file.cur, 0 when none
	}

	writeOK  atomic.Int64 // records acknowledged
	writeErr atomic.Int64 // records whose batch failed
}

// batch is a group of records committed with one write and one fsync.
type batch struct {
	buf  []byte
	n    int           // records in buf
	done chan struct{} // closed once segment and err are set

	segment uint64
	err     error
}

type segmentInfo struct {
	id   uint64
	size int64
}

// Open opens the WAL in dir, creating dir if needed. It lists the existing
// segments but reads none of them: call Replay before the first Write.
func Open(fsys vfs.FS, dir string, opts Options) (*WAL, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.FsyncDelay < 0 {
		opts.FsyncDelay = 0
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ensureDir(fsys, dir); err != nil {
		return nil, err
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list %s: %w", dir, err)
	}
	var segs []segmentInfo
	for _, e := range entries {
		id, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := fsys.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("wal: stat segment %s: %w", filepath.Join(dir, e.Name()), err)
		}
		segs = append(segs, segmentInfo{id: id, size: fi.Size()})
	}
	slices.SortFunc(segs, func(a, b segmentInfo) int { return cmp.Compare(a.id, b.id) })

	w := &WAL{
		fs:   fsys,
		dir:  dir,
		opts: opts,
		log:  log.With("wal", dir),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}
	w.file.nextID = max(1, opts.MinSegmentID)
	if len(segs) > 0 {
		w.file.nextID = max(w.file.nextID, segs[len(segs)-1].id+1)
	}
	w.list.segs = segs
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// ensureDir creates dir when it is missing and makes its entry durable in
// the parent directory, so that the segments created in it cannot vanish
// with it after a crash.
func ensureDir(fsys vfs.FS, dir string) error {
	_, err := fsys.Stat(dir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("wal: stat %s: %w", dir, err)
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("wal: create %s: %w", dir, err)
	}
	if err := fsys.SyncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("wal: sync parent of %s: %w", dir, err)
	}
	return nil
}

// Dir returns the directory of the WAL.
func (w *WAL) Dir() string { return w.dir }

// Write appends one record and returns once it is durable, with the id of
// the segment that holds it. Concurrent writers share one write and one
// fsync (see the package documentation). typ must be ≤ MaxType; payload is
// copied before Write returns and may be reused by the caller.
//
// If the batch's write or fsync fails, every writer of the batch gets the
// error and the record is not replayed later (unless the process dies
// before the WAL could truncate it away: then it may be). If ctx ends while
// Write waits, Write returns ctx.Err() and the record may still become
// durable.
func (w *WAL) Write(ctx context.Context, typ byte, payload []byte) (segment uint64, err error) {
	if typ > MaxType {
		return 0, fmt.Errorf("%w: %#x", ErrInvalidType, typ)
	}
	if len(payload) > MaxPayloadSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(payload), MaxPayloadSize)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	// Frame and compress outside the lock so that writers compress in
	// parallel; the lock only covers a copy.
	bp, _ := w.encBuf.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	rec := appendRecord((*bp)[:0], typ, payload)

	w.mu.Lock()
	if w.mu.closed || !w.mu.replayed {
		closed := w.mu.closed
		w.mu.Unlock()
		w.putEncBuf(bp, rec)
		if closed {
			return 0, ErrClosed
		}
		return 0, ErrNotReplayed
	}
	b := w.mu.pending
	if b == nil {
		b = &batch{buf: w.mu.spare, done: make(chan struct{})}
		w.mu.spare = nil
		w.mu.pending = b
	}
	b.buf = append(b.buf, rec...)
	b.n++
	w.mu.written = true
	w.mu.Unlock()
	w.putEncBuf(bp, rec)

	select {
	case w.kick <- struct{}{}:
	default: // a kick is already pending; the committer will see this record
	}
	select {
	case <-b.done:
		return b.segment, b.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (w *WAL) putEncBuf(bp *[]byte, rec []byte) {
	if cap(rec) > maxPooledRecord {
		return
	}
	*bp = rec[:0]
	w.encBuf.Put(bp)
}

// run is the committer goroutine: it owns every write to and fsync of the
// segment files. It exits after Close, once the last batch is committed.
func (w *WAL) run() {
	defer w.wg.Done()
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			w.commitPending()
			return
		}
		if d := w.opts.FsyncDelay; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.stop:
				t.Stop()
			}
		}
		w.commitPending()
	}
}

// commitPending commits the pending batch, if any, and tells its writers.
func (w *WAL) commitPending() {
	w.mu.Lock()
	b := w.mu.pending
	w.mu.pending = nil
	w.mu.Unlock()
	if b == nil {
		return
	}

	w.file.Lock()
	seg, err := w.commitLocked(b.buf)
	w.file.Unlock()
	if err != nil {
		w.writeErr.Add(int64(b.n))
		w.log.Error("wal: commit failed", "records", b.n, "bytes", len(b.buf), "err", err)
	} else {
		w.writeOK.Add(int64(b.n))
	}

	buf := b.buf
	b.buf = nil
	b.segment, b.err = seg, err
	close(b.done)

	if cap(buf) <= maxSpareBuffer {
		w.mu.Lock()
		w.mu.spare = buf[:0]
		w.mu.Unlock()
	}
}

// Close commits the records already handed to Write, stops the committer
// and closes the current segment. Later calls return nil.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.mu.closed {
		w.mu.Unlock()
		return nil
	}
	w.mu.closed = true
	w.mu.Unlock()

	close(w.stop)
	w.wg.Wait()

	w.file.Lock()
	defer w.file.Unlock()
	return w.closeCurrentLocked()
}

// Segments returns the ids of the segment files, ascending, including the
// one being written.
func (w *WAL) Segments() []uint64 {
	w.list.Lock()
	defer w.list.Unlock()
	ids := make([]uint64, len(w.list.segs))
	for i, s := range w.list.segs {
		ids[i] = s.id
	}
	return ids
}

// Size returns the bytes of all segment files.
func (w *WAL) Size() int64 {
	cur, old := w.diskBytes()
	return cur + old
}

// diskBytes returns the bytes of the current segment and of the others.
func (w *WAL) diskBytes() (cur, old int64) {
	w.list.Lock()
	defer w.list.Unlock()
	for _, s := range w.list.segs {
		if s.id == w.list.curID {
			cur += s.size
		} else {
			old += s.size
		}
	}
	return cur, old
}

// Statistics reports the 1.x "tsm1_wal" statistic. writeOk and writeErr
// count records (a failed batch counts each of its records); a Write that
// returned ctx.Err() is counted when its batch completes.
func (w *WAL) Statistics(tags map[string]string) []stats.Statistic {
	cur, old := w.diskBytes()
	return []stats.Statistic{{
		Name: "tsm1_wal",
		Tags: maps.Clone(tags),
		Values: map[string]any{
			"currentSegmentDiskBytes": cur,
			"oldSegmentsDiskBytes":    old,
			"writeOk":                 w.writeOK.Load(),
			"writeErr":                w.writeErr.Load(),
		},
	}}
}
