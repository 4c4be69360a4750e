package tsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/vfs"
)

// writeBufferSize is how much the writer gathers before one write call.
const writeBufferSize = 512 << 10

// Writer writes one data file. Keys must come in strictly ascending byte
// order; the blocks of a key in ascending time order without overlap. The
// index is kept in memory (a few bytes per block plus the key bytes, prefix
// compressed) and written by Close. A Writer is not safe for concurrent
// use.
//
// A validation error (ErrKeyOrder, ErrTimeOrder, ErrTypeConflict,
// ErrInvalidBlock, ErrEmptyKey, ErrUnsupportedArray) rejects one call and
// leaves the writer usable. An I/O error sticks: every later call returns
// it, and Close closes the file and returns it too.
type Writer struct {
	f   vfs.File
	buf []byte // file bytes not yet handed to f
	off int64  // bytes of the file so far, buffered ones included
	err error  // sticky I/O error

	// The key being written: its blocks' index entries wait here until the
	// next key (or Close) encodes its index record.
	key     []byte
	typ     models.FieldType
	entries []IndexEntry

	index     []byte   // encoded index records of the finished keys
	lastKey   []byte   // key of the last finished record
	restarts  []uint32 // offsets in index of every restartInterval-th record
	keyCount  uint64
	minTime   int64
	maxTime   int64
	body      []byte // scratch: the body of one record
	scratch   []byte // scratch: one encoded block
	closed    bool
	nameCache string
	version   byte // of the format written: Version, but for tests
}

// NewWriter starts a data file on f, which must be empty. The writer owns f
// from now on: Close closes it. The caller installs the finished file
// (vfs.Install) after Close returns nil.
func NewWriter(f vfs.File) *Writer {
	w := &Writer{
		f:       f,
		buf:     appendHeader(make([]byte, 0, writeBufferSize), Version),
		version: Version,
		minTime: math.MaxInt64,
		maxTime: math.MinInt64,
	}
	w.off = int64(len(w.buf))
	return w
}

// Size returns the bytes written so far (index and footer excluded until
// Close), so that a caller can roll over to a new file at a size limit.
func (w *Writer) Size() int64 { return w.off }

func (w *Writer) name() string {
	if w.nameCache == "" {
		w.nameCache = w.f.Name()
	}
	return w.nameCache
}

// WriteArray writes the points of a (a block.Array[T] or *block.Array[T]
// for any T) under key, split into blocks of at most MaxPointsPerBlock
// points, with their stats. The times must be sorted and unique, and after
// the blocks already written for key. An empty array writes nothing.
func (w *Writer) WriteArray(key []byte, a any) error {
	switch a := a.(type) {
	case block.Array[float64]:
		return writeArray(w, key, a)
	case *block.Array[float64]:
		return writeArray(w, key, *a)
	case block.Array[int64]:
		return writeArray(w, key, a)
	case *block.Array[int64]:
		return writeArray(w, key, *a)
	case block.Array[uint64]:
		return writeArray(w, key, a)
	case *block.Array[uint64]:
		return writeArray(w, key, *a)
	case block.Array[bool]:
		return writeArray(w, key, a)
	case *block.Array[bool]:
		return writeArray(w, key, *a)
	case block.Array[string]:
		return writeArray(w, key, a)
	case *block.Array[string]:
		return writeArray(w, key, *a)
	}
	return fmt.Errorf("%w: %T", ErrUnsupportedArray, a)
}

// WriteTyped is WriteArray without the type switch.
func WriteTyped[T block.Value](w *Writer, key []byte, a block.Array[T]) error {
	return writeArray(w, key, a)
}

func writeArray[T block.Value](w *Writer, key []byte, a block.Array[T]) error {
	if len(a.Times) != len(a.Values) {
		return fmt.Errorf("%w: %d times but %d values", ErrTimeOrder, len(a.Times), len(a.Values))
	}
	if len(a.Times) == 0 {
		return nil
	}
	// Check everything before writing anything, so that a rejected call
	// leaves no partial key behind.
	for i := 1; i < len(a.Times); i++ {
		if a.Times[i] <= a.Times[i-1] {
			return fmt.Errorf("%w: key %q: time %d at %d follows %d", ErrTimeOrder, key, a.Times[i], i, a.Times[i-1])
		}
	}
	typ := block.TypeOf[T]()
	if err := w.check(key, a.Times[0], typ); err != nil {
		return err
	}
	for start := 0; start < len(a.Times); start += MaxPointsPerBlock {
		end := min(start+MaxPointsPerBlock, len(a.Times))
		chunk := block.Array[T]{Times: a.Times[start:end], Values: a.Values[start:end]}
		var err error
		if w.scratch, err = block.Encode(w.scratch[:0], chunk); err != nil {
			return fmt.Errorf("encode key %q: %w", key, err)
		}
		if err := w.appendBlock(key, chunk.Times[0], chunk.Times[len(chunk.Times)-1], typ, block.ComputeStats(chunk), w.scratch); err != nil {
			return err
		}
	}
	return nil
}

