package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stratadb/strata/internal/vfs"
)

// segment is the segment file being appended to.
type segment struct {
	id   uint64
	path string
	f    vfs.File // nil while broken
	// size is the length of the acknowledged prefix: header plus every
	// batch whose fsync succeeded.
	size int64
	// broken means a write or fsync failed, so the file may hold bytes
	// past size; they must be truncated away (and the truncation fsynced)
	// before anything else is acknowledged.
	broken bool
}

func (w *WAL) segmentPath(id uint64) string { return filepath.Join(w.dir, segmentName(id)) }

// commitLocked writes one batch to the current segment and fsyncs it,
// repairing a broken segment first and rotating when the batch would
// overflow a non-empty segment. It returns the id of the segment that now
// holds the batch.
func (w *WAL) commitLocked(data []byte) (uint64, error) {
	if c := w.file.cur; c != nil && c.broken {
		if err := w.repairLocked(c); err != nil {
			return 0, err
		}
	}
	if c := w.file.cur; c != nil && c.size > segmentHeaderSize && c.size+int64(len(data)) > w.opts.SegmentSize {
		if err := w.closeCurrentLocked(); err != nil {
			return 0, err
		}
	}
	if w.file.cur == nil {
		if err := w.createSegmentLocked(); err != nil {
			return 0, err
		}
	}
	c := w.file.cur
	off := c.size
	if _, err := c.f.Write(data); err != nil {
		w.breakLocked(c)
		return 0, fmt.Errorf("wal: write segment %s at offset %d: %w", c.path, off, err)
	}
	if err := c.f.Sync(); err != nil {
		w.breakLocked(c)
		return 0, fmt.Errorf("wal: fsync segment %s at offset %d: %w", c.path, off, err)
	}
	c.size += int64(len(data))
	w.setSize(c.id, c.size)
	return c.id, nil
}

// breakLocked marks c broken after a failed write or fsync: the file
// descriptor is dropped (after a failed fsync its dirty pages cannot be
// trusted) and a repair is tried at once; if it fails, the next commit
// tries again before writing anything.
func (w *WAL) breakLocked(c *segment) {
	c.broken = true
	if err := c.f.Close(); err != nil {
		w.log.Warn("wal: close after failed write", "segment", c.path, "err", err)
	}
	c.f = nil
	if err := w.repairLocked(c); err != nil {
		w.log.Error("wal: repair failed; later writes fail until it succeeds", "segment", c.path, "err", err)
	}
}

// repairLocked reopens a broken segment, truncates it to its acknowledged
// prefix and fsyncs the truncation, so that no byte of a failed batch can
// be replayed, nor sit in front of a later acknowledged record.
func (w *WAL) repairLocked(c *segment) error {
	f, err := w.fs.OpenFile(c.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: repair segment %s: reopen: %w", c.path, err)
	}
	fail := func(op string, err error) error {
		f.Close()
		return fmt.Errorf("wal: repair segment %s: %s to %d: %w", c.path, op, c.size, err)
	}
	if err := f.Truncate(c.size); err != nil {
		return fail("truncate", err)
	}
	if _, err := f.Seek(c.size, io.SeekStart); err != nil {
		return fail("seek", err)
	}
	if err := f.Sync(); err != nil {
		return fail("fsync", err)
	}
	c.f = f
	c.broken = false
	w.setSize(c.id, c.size)
	w.log.Info("wal: segment repaired after failed write", "segment", c.path, "size", c.size)
	return nil
}

