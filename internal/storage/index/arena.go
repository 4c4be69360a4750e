package index

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

// segVec is an append-only vector whose elements never move once written,
// so that SeriesID can read it without a lock while the single writer (the
// goroutine holding Index.commitMu) appends. Segments grow geometrically
// (8, 16, 32 … elements) so that the many small vectors of a big schema stay
// small, and stop growing at 64Ki elements so that the last segment of a
// big vector wastes little. The directory of segments is published through
// an atomic pointer; an element is written before the writer publishes its
// index anywhere (a stripe of the series table, a record, a count read under
// a lock), which orders the element write before any read of it.
type segVec[T any] struct {
	dir atomic.Pointer[[][]T]
	n   uint64 // elements in use; writer-only
}

const (
	vecFirstShift = 3  // the first segment holds 1<<3 elements
	vecGeoSegs    = 14 // segments 0..13 grow; 8<<13 = 64Ki
	vecMaxShift   = 16 // later segments hold 1<<16 elements
	vecGeoTotal   = (1<<vecGeoSegs - 1) << vecFirstShift
)

// vecSeg maps an element index to its segment and the offset inside it.
func vecSeg(i uint64) (k int, off uint64) {
	if i < vecGeoTotal {
		j := i>>vecFirstShift + 1
		k = bits.Len64(j) - 1
		return k, i - (uint64(1)<<k-1)<<vecFirstShift
	}
	r := i - vecGeoTotal
	return vecGeoSegs + int(r>>vecMaxShift), r & (1<<vecMaxShift - 1)
}

func vecSegLen(k int) int {
	if k < vecGeoSegs {
		return 1 << (vecFirstShift + k)
	}
	return 1 << vecMaxShift
}

// at returns the element at i, which must be below the length published to
// the caller.
func (v *segVec[T]) at(i uint64) *T {
	d := *v.dir.Load()
	k, off := vecSeg(i)
	return &d[k][off]
}

// length is the number of elements; only the writer may call it.
func (v *segVec[T]) length() uint64 { return v.n }

// grow makes the vector at least n long (new elements are zero); writer
// only.
func (v *segVec[T]) grow(n uint64) {
	if n <= v.n {
		return
	}
	k, _ := vecSeg(n - 1)
	var d [][]T
	if p := v.dir.Load(); p != nil {
		d = *p
	}
	if k >= len(d) {
		nd := make([][]T, len(d), k+1)
		copy(nd, d)
		for len(nd) <= k {
			nd = append(nd, make([]T, vecSegLen(len(nd))))
		}
		v.dir.Store(&nd)
	}
	v.n = n
}

// push appends x and returns its index; writer only.
func (v *segVec[T]) push(x T) uint64 {
	i := v.n
	v.grow(i + 1)
	*v.at(i) = x
	return i
}

// slot returns element i of a sparse vector, allocating its segment (and
// only that one) if needed; writer only. The series id table is sparse:
// ids of a failed batch may leave a gap, and a gap must cost nothing.
func (v *segVec[T]) slot(i uint64) *T {
	k, off := vecSeg(i)
	var d [][]T
	if p := v.dir.Load(); p != nil {
		d = *p
	}
	if k >= len(d) || d[k] == nil {
		nd := make([][]T, max(len(d), k+1))
		copy(nd, d)
		nd[k] = make([]T, vecSegLen(k))
		v.dir.Store(&nd)
		d = nd
	}
	v.n = max(v.n, i+1)
	return &d[k][off]
}

// lookup returns element i of a sparse vector, or nil if its segment was
// never allocated.
func (v *segVec[T]) lookup(i uint64) *T {
	p := v.dir.Load()
	if p == nil {
		return nil
	}
	d := *p
	k, off := vecSeg(i)
	if k >= len(d) || d[k] == nil {
		return nil
	}
	return &d[k][off]
}

// each calls fn for every element of every allocated segment, in index
// order, below the vector's length; writer only.
func (v *segVec[T]) each(fn func(i uint64, x *T)) {
	p := v.dir.Load()
	if p == nil {
		return
	}
	for k, seg := range *p {
		if seg == nil {
			continue
		}
		start := vecSegStart(k)
		for j := range seg {
			if start+uint64(j) >= v.n {
				return
			}
			fn(start+uint64(j), &seg[j])
		}
	}
}

// vecSegStart is the index of the first element of segment k.
func vecSegStart(k int) uint64 {
	if k <= vecGeoSegs {
		return (1<<k - 1) << vecFirstShift
	}
	return vecGeoTotal + uint64(k-vecGeoSegs)<<vecMaxShift
}

// arena is an append-only byte store addressed by 32-bit virtual offsets,
// read without locks under the same publication rule as segVec. It holds
// tag values (length-prefixed) and series records. An item never straddles
// two segments, so a reader gets a contiguous slice. Segments grow from
// 4 KiB to 1 MiB and then stay at 1 MiB; offset 0 is reserved so that it can
// mean "none".
type arena struct {
	dir  atomic.Pointer[[][]byte]
	size uint64 // virtual bytes used, including skipped segment tails; writer-only
}

