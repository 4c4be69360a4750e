package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/stratadb/strata/internal/vfs"
)

// ReplayStats describes a replay.
type ReplayStats struct {
	Segments     int   // segment files read
	Records      int   // records passed to fn
	PayloadBytes int64 // payload bytes passed to fn (after decompression)

	// TruncatedSegment is the path of the last segment when its tail was
	// dropped, "" otherwise. TruncatedAt is the size it was truncated to,
	// DroppedBytes how many bytes went, and TruncateCause the damage found
	// (a *CorruptionError).
	TruncatedSegment string
	TruncatedAt      int64
	DroppedBytes     int64
	TruncateCause    error
}

// Replay reads every segment in id order and calls fn with each intact
// record. payload is only valid during the call. A torn or corrupt tail of
// the last segment is truncated away, logged and reported in the stats; a
// bad record anywhere else stops replay with a *CorruptionError and changes
// no file. An error from fn stops replay and is returned wrapped with the
// segment and offset. Replay must be called before the first Write; it may
// be repeated until then, and fails with ErrReplayAfterWrite afterwards.
func (w *WAL) Replay(fn func(typ byte, payload []byte) error) (ReplayStats, error) {
	return w.ReplayAfter(0, fn)
}

// ReplayAfter is Replay over the segments with ids above after only. A
// segment at or below it holds records already in data files (its removal
// failed, or was cut short by a crash): replaying it over newer data would
// bring back overwritten values and re-apply old deletes to newer writes.
func (w *WAL) ReplayAfter(after uint64, fn func(typ byte, payload []byte) error) (ReplayStats, error) {
	w.mu.Lock()
	closed, written := w.mu.closed, w.mu.written
	w.mu.Unlock()
	if closed {
		return ReplayStats{}, ErrClosed
	}
	if written {
		return ReplayStats{}, ErrReplayAfterWrite
	}

	w.file.Lock()
	defer w.file.Unlock()
	w.list.Lock()
	segs := slices.DeleteFunc(slices.Clone(w.list.segs), func(s segmentInfo) bool { return s.id <= after })
	w.list.Unlock()

	var st ReplayStats
	r := &segmentReader{br: bufio.NewReaderSize(nil, 64<<10)}
	for i, s := range segs {
		if err := w.replaySegment(r, s.id, i == len(segs)-1, fn, &st); err != nil {
			return st, err
		}
	}
	w.mu.Lock()
	w.mu.replayed = true
	w.mu.Unlock()
	return st, nil
}

// replaySegment replays one segment; last says whether a damaged tail may
// be repaired.
func (w *WAL) replaySegment(r *segmentReader, id uint64, last bool, fn func(byte, []byte) error, st *ReplayStats) error {
	path := w.segmentPath(id)
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR // for truncation
	}
	f, err := w.fs.OpenFile(path, flag, 0)
	if err != nil {
		return fmt.Errorf("wal: open segment %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: stat segment %s: %w", path, err)
	}
	st.Segments++
	r.reset(f, path, fi.Size())

	for {
		off, typ, payload, err := r.next()
		if err == nil {
			if err := fn(typ, payload); err != nil {
				return fmt.Errorf("wal: replay segment %s at offset %d: %w", path, off, err)
			}
			st.Records++
			st.PayloadBytes += int64(len(payload))
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		var cerr *CorruptionError
		if !errors.As(err, &cerr) {
			return err
		}
		if !last || !repairable(cerr.Err) {
			return cerr
		}
		return w.truncateTail(f, path, id, fi.Size(), cerr, st)
	}
}

// repairable says whether damage at the tail of the last segment can be
// the trace of a crash (and so may be truncated away).
func repairable(kind error) bool {
	return errors.Is(kind, ErrTruncated) || errors.Is(kind, ErrBadLength) ||
		errors.Is(kind, ErrChecksum) || errors.Is(kind, ErrBadHeader)
}

// truncateTail cuts the last segment at the damaged record and fsyncs it.
func (w *WAL) truncateTail(f interface {
	Truncate(int64) error
	Sync() error
}, path string, id uint64, size int64, cause *CorruptionError, st *ReplayStats) error {
	at := cause.Offset
	if err := f.Truncate(at); err != nil {
		return fmt.Errorf("wal: truncate torn tail of %s to %d: %w", path, at, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: fsync %s after truncating torn tail: %w", path, err)
	}
	st.TruncatedSegment = path
	st.TruncatedAt = at
	st.DroppedBytes = size - at
	st.TruncateCause = cause
	w.setSize(id, at)
	w.log.Warn("wal: dropped torn tail of last segment",
		"segment", path, "offset", at, "droppedBytes", size-at, "cause", cause.Err)
	return nil
}

// segmentReader reads the records of one segment. Its buffers are reused
// from segment to segment.
type segmentReader struct {
	br   *bufio.Reader
	path string
	size int64 // file size
	off  int64 // offset of the next record; -1 until the header is read
	hdr  [recordHeaderSize]byte
	body []byte
	dec  []byte
}

func (r *segmentReader) reset(f io.Reader, path string, size int64) {
	r.br.Reset(f)
	r.path = path
	r.size = size
	r.off = -1 // header not read yet
}

func (r *segmentReader) corrupt(off int64, kind error) error {
	return &CorruptionError{Segment: r.path, Offset: off, Err: kind}
}

// readHeader checks the segment header. An empty file is a valid empty
// segment (a crash right after creating it). A short header, or one made
// of zeros, is a torn creation: ErrBadHeader, repairable at the tail. A
// file that starts with anything else is ErrForeignSegment and never
// repaired: truncating a file that is not ours would destroy someone
// else's data.
func (r *segmentReader) readHeader() error {
	if r.size == 0 {
		r.off = 0
		return io.EOF
	}
	var h [segmentHeaderSize]byte
	if r.size < segmentHeaderSize {
		return r.corrupt(0, fmt.Errorf("%w: %d bytes", ErrBadHeader, r.size))
	}
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return r.readErr(0, err)
	}
	switch {
	case string(h[:4]) == segmentMagic && h[4] == formatVersion:
		r.off = segmentHeaderSize
		return nil
	case string(h[:4]) == segmentMagic:
		return r.corrupt(0, fmt.Errorf("%w: version %d", ErrUnsupportedVersion, h[4]))
	case h == [segmentHeaderSize]byte{}:
		return r.corrupt(0, fmt.Errorf("%w: zeros", ErrBadHeader))
	default:
		return r.corrupt(0, fmt.Errorf("%w: starts with %q", ErrForeignSegment, h[:4]))
	}
}

