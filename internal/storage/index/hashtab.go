package index

import "sync"

// The series table maps xxhash(series key) to a series id. It is split into
// stripes by the low bits of the hash, each an open-addressing table with
// linear probing under its own RWMutex, so that lookups from many writers
// do not contend and a stripe grows without stopping the others. A slot is
// uint64(h32)<<32 | id, where h32 is the high half of the key's hash: it
// picks the home slot and filters probes, and lets a stripe grow without
// rehashing keys; a match on h32 is confirmed against the stored key. An id
// is never 0, so 0 marks an empty slot.
const (
	stripeBits = 6
	numStripes = 1 << stripeBits
	// minSlots is the size of a table's first allocation.
	minSlots = 8
)

type stripe struct {
	mu    sync.RWMutex // guards slots and n; written under Index.commitMu too
	slots []uint64
	n     int
	_     [8]byte // pad the stripe towards its own cache line
}

// lookupLocked returns the id of key, or 0; mu must be held (read).
func (s *stripe) lookupLocked(ix *Index, h32 uint32, key []byte) uint32 {
	if len(s.slots) == 0 {
		return 0
	}
	mask := uint32(len(s.slots) - 1)
	for i := h32 & mask; ; i = (i + 1) & mask {
		sl := s.slots[i]
		if sl == 0 {
			return 0
		}
		if uint32(sl>>32) == h32 && ix.keyEqual(uint32(sl), key) {
			return uint32(sl)
		}
	}
}

// insertLocked adds id under h32; mu must be held (write).
func (s *stripe) insertLocked(h32, id uint32) {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.resizeLocked(max(minSlots, 2*len(s.slots)))
	}
	slotsInsert(s.slots, uint64(h32)<<32|uint64(id))
	s.n++
}

func (s *stripe) resizeLocked(n int) {
	old := s.slots
	s.slots = make([]uint64, n)
	for _, sl := range old {
		if sl != 0 {
			slotsInsert(s.slots, sl)
		}
	}
}

// removeLocked deletes id filed under h32; mu must be held (write).
func (s *stripe) removeLocked(h32, id uint32) bool {
	if len(s.slots) == 0 {
		return false
	}
	want := uint64(h32)<<32 | uint64(id)
	mask := uint32(len(s.slots) - 1)
	for i := h32 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case want:
			slotsDelete(s.slots, i)
			s.n--
			return true
		}
	}
}

func slotsInsert(slots []uint64, sl uint64) {
	mask := uint32(len(slots) - 1)
	for i := uint32(sl>>32) & mask; ; i = (i + 1) & mask {
		if slots[i] == 0 {
			slots[i] = sl
			return
		}
	}
}

// slotsDelete empties slot i by backward-shift deletion: later members of
// the probe run move up so that no lookup stops early at a hole, and no
// tombstones accumulate.
func slotsDelete(slots []uint64, i uint32) {
	mask := uint32(len(slots) - 1)
	j := i
	for {
		j = (j + 1) & mask
		if slots[j] == 0 {
			break
		}
		k := uint32(slots[j]>>32) & mask
		// The entry at j may fill the hole at i only if its home slot is
		// not cyclically within (i, j].
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		slots[i] = slots[j]
		i = j
	}
	slots[i] = 0
}

// valueTable maps a tag value to its index within one tag key. Slots hold
// index+1 only (4 bytes), because value lookups happen on series creation
// and in equality matches, not on every write: a probe confirms a candidate
// by comparing the stored value, and growth rehashes the values.
type valueTable struct {
	slots []uint32
	n     int
}

// find returns the index of the value with hash h for which eq holds.
func (t *valueTable) find(h uint32, eq func(vIdx uint32) bool) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := t.slots[i]
		if sl == 0 {
			return 0, false
		}
		if eq(sl - 1) {
			return sl - 1, true
		}
	}
}

// insert adds vIdx under hash h; hashOf recomputes the hash of a stored
// index when the table grows.
func (t *valueTable) insert(h, vIdx uint32, hashOf func(vIdx uint32) uint32) {
	if (t.n+1)*4 > len(t.slots)*3 {
		old := t.slots
		t.slots = make([]uint32, max(minSlots, 2*len(old)))
		for _, sl := range old {
			if sl != 0 {
				t.put(hashOf(sl-1), sl)
			}
		}
	}
	t.put(h, vIdx+1)
	t.n++
}

// build fills an empty table with n values at once, sized so that it does
// not grow: loading a snapshot must not rehash a million values at every
// doubling.
func (t *valueTable) build(n int, hashOf func(vIdx uint32) uint32) {
	size := minSlots
	for size*3 < (n+1)*4 {
		size *= 2
	}
	t.slots, t.n = make([]uint32, size), n
	for v := range n {
		t.put(hashOf(uint32(v)), uint32(v)+1)
	}
}

func (t *valueTable) put(h, sl uint32) {
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = sl
			return
		}
	}
}
