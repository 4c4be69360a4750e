package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"path/filepath"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/vfs"
)

// The snapshot is the whole in-memory index in one file, so that Open does
// not re-read and re-parse every series key: the two arenas as raw bytes
// (their 32-bit offsets stay valid), the id → record table, every
// measurement with its tag keys, values, postings and sorted value order,
// and the stripes of the series hash table. A CRC-32C trailer covers it
// all; docs/format/index.md has the layout. It is written to a temporary
// file, fsynced and renamed into place (the vfs.WriteFileAtomic protocol,
// streamed so that the snapshot never sits in memory whole).

// snapMagic starts a snapshot: "STRIX", two zero bytes, version 1.
const snapMagic = "STRIX\x00\x00\x01"

// Kinds of a value's postings in a snapshot.
const (
	postNone   = 0
	postSingle = 1
	postBitmap = 2
)

// snapWriter buffers the snapshot, checksums it and writes it to w.
type snapWriter struct {
	w   io.Writer
	buf []byte
	crc uint32
	n   int64
	err error
}

func (s *snapWriter) flush() {
	if s.err != nil || len(s.buf) == 0 {
		s.buf = s.buf[:0]
		return
	}
	s.crc = crc32.Update(s.crc, crc32.MakeTable(crc32.Castagnoli), s.buf)
	n, err := s.w.Write(s.buf)
	s.n += int64(n)
	s.err = err
	s.buf = s.buf[:0]
}

func (s *snapWriter) maybeFlush() {
	if len(s.buf) >= 1<<20 {
		s.flush()
	}
}

// Write lets roaring serialise bitmaps into the snapshot.
func (s *snapWriter) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	s.maybeFlush()
	return len(p), s.err
}

func (s *snapWriter) uvarint(v uint64) { s.buf = binary.AppendUvarint(s.buf, v); s.maybeFlush() }
func (s *snapWriter) u32(v uint32) {
	s.buf = binary.LittleEndian.AppendUint32(s.buf, v)
	s.maybeFlush()
}
func (s *snapWriter) u64(v uint64) {
	s.buf = binary.LittleEndian.AppendUint64(s.buf, v)
	s.maybeFlush()
}

func (s *snapWriter) bytes(b []byte) {
	s.uvarint(uint64(len(b)))
	_, _ = s.Write(b)
}

func (s *snapWriter) bitmap(bm *roaring.Bitmap) {
	s.uvarint(bm.GetSerializedSizeInBytes())
	if _, err := bm.WriteTo(s); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *snapWriter) arena(a *arena) {
	s.uvarint(a.size)
	_ = a.segments(func(b []byte) error {
		_, err := s.Write(b)
		return err
	})
}

// writeSnapshotLocked writes the snapshot file and returns its size;
// commitMu is held, so nothing changes underneath (readers only read).
func (ix *Index) writeSnapshotLocked() (int64, error) {
	path := filepath.Join(ix.dir, snapshotName)
	tmp := path + ".tmp"
	f, err := vfs.Create(ix.fsys, tmp)
	if err != nil {
		return 0, fmt.Errorf("create snapshot: %w", err)
	}
	w := &snapWriter{w: f, buf: make([]byte, 0, 1<<20+64<<10)}
	ix.encodeSnapshot(w)
	w.flush()
	if w.err == nil {
		var trailer [4]byte
		binary.LittleEndian.PutUint32(trailer[:], w.crc)
		_, w.err = f.Write(trailer[:])
		w.n += 4
	}
	err = w.err
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = vfs.Install(ix.fsys, tmp, path)
	}
	if err != nil {
		_ = ix.fsys.Remove(tmp)
		return 0, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return w.n, nil
}

