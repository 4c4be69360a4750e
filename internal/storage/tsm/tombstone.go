package tsm

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/stratadb/strata/internal/vfs"
)

// TimeRange is an inclusive range of timestamps.
type TimeRange struct{ Min, Max int64 }

// Tombstone deletes the points of Key with Min <= time <= Max that a data
// file holds. With Prefix set, Key is a key prefix and the range is deleted
// from every key that starts with it: models.AppendFieldKey(nil, series,
// nil) deletes every field of a series at once, which is what DELETE and
// DROP SERIES need without listing the fields. An empty prefix matches
// every key.
type Tombstone struct {
	Key      []byte
	Min, Max int64
	Prefix   bool
}

// TombstonePath returns the path of the tombstone file of a data file.
func TombstonePath(path string) string { return path + ".tombstone" }

// The tombstone file (docs/format/tsm.md, "Tombstones"):
//
//	header  "STTB", version 1, 3 zero bytes
//	record  length u32 LE, CRC32C u32 LE of the payload, payload
//	payload count uvarint, then per tombstone:
//	        flags byte (bit 0: prefix), min varint, max varint, keyLen uvarint, key
//
// One AddTombstones call is one record (large calls are split), so a torn
// write loses the whole call, never part of one.
var tombMagic = [4]byte{'S', 'T', 'T', 'B'}

const (
	// tombstoneVersion is the tombstone file's own format version,
	// independent of the data file's.
	tombstoneVersion = 1
	tombHeaderSize   = 8
	tombRecordHead   = 8
	// maxTombRecord is the payload size past which AddTombstones starts a
	// new record, so that one huge delete does not make one huge record.
	maxTombRecord = 64 << 20
)

// tombstones is a Reader's tombstone set.
type tombstones struct {
	any atomic.Bool // fast path for HasTombstones and TombstonesFor

	mu sync.RWMutex // guards the fields below; held across file writes so adds are serialised
	// list holds every tombstone in the order added.
	list []Tombstone
	// exact and prefix map a key (prefix) to its ranges; prefixLens lists
	// the distinct prefix lengths, ascending, so that a lookup probes one
	// map entry per length instead of scanning every prefix.
	exact      map[string][]TimeRange
	prefix     map[string][]TimeRange
	prefixLens []int
	// validLen is the length of the file's intact part: a torn tail past it
	// is cut off before the next append.
	validLen int64
	exists   bool
}

func (t *tombstones) addLocked(ts []Tombstone) {
	if t.exact == nil {
		t.exact, t.prefix = map[string][]TimeRange{}, map[string][]TimeRange{}
	}
	for _, x := range ts {
		x.Key = slices.Clone(x.Key)
		if x.Key == nil {
			x.Key = []byte{}
		}
		t.list = append(t.list, x)
		tr := TimeRange{x.Min, x.Max}
		if x.Prefix {
			k := string(x.Key)
			if _, ok := t.prefix[k]; !ok {
				if i, found := slices.BinarySearch(t.prefixLens, len(k)); !found {
					t.prefixLens = slices.Insert(t.prefixLens, i, len(k))
				}
			}
			t.prefix[k] = append(t.prefix[k], tr)
		} else {
			t.exact[string(x.Key)] = append(t.exact[string(x.Key)], tr)
		}
	}
	t.any.Store(len(t.list) > 0)
}

