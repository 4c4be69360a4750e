package codec

import "encoding/binary"

// Bit streams are little-endian: the first bit written is bit 0 of the first
// byte. The last byte is padded with zero bits.

// bitWriter appends bits to a byte slice.
type bitWriter struct {
	dst []byte
	acc uint64 // pending bits, the oldest in bit 0
	n   uint   // number of pending bits, < 32 between calls
}

// write appends the low k bits of v, k ≤ 32.
func (w *bitWriter) write(v uint64, k uint) {
	w.acc |= (v & (1<<k - 1)) << w.n
	w.n += k
	if w.n >= 32 {
		w.dst = binary.LittleEndian.AppendUint32(w.dst, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// writeWide appends the low k bits of v, k ≤ 64.
func (w *bitWriter) writeWide(v uint64, k uint) {
	if k > 32 {
		w.write(v, 32)
		v >>= 32
		k -= 32
	}
	w.write(v, k)
}

// finish flushes the pending bits and returns the slice.
func (w *bitWriter) finish() []byte {
	for w.n > 0 {
		w.dst = append(w.dst, byte(w.acc))
		w.acc >>= 8
		w.n -= min(w.n, 8)
	}
	return w.dst
}

// bitReader reads a little-endian bit stream. Bits of buf above n may hold
// copies of bytes not yet counted; they are the same bits a later refill
// loads at the same positions, so OR-ing them in again is harmless.
type bitReader struct {
	src []byte
	pos int    // next byte of src to load
	buf uint64 // unread bits, the next one in bit 0
	n   uint   // number of valid bits in buf
}

func newBitReader(src []byte) bitReader { return bitReader{src: src} }

// refill loads bytes until at least 56 bits are buffered or src is used up.
func (r *bitReader) refill() {
	if r.pos+8 <= len(r.src) {
		r.buf |= binary.LittleEndian.Uint64(r.src[r.pos:]) << r.n
		k := (63 - r.n) >> 3
		r.pos += int(k)
		r.n += k << 3
		return
	}
	r.refillTail()
}

// refillTail loads the last bytes of src one at a time.
func (r *bitReader) refillTail() {
	for r.n <= 56 && r.pos < len(r.src) {
		r.buf |= uint64(r.src[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
}

// read returns the next k bits, k ≤ 56; ok is false if the stream ends first.
func (r *bitReader) read(k uint) (v uint64, ok bool) {
	if r.n < k {
		r.refill()
		if r.n < k {
			return 0, false
		}
	}
	v = r.buf & (1<<k - 1)
	r.buf >>= k
	r.n -= k
	return v, true
}

// readWide returns the next k bits, k ≤ 64.
func (r *bitReader) readWide(k uint) (uint64, bool) {
	if k <= 56 {
		return r.read(k)
	}
	lo, ok1 := r.read(32)
	hi, ok2 := r.read(k - 32)
	return lo | hi<<32, ok1 && ok2
}

// done reports whether exactly the whole input was consumed: every byte is
// loaded and fewer than 8 bits, the zero padding of the last byte, are left.
func (r *bitReader) done() bool {
	return r.pos == len(r.src) && r.n < 8 && r.buf&(1<<r.n-1) == 0
}