// WriteBlock writes an already encoded block unchanged: the compaction fast
// path. minT and maxT are its first and last times, st its stats, typ its
// type. Only the type is checked against the block (its first byte): the
// block is not decoded, so times and stats are trusted, and Verify is what
// catches a caller that got them wrong.
func (w *Writer) WriteBlock(key []byte, minT, maxT int64, typ models.FieldType, st block.Stats, blk []byte) error {
	if !typ.Valid() {
		return fmt.Errorf("%w: key %q: unknown type %d", ErrInvalidBlock, key, typ)
	}
	if bt, err := block.BlockType(blk); err != nil || bt != typ {
		return fmt.Errorf("%w: key %q: block of type %v (%v), want %v", ErrInvalidBlock, key, bt, err, typ)
	}
	if minT > maxT {
		return fmt.Errorf("%w: key %q: min time %d after max time %d", ErrInvalidBlock, key, minT, maxT)
	}
	if err := w.check(key, minT, typ); err != nil {
		return err
	}
	if !st.HasLast && typ != models.String {
		// A block copied from a version 1 file: its entry never recorded
		// the last value, so read it from the block once.
		last, err := blockLast(blk, typ)
		if err != nil {
			return fmt.Errorf("%w: key %q: %w", ErrInvalidBlock, key, err)
		}
		st.Last, st.HasLast = last, true
	}
	return w.appendBlock(key, minT, maxT, typ, st, blk)
}

// check validates a block that starts at minT for key against what was
// written before.
func (w *Writer) check(key []byte, minT int64, typ models.FieldType) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if len(key) == 0 {
		return ErrEmptyKey
	}
	if len(w.entries) > 0 {
		switch c := bytes.Compare(key, w.key); {
		case c == 0:
			if typ != w.typ {
				return fmt.Errorf("%w: key %q: %v block after %v blocks", ErrTypeConflict, key, typ, w.typ)
			}
			if last := w.entries[len(w.entries)-1].MaxTime; minT <= last {
				return fmt.Errorf("%w: key %q: block from %d does not follow %d", ErrTimeOrder, key, minT, last)
			}
		case c < 0:
			return fmt.Errorf("%w: %q after %q", ErrKeyOrder, key, w.key)
		}
	}
	return nil
}

// appendBlock writes CRC + block and records its index entry; the caller
// has validated it.
func (w *Writer) appendBlock(key []byte, minT, maxT int64, typ models.FieldType, st block.Stats, blk []byte) error {
	size := uint64(crcSize + len(blk))
	if size > math.MaxUint32 {
		return fmt.Errorf("%w: key %q: block of %d bytes", ErrTooLarge, key, len(blk))
	}
	if len(w.entries) > 0 && !bytes.Equal(key, w.key) {
		if err := w.finishKey(); err != nil {
			return err
		}
	}
	if len(w.entries) == 0 {
		w.key = append(w.key[:0], key...)
		w.typ = typ
	}
	w.entries = append(w.entries, IndexEntry{MinTime: minT, MaxTime: maxT, Offset: uint64(w.off), Size: uint32(size), Stats: st})
	w.minTime, w.maxTime = min(w.minTime, minT), max(w.maxTime, maxT)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, crc(blk))
	w.buf = append(w.buf, blk...)
	w.off += int64(size)
	if len(w.buf) >= writeBufferSize {
		return w.flush()
	}
	return nil
}

// finishKey encodes the index record of the current key.
func (w *Writer) finishKey() error {
	if len(w.index) > math.MaxUint32 {
		return w.setErr(fmt.Errorf("%w: index passed 4 GiB at key %q", ErrTooLarge, w.key))
	}
	shared := 0
	if w.keyCount%restartInterval == 0 {
		w.restarts = append(w.restarts, uint32(len(w.index)))
	} else {
		shared = commonPrefix(w.lastKey, w.key)
	}
	w.index = binary.AppendUvarint(w.index, uint64(shared))
	w.index = binary.AppendUvarint(w.index, uint64(len(w.key)-shared))
	w.index = append(w.index, w.key[shared:]...)
	w.index = append(w.index, byte(w.typ))
	w.body = appendEntries(w.body[:0], w.typ, w.version, w.entries)
	w.index = binary.AppendUvarint(w.index, uint64(len(w.body)))
	w.index = append(w.index, w.body...)
	w.keyCount++
	w.lastKey = append(w.lastKey[:0], w.key...)
	w.entries = w.entries[:0]
	return nil
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func (w *Writer) setErr(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.Write(w.buf); err != nil {
		return w.setErr(fmt.Errorf("write %s: %w", w.name(), err))
	}
	w.buf = w.buf[:0]
	return nil
}

// Close finishes the file: it writes the index and the footer, fsyncs and
// closes f. On any earlier I/O error it only closes f and returns that
// error. The caller then installs the file (vfs.Install) or removes it.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	err := w.finish()
	if cerr := w.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close %s: %w", w.name(), cerr))
	}
	return err
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if len(w.entries) > 0 {
		if err := w.finishKey(); err != nil {
			return err
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	indexOffset := w.off
	recordsLen := len(w.index)
	for _, r := range w.restarts {
		w.index = binary.LittleEndian.AppendUint32(w.index, r)
	}
	ft := footer{
		indexOffset:     uint64(indexOffset),
		recordsLen:      uint64(recordsLen),
		keyCount:        w.keyCount,
		minTime:         w.minTime,
		maxTime:         w.maxTime,
		restartInterval: restartInterval,
		indexCRC:        crc(w.index),
	}
	w.index = appendFooter(w.index, ft)
	if _, err := w.f.Write(w.index); err != nil {
		return w.setErr(fmt.Errorf("write index of %s: %w", w.name(), err))
	}
	w.off += int64(len(w.index))
	if err := w.f.Sync(); err != nil {
		return w.setErr(fmt.Errorf("sync %s: %w", w.name(), err))
	}
	return nil
}