func (ix *Index) encodeSnapshot(w *snapWriter) {
	w.buf = append(w.buf, snapMagic...)
	w.u64(uint64(ix.fileEnd))
	w.u64(ix.lastFileID)
	w.u64(ix.maxID.Load())
	w.u64(ix.nDead)
	w.arena(ix.strs)
	w.arena(ix.recs)
	nm := ix.meas.length()
	w.uvarint(nm)
	for i := range nm {
		m := *ix.meas.at(i)
		w.bytes(m.name)
		w.bitmap(m.series)
		nk := m.keys.length()
		w.uvarint(nk)
		for k := range nk {
			tk := *m.keys.at(k)
			w.bytes(tk.name)
			w.bitmap(tk.series)
			w.uvarint(uint64(len(tk.post)))
			for v := range tk.post {
				w.u32(*tk.vals.at(uint64(v)))
			}
			for v, p := range tk.post {
				switch bm := tk.multi[uint32(v)]; {
				case p != 0:
					w.buf = append(w.buf, postSingle)
					w.u32(p)
				case bm != nil:
					w.buf = append(w.buf, postBitmap)
					w.bitmap(bm)
				default:
					w.buf = append(w.buf, postNone)
				}
			}
			sorted := ix.sortedValues(tk)
			w.uvarint(uint64(len(sorted)))
			for _, v := range sorted {
				w.u32(v)
			}
		}
	}
	// The live series: id (delta from the previous one) and record offset.
	live := uint64(0)
	ix.offs.each(func(_ uint64, p *atomic.Uint32) {
		if p.Load() != 0 {
			live++
		}
	})
	w.uvarint(live)
	prev := uint64(0)
	ix.offs.each(func(id uint64, p *atomic.Uint32) {
		if off := p.Load(); off != 0 {
			w.uvarint(id - prev)
			w.u32(off)
			prev = id
		}
	})
	w.uvarint(numStripes)
	for i := range ix.stripes {
		st := &ix.stripes[i]
		st.mu.RLock()
		w.uvarint(uint64(len(st.slots)))
		for _, sl := range st.slots {
			w.u64(sl)
		}
		st.mu.RUnlock()
	}
}

// snapReader decodes an untrusted snapshot; the first error sticks and
// every later read returns zero values.
type snapReader struct {
	b   []byte
	off int
	err error
}

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("snapshot offset %d: "+format, append([]any{r.off}, args...)...)
	}
}

func (r *snapReader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("%d bytes wanted, %d left", n, len(r.b)-r.off)
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *snapReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *snapReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *snapReader) byte1() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *snapReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.off += n
	return v
}

// count reads a count of items that take at least size bytes each, so
// that a corrupt count cannot make the decoder allocate without bound.
func (r *snapReader) count(size int) uint64 {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)-r.off)/uint64(size) {
		r.fail("count %d larger than the rest of the snapshot", n)
		return 0
	}
	return n
}

func (r *snapReader) bytes() []byte { return r.take(r.uvarint()) }

// bitmap decodes a serialised roaring bitmap (copying it out of the
// snapshot) and checks that it is well formed and holds ids ≤ maxID.
func (r *snapReader) bitmap(maxID uint64) *roaring.Bitmap {
	b := r.bytes()
	if r.err != nil {
		return nil
	}
	bm, err := decodeBitmap(b)
	if err == nil && !bm.IsEmpty() && uint64(bm.Maximum()) > maxID {
		err = fmt.Errorf("series id %d above the highest id %d", bm.Maximum(), maxID)
	}
	if err != nil {
		r.fail("bitmap: %v", err)
		return nil
	}
	return bm
}

// decodeBitmap guards roaring's decoder, which trusts its input more than
// a file read back from disk deserves: a panic in it becomes an error.
func decodeBitmap(b []byte) (bm *roaring.Bitmap, err error) {
	defer func() {
		if p := recover(); p != nil {
			bm, err = nil, fmt.Errorf("malformed bitmap: %v", p)
		}
	}()
	bm = roaring.New()
	n, err := bm.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if n != int64(len(b)) {
		return nil, fmt.Errorf("bitmap of %d bytes in a %d-byte field", n, len(b))
	}
	if err := bm.Validate(); err != nil {
		return nil, err
	}
	return bm, nil
}