// createSegmentLocked creates the next segment, writes its header and
// makes its directory entry durable. The header reaches the disk with the
// fsync of the first batch. On failure the id is not used up: the next
// attempt truncates whatever the failed one left under the same name.
func (w *WAL) createSegmentLocked() error {
	id := w.file.nextID
	path := w.segmentPath(id)
	f, err := w.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create segment %s: %w", path, err)
	}
	fail := func(err error) error {
		f.Close()
		if rerr := w.fs.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			w.log.Warn("wal: remove failed segment", "segment", path, "err", rerr)
		}
		return fmt.Errorf("wal: create segment %s: %w", path, err)
	}
	if _, err := f.Write(appendSegmentHeader(nil)); err != nil {
		return fail(err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fail(err)
	}
	w.file.nextID++
	w.file.cur = &segment{id: id, path: path, f: f, size: segmentHeaderSize}

	w.list.Lock()
	w.list.segs = append(w.list.segs, segmentInfo{id: id, size: segmentHeaderSize})
	w.list.curID = id
	w.list.Unlock()
	return nil
}

// closeCurrentLocked closes the current segment, repairing it first if a
// failed batch left bytes in it. Every acknowledged byte in it is already
// fsynced, so a failing close loses nothing and is only logged.
func (w *WAL) closeCurrentLocked() error {
	c := w.file.cur
	if c == nil {
		return nil
	}
	if c.broken {
		if err := w.repairLocked(c); err != nil {
			return err
		}
	}
	if err := c.f.Close(); err != nil {
		w.log.Warn("wal: close segment", "segment", c.path, "err", err)
	}
	w.file.cur = nil
	w.list.Lock()
	w.list.curID = 0
	w.list.Unlock()
	return nil
}

// setSize records the size of segment id for Size and Statistics.
func (w *WAL) setSize(id uint64, size int64) {
	w.list.Lock()
	defer w.list.Unlock()
	for i := len(w.list.segs) - 1; i >= 0; i-- {
		if w.list.segs[i].id == id {
			w.list.segs[i].size = size
			return
		}
	}
}

// Rotate closes the current segment so that the next record goes to a new
// one, and returns the id of the newest closed segment: every record whose
// Write returned before Rotate was called is in a segment with an id ≤
// closed, so once the engine has persisted those records elsewhere it may
// call Remove(closed). A current segment without records is kept open (its
// predecessor's id is returned); 0 means there is no closed segment. The new
// segment is created by the next commit, not by Rotate.
func (w *WAL) Rotate() (closed uint64, err error) {
	w.mu.Lock()
	isClosed := w.mu.closed
	w.mu.Unlock()
	if isClosed {
		return 0, ErrClosed
	}
	w.file.Lock()
	defer w.file.Unlock()
	c := w.file.cur
	if c == nil {
		return w.file.nextID - 1, nil
	}
	if c.size <= segmentHeaderSize && !c.broken {
		return c.id - 1, nil
	}
	if err := w.closeCurrentLocked(); err != nil {
		return 0, fmt.Errorf("wal: rotate: %w", err)
	}
	return c.id, nil
}

// Remove deletes the closed segments with id ≤ upTo and fsyncs the
// directory, so that they do not come back after a crash. The current
// segment is never removed, whatever upTo says. Removing a segment that is
// already gone is not an error.
func (w *WAL) Remove(upTo uint64) error {
	w.file.Lock()
	defer w.file.Unlock()
	var curID uint64
	if w.file.cur != nil {
		curID = w.file.cur.id
	}
	w.list.Lock()
	var victims []uint64
	for _, s := range w.list.segs {
		if s.id <= upTo && s.id != curID {
			victims = append(victims, s.id)
		}
	}
	w.list.Unlock()
	if len(victims) == 0 {
		return nil
	}

	var errs []error
	removed := make(map[uint64]bool, len(victims))
	for _, id := range victims {
		path := w.segmentPath(id)
		if err := w.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("wal: remove segment %s: %w", path, err))
			continue
		}
		removed[id] = true
	}
	w.list.Lock()
	kept := w.list.segs[:0]
	for _, s := range w.list.segs {
		if !removed[s.id] {
			kept = append(kept, s)
		}
	}
	w.list.segs = kept
	w.list.Unlock()
	if len(removed) > 0 {
		if err := w.fs.SyncDir(w.dir); err != nil {
			errs = append(errs, fmt.Errorf("wal: sync %s after remove: %w", w.dir, err))
		}
	}
	return errors.Join(errs...)
}