// load reads the tombstone file at path, if there is one.
func (t *tombstones) load(fsys vfs.FS, path string) error {
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	ts, valid, err := DecodeTombstones(data)
	if err != nil {
		var ce *CorruptionError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addLocked(ts)
	t.validLen, t.exists = int64(valid), true
	return nil
}

// DecodeTombstones decodes the contents of a tombstone file. It returns the
// tombstones and the length of the intact prefix of data: a torn last
// record (one that runs to the end of data but is short or fails its CRC)
// is left out, as is a header cut short by a crash while the file was being
// created. Damage anywhere else is a *CorruptionError (without a Path).
func DecodeTombstones(data []byte) ([]Tombstone, int, error) {
	if len(data) < tombHeaderSize {
		return nil, 0, nil // torn creation: nothing was acknowledged
	}
	if [4]byte(data[:4]) != tombMagic {
		return nil, 0, &CorruptionError{Offset: 0, Err: errAt("bad tombstone magic %x", data[:4])}
	}
	if data[4] != tombstoneVersion {
		return nil, 0, &CorruptionError{Offset: 4, Err: errAt("unsupported tombstone version %d", data[4])}
	}
	var out []Tombstone
	off := tombHeaderSize
	for off < len(data) {
		rest := len(data) - off
		if rest < tombRecordHead {
			break // torn record head
		}
		n := int64(binary.LittleEndian.Uint32(data[off:]))
		if n > int64(rest-tombRecordHead) {
			break // torn record: the length runs past the end
		}
		payload := data[off+tombRecordHead : off+tombRecordHead+int(n)]
		last := off+tombRecordHead+int(n) == len(data)
		if want, got := binary.LittleEndian.Uint32(data[off+4:]), crc(payload); want != got {
			if last {
				break // torn last record
			}
			return nil, 0, &CorruptionError{Offset: int64(off), Err: errAt("tombstone record checksum mismatch: stored %08x, computed %08x", want, got)}
		}
		var err error
		if out, err = decodeTombPayload(out, data, off+tombRecordHead, off+tombRecordHead+int(n)); err != nil {
			return nil, 0, err
		}
		off += tombRecordHead + int(n)
	}
	return out, off, nil
}

func decodeTombPayload(out []Tombstone, data []byte, start, end int) ([]Tombstone, error) {
	d := decoder{b: data, off: start, end: end}
	count := d.uvarint()
	if d.err == nil && count > uint64(end-start) {
		return nil, &CorruptionError{Offset: int64(start), Err: errAt("%d tombstones in %d bytes", count, end-start)}
	}
	for i := uint64(0); i < count && d.err == nil; i++ {
		at := d.off
		flags := d.byte1()
		var t Tombstone
		t.Prefix = flags&1 != 0
		t.Min, t.Max = d.varint(), d.varint()
		t.Key = slices.Clone(d.bytes(d.length()))
		if d.err != nil {
			break
		}
		if flags&^1 != 0 || t.Min > t.Max || (len(t.Key) == 0 && !t.Prefix) {
			return nil, &CorruptionError{Offset: int64(at), Err: errAt("invalid tombstone (flags %#x, range %d..%d, key %q)", flags, t.Min, t.Max, t.Key)}
		}
		out = append(out, t)
	}
	if d.err != nil {
		return nil, &CorruptionError{Offset: int64(d.at), Err: fmt.Errorf("tombstone: %w", d.err)}
	}
	if d.off != end {
		return nil, &CorruptionError{Offset: int64(d.off), Err: errAt("%d stray bytes in tombstone record", end-d.off)}
	}
	return out, nil
}

// appendTombRecords encodes ts as records. A record takes tombstones until
// its payload passes half of maxTombRecord; keys are at most a few KiB, so
// no record passes the bound.
func appendTombRecords(dst []byte, ts []Tombstone) []byte {
	var body []byte
	for len(ts) > 0 {
		body = body[:0]
		n := 0
		for n < len(ts) && len(body) < maxTombRecord/2 {
			t := ts[n]
			flags := byte(0)
			if t.Prefix {
				flags = 1
			}
			body = append(body, flags)
			body = binary.AppendVarint(body, t.Min)
			body = binary.AppendVarint(body, t.Max)
			body = binary.AppendUvarint(body, uint64(len(t.Key)))
			body = append(body, t.Key...)
			n++
		}
		payload := binary.AppendUvarint(make([]byte, 0, len(body)+binary.MaxVarintLen64), uint64(n))
		payload = append(payload, body...)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
		dst = binary.LittleEndian.AppendUint32(dst, crc(payload))
		dst = append(dst, payload...)
		ts = ts[n:]
	}
	return dst
}

// AddTombstones records that the given ranges were deleted after the file
// was written. They are durable (appended to the tombstone file and
// fsynced) before it returns; on error none of them is in effect in this
// Reader, though a later Open may see them if the append reached the disk.
func (r *Reader) AddTombstones(ts []Tombstone) error {
	for _, t := range ts {
		if t.Min > t.Max || (len(t.Key) == 0 && !t.Prefix) {
			return fmt.Errorf("%w: key %q, range %d..%d", ErrInvalidTombstone, t.Key, t.Min, t.Max)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	if r.closed.Load() {
		return ErrClosed
	}
	t := &r.tomb
	t.mu.Lock()
	defer t.mu.Unlock()
	path := TombstonePath(r.path)
	f, err := r.fsys.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	buf := make([]byte, 0, 64)
	start := t.validLen
	if !t.exists || start < tombHeaderSize {
		buf = append(buf, tombMagic[:]...)
		buf = append(buf, tombstoneVersion, 0, 0, 0)
		start = 0
	}
	buf = appendTombRecords(buf, ts)
	err = writeTombs(f, start, buf)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil && !t.exists {
		err = r.fsys.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("add tombstones to %s: %w", path, err)
	}
	t.exists = true
	t.validLen = start + int64(len(buf))
	t.addLocked(ts)
	return nil
}

// writeTombs cuts any torn tail at start, writes buf there and fsyncs.
func writeTombs(f vfs.File, start int64, buf []byte) error {
	if err := f.Truncate(start); err != nil {
		return err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	if _, err := f.Write(buf); err != nil {
		return err
	}
	return f.Sync()
}

// HasTombstones reports whether any tombstone applies to the file.
func (r *Reader) HasTombstones() bool { return r.tomb.any.Load() }

// Tombstones returns a copy of every tombstone, in the order added.
func (r *Reader) Tombstones() []Tombstone {
	t := &r.tomb
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Tombstone, len(t.list))
	for i, x := range t.list {
		out[i] = x
		out[i].Key = slices.Clone(x.Key)
	}
	return out
}

// TombstonesFor returns the deleted ranges of key, exact and by prefix,
// sorted and with overlapping or adjacent ranges coalesced; nil when none.
func (r *Reader) TombstonesFor(key []byte) []TimeRange {
	if !r.tomb.any.Load() {
		return nil
	}
	t := &r.tomb
	t.mu.RLock()
	out := append([]TimeRange(nil), t.exact[string(key)]...)
	for _, n := range t.prefixLens {
		if n > len(key) {
			break
		}
		out = append(out, t.prefix[string(key[:n])]...)
	}
	t.mu.RUnlock()
	return coalesce(out)
}

// coalesce sorts ranges in place and merges overlapping or adjacent ones.
func coalesce(rs []TimeRange) []TimeRange {
	if len(rs) < 2 {
		return rs
	}
	slices.SortFunc(rs, func(a, b TimeRange) int { return cmp.Compare(a.Min, b.Min) })
	w := 0
	for _, x := range rs[1:] {
		cur := &rs[w]
		if x.Min <= cur.Max || (cur.Max != math.MaxInt64 && x.Min == cur.Max+1) {
			cur.Max = max(cur.Max, x.Max)
			continue
		}
		w++
		rs[w] = x
	}
	return rs[:w+1]
}

// covered reports whether rs (coalesced) covers all of [min, max].
func covered(rs []TimeRange, min, max int64) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Max >= min })
	return i < len(rs) && rs[i].Min <= min && rs[i].Max >= max
}

// overlaps reports whether rs (coalesced) touches [min, max].
func overlaps(rs []TimeRange, min, max int64) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Max >= min })
	return i < len(rs) && rs[i].Min <= max
}
