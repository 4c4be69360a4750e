package tsm

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/stratadb/strata/internal/models"
)

// Iterator walks the keys of a file in ascending order. It checks the
// index as it goes (key order, restart points, key count), so a full walk
// is also a structural check of the index. Not safe for concurrent use;
// make one per goroutine.
type Iterator struct {
	r      *Reader
	prefix []byte
	d      decoder
	idx    int    // index of the next record
	key    []byte // current key, rebuilt from the shared prefix
	rec    record
	err    error
	done   bool
}

// Seek returns an iterator over the keys that start with prefix (all keys
// for an empty prefix), positioned before the first one. The engine lists
// every field of a series this way: the fields share the series' prefix.
func (r *Reader) Seek(prefix []byte) *Iterator {
	it := &Iterator{r: r, prefix: append([]byte(nil), prefix...)}
	if r.closed.Load() {
		it.err, it.done = ErrClosed, true
		return it
	}
	it.d = decoder{b: r.data, off: r.indexOff, end: r.recordsEnd}
	if len(prefix) == 0 || r.keyCount == 0 {
		return it
	}
	// Start at the last restart point whose key is below prefix; records
	// before the prefix are skipped by Next.
	nr := len(r.restarts) / 4
	lo, hi := 0, nr // invariant: restart keys before lo are < prefix
	for lo < hi {
		j := int(uint(lo+hi) >> 1)
		k, err := r.restartKey(j)
		if err != nil {
			it.err, it.done = err, true
			return it
		}
		if bytes.Compare(k, prefix) < 0 {
			lo = j + 1
		} else {
			hi = j
		}
	}
	if lo > 0 {
		j := lo - 1
		it.idx = j * r.interval
		it.d.off = r.indexOff + int(binary.LittleEndian.Uint32(r.restarts[4*j:]))
	}
	return it
}

// Iterate calls fn for every key in order with its type and entries. The
// key and entries slices are reused: they are valid only during the call.
// An error from fn stops the walk and is returned as is.
func (r *Reader) Iterate(fn func(key []byte, typ models.FieldType, entries []IndexEntry) error) error {
	it := r.Seek(nil)
	var es []IndexEntry
	for it.Next() {
		var err error
		if es, err = it.Entries(es); err != nil {
			return err
		}
		if err := fn(it.Key(), it.Type(), es); err != nil {
			return err
		}
	}
	return it.Err()
}

// Next moves to the next key; it returns false at the end or on error.
func (it *Iterator) Next() bool {
	for !it.done {
		if !it.step() {
			it.done = true
			return false
		}
		c := bytes.Compare(it.key, it.prefix)
		if c < 0 {
			continue // before the prefix: only while seeking
		}
		if !bytes.HasPrefix(it.key, it.prefix) {
			it.done = true
			return false
		}
		return true
	}
	return false
}

// step decodes the next record into it.key and it.rec.
func (it *Iterator) step() bool {
	r := it.r
	if it.idx >= r.keyCount {
		if it.d.off != it.d.end && it.err == nil {
			it.err = r.corrupt(int64(it.d.off), errAt("%d bytes of records after the last of %d keys", it.d.end-it.d.off, r.keyCount))
		}
		return false
	}
	at := it.d.off
	if at >= it.d.end {
		it.err = r.corrupt(int64(at), errAt("index ends after %d of %d keys", it.idx, r.keyCount))
		return false
	}
	if it.idx%r.interval == 0 {
		want := r.indexOff + int(binary.LittleEndian.Uint32(r.restarts[4*(it.idx/r.interval):]))
		if at != want {
			it.err = r.corrupt(int64(at), errAt("key %d starts at %d, restart table says %d", it.idx, at, want))
			return false
		}
	}
	rec := it.d.readRecord()
	if it.d.err != nil {
		it.err = r.corrupt(int64(it.d.at), fmt.Errorf("index record %d: %w", it.idx, it.d.err))
		return false
	}
	if it.idx%r.interval == 0 && rec.shared != 0 {
		it.err = r.corrupt(int64(at), errAt("restart record %d shares %d bytes", it.idx, rec.shared))
		return false
	}
	// Keys ascend strictly. Between restarts, shared is the whole common
	// prefix, so the first suffix byte must exceed the previous key's byte
	// there (or the previous key must end there); a restart record holds
	// its whole key and is compared whole.
	prev := it.key
	var ok bool
	switch {
	case len(rec.suffix) == 0:
		ok = false
	case it.idx%r.interval == 0:
		ok = bytes.Compare(rec.suffix, prev) > 0
	default:
		ok = rec.shared <= len(prev) && (rec.shared == len(prev) || rec.suffix[0] > prev[rec.shared])
	}
	if !ok {
		it.err = r.corrupt(int64(at), errAt("key %d is not above the key before it", it.idx))
		return false
	}
	it.key = append(it.key[:rec.shared], rec.suffix...)
	it.rec = rec
	it.idx++
	return true
}

// Key returns the current key; valid until the next call to Next.
func (it *Iterator) Key() []byte { return it.key }

// Type returns the type of the current key's blocks.
func (it *Iterator) Type() models.FieldType { return it.rec.typ }

// Entries appends the current key's index entries to dst[:0].
func (it *Iterator) Entries(dst []IndexEntry) ([]IndexEntry, error) {
	r := it.r
	dst, at, err := decodeEntries(r.data, it.rec.body, it.rec.bodyEnd, it.rec.typ, r.version, headerSize, uint64(r.indexOff), dst[:0])
	if err != nil {
		err = r.corrupt(int64(at), fmt.Errorf("entries of key %q: %w", it.key, err))
		it.err, it.done = err, true
		return dst[:0], err
	}
	return dst, nil
}

// Err returns the error that ended the walk, if any.
func (it *Iterator) Err() error { return it.err }