// decodeSnapshot loads a snapshot into ix, whose memory must be empty, and
// returns the series-file offset it covers. Everything is validated: a
// snapshot that decodes is one whose every record, value and posting can be
// followed without going out of bounds.
func (ix *Index) decodeSnapshot(data []byte) (int64, error) {
	if len(data) < len(snapMagic)+4 || string(data[:len(snapMagic)]) != snapMagic {
		return 0, errors.New("not an index snapshot (bad magic)")
	}
	body := data[:len(data)-4]
	if crc32c(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return 0, errors.New("snapshot checksum mismatch")
	}
	r := &snapReader{b: body, off: len(snapMagic)}
	end, err := ix.decodeSnapshotBody(r)
	if err != nil {
		return 0, err
	}
	return end, nil
}

func (ix *Index) decodeSnapshotBody(r *snapReader) (int64, error) {
	end, lastFileID, maxID, dead := r.u64(), r.u64(), r.u64(), r.u64()
	if r.err == nil && (end > math.MaxInt64 || lastFileID > math.MaxUint32 || maxID > lastFileID) {
		r.fail("bad header (end %d, last id %d, max id %d)", end, lastFileID, maxID)
	}
	strs, ok1 := restoreArena(r.take(r.uvarint()))
	recs, ok2 := restoreArena(r.take(r.uvarint()))
	if r.err == nil && (!ok1 || !ok2) {
		r.fail("bad arena")
	}
	if r.err != nil {
		return 0, r.err
	}
	ix.strs, ix.recs = strs, recs

	nm := r.count(3)
	for i := uint64(0); i < nm && r.err == nil; i++ {
		ix.decodeMeasurement(r, uint32(i), maxID)
	}
	if r.err != nil {
		return 0, r.err
	}

	live := ix.decodeSeries(r, maxID)
	if n := r.uvarint(); r.err == nil && n != numStripes {
		r.fail("%d stripes, want %d", n, numStripes)
	}
	for i := 0; i < numStripes && r.err == nil; i++ {
		st := &ix.stripes[i]
		n := r.count(8)
		if n != 0 && (n&(n-1) != 0 || n < minSlots) {
			r.fail("stripe %d: %d slots", i, n)
			break
		}
		raw := r.take(n * 8)
		if r.err != nil {
			break
		}
		st.slots = make([]uint64, n)
		for j := range st.slots {
			sl := binary.LittleEndian.Uint64(raw[j*8:])
			if sl != 0 {
				if id := uint64(uint32(sl)); id == 0 || id > maxID {
					r.fail("stripe %d: series id %d out of range", i, id)
					break
				}
				st.n++
			}
			st.slots[j] = sl
		}
		if r.err == nil && n > 0 && uint64(st.n) >= n {
			r.fail("stripe %d: full", i)
		}
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	if r.err != nil {
		return 0, r.err
	}

	var nMeas int64
	for i := range ix.meas.length() {
		if !(*ix.meas.at(i)).series.IsEmpty() {
			nMeas++
		}
	}
	ix.maxID.Store(maxID)
	ix.lastFileID = lastFileID
	ix.nDead = dead
	ix.nSeries.Store(live)
	ix.nMeas.Store(nMeas)
	return int64(end), nil
}

// decodeSeries reads the id → record table, checking every record, and
// returns the number of series.
func (ix *Index) decodeSeries(r *snapReader, maxID uint64) int64 {
	n := r.count(5)
	prev, allocated := uint64(0), uint64(0)
	for i := uint64(0); i < n && r.err == nil; i++ {
		d, off := r.uvarint(), r.u32()
		if r.err != nil {
			break
		}
		id := prev + d
		if d == 0 || id > maxID {
			r.fail("series id %d after %d (max %d)", id, prev, maxID)
			break
		}
		if err := ix.checkRecord(off); err != nil {
			r.fail("record of series %d: %v", id, err)
			break
		}
		// The table is sparse, but a snapshot whose ids are so spread out
		// that its segments dwarf its series is not one this index wrote.
		if ix.offs.lookup(id) == nil {
			k, _ := vecSeg(id)
			if allocated += uint64(vecSegLen(k)); allocated > 16*(i+1)+1<<20 {
				r.fail("series ids too sparse (%d series up to id %d)", i+1, id)
				break
			}
		}
		ix.offs.slot(id).Store(off)
		prev = id
	}
	return int64(n)
}

func (ix *Index) decodeMeasurement(r *snapReader, idx uint32, maxID uint64) {
	name := bytes.Clone(r.bytes())
	series := r.bitmap(maxID)
	if r.err != nil {
		return
	}
	if len(name) == 0 {
		r.fail("empty measurement name")
		return
	}
	if _, dup := ix.measByName[string(name)]; dup {
		r.fail("measurement %q twice", name)
		return
	}
	m := newMeasurement(idx, name)
	m.series = series
	ix.meas.push(m)
	ix.measByName[string(name)] = idx

	nk := r.count(3)
	for k := uint64(0); k < nk && r.err == nil; k++ {
		kname := bytes.Clone(r.bytes())
		kseries := r.bitmap(maxID)
		nv := r.count(5)
		if r.err != nil {
			return
		}
		if _, dup := m.keyIdx[string(kname)]; dup || len(kname) == 0 {
			r.fail("tag key %q of %q empty or twice", kname, name)
			return
		}
		tk := newTagKey(kname)
		tk.series = kseries
		for range nv {
			off := r.u32()
			if r.err == nil && !ix.strs.checkString(off) {
				r.fail("tag value at bad offset %d", off)
			}
			tk.vals.push(off)
		}
		tk.post = make([]uint32, nv)
		for v := range tk.post {
			switch kind := r.byte1(); kind {
			case postNone:
			case postSingle:
				id := r.u32()
				if r.err == nil && (id == 0 || uint64(id) > maxID) {
					r.fail("posting id %d out of range", id)
				}
				tk.post[v] = id
				tk.live++
			case postBitmap:
				if bm := r.bitmap(maxID); bm != nil && !bm.IsEmpty() {
					if tk.multi == nil {
						tk.multi = map[uint32]*roaring.Bitmap{}
					}
					tk.multi[uint32(v)] = bm
					tk.live++
				}
			default:
				r.fail("posting kind %d", kind)
			}
			if r.err != nil {
				return
			}
		}
		ns := r.count(4)
		if r.err == nil && ns > nv {
			r.fail("%d sorted values of %d", ns, nv)
		}
		raw := r.take(ns * 4)
		if r.err != nil {
			return
		}
		seen := make([]bool, ns)
		tk.sorted = make([]uint32, ns)
		for j := range tk.sorted {
			v := binary.LittleEndian.Uint32(raw[j*4:])
			if uint64(v) >= ns || seen[v] {
				r.fail("sorted values are not a permutation")
				return
			}
			seen[v] = true
			tk.sorted[j] = v
		}
		tk.table.build(len(tk.post), func(v uint32) uint32 { return valueHash(ix.valueBytes(tk, v)) })
		m.keyIdx[string(kname)] = uint32(m.keys.push(tk))
	}
}

// checkRecord validates the record at off of a decoded snapshot.
func (ix *Index) checkRecord(off uint32) error {
	if uint64(off) >= ix.recs.size {
		return fmt.Errorf("offset %d past the record arena", off)
	}
	p := payloadReader{b: ix.recs.from(off)}
	mIdx := p.uvarint()
	n := p.uvarint()
	if p.err != nil || mIdx >= ix.meas.length() {
		return errors.New("bad measurement")
	}
	m := *ix.meas.at(mIdx)
	for ; n > 0; n-- {
		k, v := p.uvarint(), p.uvarint()
		if p.err != nil || k >= m.keys.length() || v >= uint64(len((*m.keys.at(k)).post)) {
			return errors.New("bad tag")
		}
	}
	return nil
}