const (
	arenaFirstShift = 12 // first segment: 4 KiB
	arenaGeoSegs    = 9  // segments 0..8 grow; 4Ki<<8 = 1 MiB
	arenaMaxShift   = 20 // later segments: 1 MiB
	arenaGeoTotal   = (1<<arenaGeoSegs - 1) << arenaFirstShift
	// arenaMaxItem bounds one item; a series key is at most 64 KiB, so
	// every value and record fits with room to spare.
	arenaMaxItem = 1 << arenaMaxShift
	// arenaLimit is the virtual size an arena may reach (32-bit offsets).
	arenaLimit = 1 << 32
)

func arenaSeg(off uint64) (k int, o uint64) {
	if off < arenaGeoTotal {
		j := off>>arenaFirstShift + 1
		k = bits.Len64(j) - 1
		return k, off - (uint64(1)<<k-1)<<arenaFirstShift
	}
	r := off - arenaGeoTotal
	return arenaGeoSegs + int(r>>arenaMaxShift), r & (1<<arenaMaxShift - 1)
}

func arenaSegLen(k int) uint64 {
	if k < arenaGeoSegs {
		return 1 << (arenaFirstShift + k)
	}
	return 1 << arenaMaxShift
}

func arenaSegStart(k int) uint64 {
	if k <= arenaGeoSegs {
		return (1<<k - 1) << arenaFirstShift
	}
	return arenaGeoTotal + uint64(k-arenaGeoSegs)<<arenaMaxShift
}

func newArena() *arena {
	a := &arena{}
	a.alloc(1) // reserve offset 0
	return a
}

// alloc reserves n contiguous bytes and returns their offset and the slice
// to fill; writer only. ok is false when the arena's 4 GiB address space is
// exhausted or n is larger than a segment.
func (a *arena) alloc(n int) (off uint32, dst []byte, ok bool) {
	if n <= 0 || n > arenaMaxItem {
		return 0, nil, false
	}
	pos := a.size
	k, o := arenaSeg(pos)
	if o+uint64(n) > arenaSegLen(k) {
		k++
		pos, o = arenaSegStart(k), 0
	}
	if pos+uint64(n) > arenaLimit-1 {
		return 0, nil, false
	}
	var d [][]byte
	if p := a.dir.Load(); p != nil {
		d = *p
	}
	if k >= len(d) {
		nd := make([][]byte, len(d), k+1)
		copy(nd, d)
		for len(nd) <= k {
			nd = append(nd, make([]byte, arenaSegLen(len(nd))))
		}
		a.dir.Store(&nd)
		d = nd
	}
	a.size = pos + uint64(n)
	return uint32(pos), d[k][o : o+uint64(n) : o+uint64(n)], true
}

// from returns the bytes from off to the end of its segment.
func (a *arena) from(off uint32) []byte {
	d := *a.dir.Load()
	k, o := arenaSeg(uint64(off))
	return d[k][o:]
}

// putString stores s and returns its offset. The uvarint header is
// len(s)<<1 | esc, where esc says that s holds a byte line protocol escapes
// in a tag value (comma, space, equals sign): a series key holds s verbatim
// exactly when esc is 0, which lets keyEqual compare it with memcmp.
func (a *arena) putString(s []byte) (uint32, bool) {
	var hdr [binary.MaxVarintLen64]byte
	esc := uint64(0)
	if bytes.ContainsAny(s, ", =") {
		esc = 1
	}
	h := binary.PutUvarint(hdr[:], uint64(len(s))<<1|esc)
	off, dst, ok := a.alloc(h + len(s))
	if !ok {
		return 0, false
	}
	copy(dst, hdr[:h])
	copy(dst[h:], s)
	return off, true
}

// str returns the string stored at off by putString. The slice has no
// spare capacity, so a caller's append can never write into the arena.
func (a *arena) str(off uint32) []byte {
	s, _ := a.strEsc(off)
	return s
}

// strEsc returns the string at off and whether it needs escaping in a
// series key.
func (a *arena) strEsc(off uint32) ([]byte, bool) {
	b := a.from(off)
	l, h := binary.Uvarint(b)
	end := uint64(h) + l>>1
	return b[h:end:end], l&1 != 0
}

// checkString reports whether a valid string starts at off, for the
// validation of a decoded snapshot.
func (a *arena) checkString(off uint32) bool {
	if off == 0 || uint64(off) >= a.size {
		return false
	}
	b := a.from(off)
	l, h := binary.Uvarint(b)
	return h > 0 && l>>1 <= uint64(len(b)-h)
}

// segments calls fn for the used part of every segment, in order: the
// snapshot writes the arena as its virtual byte range.
func (a *arena) segments(fn func(b []byte) error) error {
	p := a.dir.Load()
	if p == nil {
		return nil
	}
	for k, seg := range *p {
		start := arenaSegStart(k)
		if start >= a.size {
			break
		}
		end := min(a.size-start, uint64(len(seg)))
		if err := fn(seg[:end]); err != nil {
			return err
		}
	}
	return nil
}

// restoreArena rebuilds an arena from its virtual byte range as written by
// segments.
func restoreArena(b []byte) (*arena, bool) {
	if len(b) == 0 || uint64(len(b)) >= arenaLimit {
		return nil, false
	}
	a := &arena{}
	var d [][]byte
	for k := 0; arenaSegStart(k) < uint64(len(b)); k++ {
		start := arenaSegStart(k)
		seg := make([]byte, arenaSegLen(k))
		copy(seg, b[start:])
		d = append(d, seg)
	}
	a.dir.Store(&d)
	a.size = uint64(len(b))
	return a, true
}