// readErr turns a read error into corruption when the file ended early
// (it shrank under us) and passes any other I/O error through.
func (r *segmentReader) readErr(off int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.corrupt(off, ErrTruncated)
	}
	return fmt.Errorf("wal: read segment %s at offset %d: %w", r.path, off, err)
}

// next returns the next intact record and its offset, io.EOF at the clean
// end of the segment, a *CorruptionError for a bad record, or an I/O error.
func (r *segmentReader) next() (off int64, typ byte, payload []byte, err error) {
	if r.off < 0 {
		if err := r.readHeader(); err != nil {
			return 0, 0, nil, err
		}
	}
	off = r.off
	remain := r.size - off
	if remain == 0 {
		return off, 0, nil, io.EOF
	}
	if remain < recordHeaderSize {
		return off, 0, nil, r.corrupt(off, fmt.Errorf("%w: %d bytes left for a header", ErrTruncated, remain))
	}
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return off, 0, nil, r.readErr(off, err)
	}
	h := parseRecordHeader(r.hdr[:])
	if h.length > MaxPayloadSize {
		return off, 0, nil, r.corrupt(off, fmt.Errorf("%w: %d", ErrBadLength, h.length))
	}
	if int64(h.length) > remain-recordHeaderSize {
		return off, 0, nil, r.corrupt(off, fmt.Errorf("%w: length %d, %d bytes left", ErrTruncated, h.length, remain-recordHeaderSize))
	}
	r.body = slices.Grow(r.body[:0], int(h.length))[:h.length]
	if _, err := io.ReadFull(r.br, r.body); err != nil {
		return off, 0, nil, r.readErr(off, err)
	}
	if got := checksum(r.hdr[:], r.body); got != h.crc {
		return off, 0, nil, r.corrupt(off, fmt.Errorf("%w: stored %#08x, computed %#08x", ErrChecksum, h.crc, got))
	}
	payload, err = decodePayload(r.dec, h, r.body)
	if err != nil {
		return off, 0, nil, r.corrupt(off, err)
	}
	if h.compressed {
		r.dec = payload
	}
	r.off = off + recordHeaderSize + int64(h.length)
	return off, h.typ, payload, nil
}

// Scan reads the WAL in dir without changing any file, for offline tools
// (inspect, verify) and tests. It calls fn with each intact record and its
// location, in replay order, and stops at the first damage, returned as a
// *CorruptionError — including a torn tail that Replay would repair. It
// must not run while a WAL is open on dir and writing.
func Scan(fsys vfs.FS, dir string, fn func(segment uint64, offset int64, typ byte, payload []byte) error) error {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("wal: list %s: %w", dir, err)
	}
	var ids []uint64
	for _, e := range entries {
		if id, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	r := &segmentReader{br: bufio.NewReaderSize(nil, 64<<10)}
	for _, id := range ids {
		if err := scanSegment(fsys, r, filepath.Join(dir, segmentName(id)), id, fn); err != nil {
			return err
		}
	}
	return nil
}

func scanSegment(fsys vfs.FS, r *segmentReader, path string, id uint64, fn func(uint64, int64, byte, []byte) error) error {
	f, err := vfs.Open(fsys, path)
	if err != nil {
		return fmt.Errorf("wal: open segment %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: stat segment %s: %w", path, err)
	}
	r.reset(f, path, fi.Size())
	for {
		off, typ, payload, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(id, off, typ, payload); err != nil {
			return fmt.Errorf("wal: scan segment %s at offset %d: %w", path, off, err)
		}
	}
}

// VerifySegment reads one segment file without changing it and returns
// nil when every record is intact, the first damage as a *CorruptionError
// (a torn tail included), or an I/O error.
func VerifySegment(fsys vfs.FS, path string) error {
	id, _ := parseSegmentName(filepath.Base(path))
	r := &segmentReader{br: bufio.NewReaderSize(nil, 64<<10)}
	return scanSegment(fsys, r, path, id, func(uint64, int64, byte, []byte) error { return nil })
}
