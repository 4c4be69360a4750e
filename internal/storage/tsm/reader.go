package tsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync/atomic"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/vfs"
)

// Reader reads one data file through a read-only mapping. Open checks the
// header, the footer and the checksum of the whole index; it builds nothing
// per key (lookups binary-search the restart table in the mapping), so
// opening costs one pass of CRC32C over the index and a constant amount of
// memory.
//
// Every method is safe for concurrent use. Slices returned by ReadBlock
// point into the mapping and stay valid until Close; the caller (the
// engine) must not Close a Reader while anyone still reads from it.
type Reader struct {
	fsys vfs.FS
	path string
	m    *vfs.Mapping
	data []byte // the whole file; immutable
	// version is the file's format version: 1 has no last values.
	version byte

	indexOff   int    // start of the index = end of the data blocks
	recordsEnd int    // end of the key records = start of the restart table
	restarts   []byte // restart table, 4 bytes per restart point
	interval   int    // records per restart point
	keyCount   int
	minTime    int64
	maxTime    int64

	tomb   tombstones
	closed atomic.Bool
}

// Open opens and checks the data file at path. Damage gives a
// *CorruptionError naming the file and the offset.
func Open(fsys vfs.FS, path string) (*Reader, error) {
	f, err := vfs.Open(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	m, err := vfs.Map(f)
	// The mapping keeps its own reference to the pages; the descriptor is
	// no longer needed.
	if cerr := f.Close(); err == nil && cerr != nil {
		m.Close()
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	r := &Reader{fsys: fsys, path: path, m: m, data: m.Data}
	if err := r.init(); err != nil {
		m.Close()
		return nil, err
	}
	if err := r.tomb.load(fsys, TombstonePath(path)); err != nil {
		m.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) corrupt(off int64, err error) *CorruptionError {
	return &CorruptionError{Path: r.path, Offset: off, Err: err}
}

// init validates the fixed parts of the file and the index checksum.
func (r *Reader) init() error {
	size := len(r.data)
	if size < headerSize+footerSize {
		return r.corrupt(int64(size), errAt("file of %d bytes is shorter than header and footer (%d)", size, headerSize+footerSize))
	}
	version, off, err := parseHeader(r.data[:headerSize])
	if err != nil {
		return r.corrupt(off, err)
	}
	r.version = version
	footAt := size - footerSize
	ft, off, err := parseFooter(r.data[footAt:])
	if err != nil {
		return r.corrupt(int64(footAt)+off, err)
	}
	if ft.indexOffset < headerSize || ft.indexOffset > uint64(footAt) {
		return r.corrupt(int64(footAt), errAt("index offset %d outside [%d, %d]", ft.indexOffset, headerSize, footAt))
	}
	indexLen := uint64(footAt) - ft.indexOffset
	if ft.recordsLen > indexLen {
		return r.corrupt(int64(footAt)+8, errAt("key records of %d bytes in an index of %d", ft.recordsLen, indexLen))
	}
	if ft.restartInterval == 0 || ft.restartInterval > maxRestartInterval {
		return r.corrupt(int64(footAt)+40, errAt("restart interval %d outside [1, %d]", ft.restartInterval, maxRestartInterval))
	}
	// Every key needs at least 4 bytes of record, so keyCount is bounded
	// by the records' size; this keeps the arithmetic below in range.
	if ft.keyCount > ft.recordsLen/4 {
		return r.corrupt(int64(footAt)+16, errAt("%d keys in %d bytes of records", ft.keyCount, ft.recordsLen))
	}
	nRestarts := (ft.keyCount + uint64(ft.restartInterval) - 1) / uint64(ft.restartInterval)
	if indexLen-ft.recordsLen != 4*nRestarts {
		return r.corrupt(int64(footAt)+8, errAt("restart table of %d bytes, want %d for %d keys", indexLen-ft.recordsLen, 4*nRestarts, ft.keyCount))
	}
	if want, got := ft.indexCRC, crc(r.data[ft.indexOffset:footAt]); want != got {
		return r.corrupt(int64(ft.indexOffset), errAt("index checksum mismatch: stored %08x, computed %08x", want, got))
	}
	if ft.keyCount > 0 && ft.minTime > ft.maxTime {
		return r.corrupt(int64(footAt)+24, errAt("min time %d after max time %d", ft.minTime, ft.maxTime))
	}
	r.indexOff = int(ft.indexOffset)
	r.recordsEnd = r.indexOff + int(ft.recordsLen)
	r.restarts = r.data[r.recordsEnd:footAt]
	r.interval = int(ft.restartInterval)
	r.keyCount = int(ft.keyCount)
	r.minTime, r.maxTime = ft.minTime, ft.maxTime
	// The restart offsets must ascend inside the records, the first at 0:
	// lookups trust them to be record starts within bounds.
	prev := -1
	for i := 0; i < len(r.restarts); i += 4 {
		o := int(binary.LittleEndian.Uint32(r.restarts[i:]))
		if (i == 0 && o != 0) || o <= prev || o >= int(ft.recordsLen) {
			return r.corrupt(int64(r.recordsEnd+i), errAt("restart offset %d out of order or range", o))
		}
		prev = o
	}
	return nil
}

// Path returns the file's path.
func (r *Reader) Path() string { return r.path }

// Size returns the file's size in bytes.
func (r *Reader) Size() int64 { return int64(len(r.data)) }

// IndexSize returns the size of the index in bytes.
func (r *Reader) IndexSize() int64 { return int64(len(r.data) - footerSize - r.indexOff) }

// MinTime returns the smallest timestamp in the file (math.MaxInt64 for a
// file without keys). Tombstones are not taken into account.
func (r *Reader) MinTime() int64 { return r.minTime }

// MaxTime returns the largest timestamp in the file (math.MinInt64 for a
// file without keys).
func (r *Reader) MaxTime() int64 { return r.maxTime }

// KeyCount returns the number of keys.
func (r *Reader) KeyCount() int { return r.keyCount }

// Close releases the mapping. Slices from ReadBlock must not be used
// afterwards.
func (r *Reader) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	return r.m.Close()
}

// Remove closes the reader and deletes the file and its tombstone file.
func (r *Reader) Remove() error {
	err := r.Close()
	if rerr := r.fsys.Remove(r.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	if rerr := r.fsys.Remove(TombstonePath(r.path)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// restartKey returns the whole key stored at restart point j. It decodes
// only the key: the binary search calls it log2(keys/16) times per lookup.
func (r *Reader) restartKey(j int) ([]byte, error) {
	off := r.indexOff + int(binary.LittleEndian.Uint32(r.restarts[4*j:]))
	d := decoder{b: r.data, off: off, end: r.recordsEnd}
	shared := d.uvarint()
	key := d.bytes(d.length())
	if d.err != nil {
		return nil, r.corrupt(int64(d.at), fmt.Errorf("index record: %w", d.err))
	}
	if shared != 0 {
		return nil, r.corrupt(int64(off), errAt("restart record shares %d bytes", shared))
	}
	return key, nil
}

// find locates key's record. It returns found == false with a nil error
// when the key is absent.
func (r *Reader) find(key []byte) (rec record, found bool, err error) {
	if r.closed.Load() {
		return rec, false, ErrClosed
	}
	nr := len(r.restarts) / 4
	// The first restart point whose key is greater than key; the key, if
	// present, lies in the group before it.
	j := sort.Search(nr, func(j int) bool {
		k, kerr := r.restartKey(j)
		if kerr != nil {
			err = kerr
			return true
		}
		return bytes.Compare(k, key) > 0
	})
	if err != nil || j == 0 {
		return rec, false, err
	}
	j--
	d := decoder{b: r.data, off: r.indexOff + int(binary.LittleEndian.Uint32(r.restarts[4*j:])), end: r.recordsEnd}
	// Scan the group without rebuilding keys: m is the length of the
	// common prefix of key and the previous record's key, which is below
	// key. A record sharing more than m bytes with its predecessor is also
	// below key; one sharing fewer is above it (keys ascend); only one
	// sharing exactly m needs its suffix compared.
	m := 0
	for i := 0; i < r.interval && j*r.interval+i < r.keyCount && d.off < d.end; i++ {
		rec = d.readRecord()
		if d.err != nil {
			return rec, false, r.corrupt(int64(d.at), fmt.Errorf("index record: %w", d.err))
		}
		switch {
		case i == 0 && rec.shared != 0:
			return rec, false, r.corrupt(int64(rec.body), errAt("restart record shares %d bytes", rec.shared))
		case rec.shared > m:
			continue
		case rec.shared < m:
			return rec, false, nil
		}
		c := commonPrefix(rec.suffix, key[m:])
		m += c
		switch {
		case c == len(rec.suffix) && m == len(key):
			return rec, true, nil
		case c == len(rec.suffix):
			continue // the record's key is a proper prefix of key
		case m == len(key) || rec.suffix[c] > key[m]:
			return rec, false, nil
		}
	}
	return rec, false, nil
}

// Type returns the type of key's blocks, and whether the file holds key.
func (r *Reader) Type(key []byte) (models.FieldType, bool) {
	rec, ok, err := r.find(key)
	if err != nil || !ok {
		return models.Unknown, false
	}
	return rec.typ, true
}

// Entries appends the index entries of key to dst[:0] and returns them, in
// time order; none when the file does not hold key. A damaged index record
// reads as an absent key (the index checksum makes that all but
// impossible); Lookup reports it.
func (r *Reader) Entries(key []byte, dst []IndexEntry) []IndexEntry {
	_, es, err := r.Lookup(key, dst)
	if err != nil {
		return dst[:0]
	}
	return es
}

// Lookup returns key's type and its index entries appended to dst[:0]:
// Unknown and no entries when the file does not hold key, and a
// *CorruptionError when the index record cannot be decoded.
func (r *Reader) Lookup(key []byte, dst []IndexEntry) (models.FieldType, []IndexEntry, error) {
	dst = dst[:0]
	rec, ok, err := r.find(key)
	if err != nil || !ok {
		return models.Unknown, dst, err
	}
	dst, at, err := decodeEntries(r.data, rec.body, rec.bodyEnd, rec.typ, r.version, headerSize, uint64(r.indexOff), dst)
	if err != nil {
		return models.Unknown, dst[:0], r.corrupt(int64(at), fmt.Errorf("entries of key %q: %w", key, err))
	}
	return rec.typ, dst, nil
}

// ReadBlock returns the block e points at after checking its CRC. The
// slice points into the mapping: valid until Close, and read-only.
func (r *Reader) ReadBlock(e IndexEntry) ([]byte, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	end := uint64(r.indexOff)
	if e.Size <= crcSize || e.Offset < headerSize || e.Offset > end || uint64(e.Size) > end-e.Offset {
		return nil, r.corrupt(int64(min(e.Offset, uint64(len(r.data)))), errAt("block of %d bytes at %d lies outside the data [%d, %d)", e.Size, e.Offset, headerSize, end))
	}
	b := r.data[e.Offset : e.Offset+uint64(e.Size)]
	blk := b[crcSize:]
	if want, got := binary.LittleEndian.Uint32(b), crc(blk); want != got {
		return nil, r.corrupt(int64(e.Offset), errAt("block checksum mismatch: stored %08x, computed %08x", want, got))
	}
	return blk, nil
}

// ReadAll decodes every block of key into dst (reusing its capacity) in
// time order, without applying tombstones. A key of another type gives an
// error wrapping block.ErrTypeMismatch; an absent key an empty dst.
func ReadAll[T block.Value](r *Reader, key []byte, dst *block.Array[T]) error {
	dst.Reset()
	typ, es, err := r.Lookup(key, nil)
	if err != nil || typ == models.Unknown {
		return err
	}
	if want := block.TypeOf[T](); typ != want {
		return fmt.Errorf("read %s key %q: %w: %s, not %s", r.path, key, block.ErrTypeMismatch, typ, want)
	}
	var tmp block.Array[T]
	for _, e := range es {
		blk, err := r.ReadBlock(e)
		if err != nil {
			return err
		}
		if err := block.Decode(blk, &tmp); err != nil {
			return r.corrupt(int64(e.Offset), err)
		}
		dst.Times = append(dst.Times, tmp.Times...)
		dst.Values = append(dst.Values, tmp.Values...)
	}
	return nil
}
