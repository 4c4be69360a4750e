package block_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
	"github.com/stratadb/strata/internal/storage/codec"
)

// gen builds an array of n points at irregular times with values from val.
func gen[T block.Value](n int, val func(i int) T) block.Array[T] {
	a := block.Array[T]{Times: make([]int64, n), Values: make([]T, n)}
	t := int64(1_700_000_000_000_000_000)
	for i := range n {
		t += int64(1_000_000_000 + (i%7)*1000)
		a.Times[i], a.Values[i] = t, val(i)
	}
	return a
}

func roundTrip[T block.Value](t *testing.T, a block.Array[T]) {
	t.Helper()
	prefix := []byte("prefix")
	enc, err := block.Encode(append([]byte(nil), prefix...), a)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if string(enc[:len(prefix)]) != string(prefix) {
		t.Fatalf("Encode clobbered dst")
	}
	blk := enc[len(prefix):]
	typ, err := block.BlockType(blk)
	if err != nil || typ != block.TypeOf[T]() {
		t.Fatalf("BlockType = %v, %v; want %v", typ, err, block.TypeOf[T]())
	}
	// Decode into a dst with stale contents: they must not leak through.
	dst := gen(3, func(int) T { var z T; return z })
	if err := block.Decode(blk, &dst); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if d := cmp.Diff(a, dst, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); d != "" {
		t.Fatalf("round trip mismatch (-want +got):\n%s", d)
	}
	ts, err := block.DecodeTimes(blk, make([]int64, 5))
	if err != nil {
		t.Fatalf("DecodeTimes: %v", err)
	}
	if d := cmp.Diff(a.Times, ts, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("DecodeTimes mismatch (-want +got):\n%s", d)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100, 1500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			roundTrip(t, gen(n, func(i int) float64 { return float64(i) * 1.5 }))
			roundTrip(t, gen(n, func(i int) int64 { return int64(i*i) - 50 }))
			roundTrip(t, gen(n, func(i int) uint64 { return math.MaxUint64 - uint64(i) }))
			roundTrip(t, gen(n, func(i int) bool { return i%3 == 0 }))
			roundTrip(t, gen(n, func(i int) string { return strings.Repeat("v", i%20) }))
		})
	}
	t.Run("special floats", func(t *testing.T) {
		roundTrip(t, block.Array[float64]{Times: []int64{-5, 0, 7, 9}, Values: []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}})
	})
	t.Run("extreme times", func(t *testing.T) {
		roundTrip(t, block.Array[int64]{Times: []int64{models.MinNanoTime, 0, models.MaxNanoTime}, Values: []int64{1, 2, 3}})
	})
}

func TestEncodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		a    block.Array[int64]
	}{
		{"unequal", block.Array[int64]{Times: []int64{1, 2}, Values: []int64{1}}},
		{"unsorted", block.Array[int64]{Times: []int64{2, 1}, Values: []int64{1, 1}}},
		{"duplicate", block.Array[int64]{Times: []int64{1, 1}, Values: []int64{1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, err := block.Encode([]byte("x"), tt.a)
			if !errors.Is(err, block.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if string(dst) != "x" {
				t.Fatalf("dst changed to %q", dst)
			}
		})
	}
}

func TestDecodeTypeMismatch(t *testing.T) {
	blk, err := block.Encode(nil, gen(10, func(i int) int64 { return int64(i) }))
	if err != nil {
		t.Fatal(err)
	}
	var f block.Array[float64]
	if err := block.Decode(blk, &f); !errors.Is(err, block.ErrTypeMismatch) || errors.Is(err, block.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrTypeMismatch only", err)
	}
	if f.Len() != 0 {
		t.Fatalf("dst not emptied on error")
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good, err := block.Encode(nil, gen(200, func(i int) float64 { return float64(i) }))
	if err != nil {
		t.Fatal(err)
	}
	// Every strict prefix of a block is an error, never a panic.
	for n := 0; n < len(good); n++ {
		var dst block.Array[float64]
		if err := block.Decode(good[:n], &dst); !errors.Is(err, block.ErrCorrupt) {
			t.Fatalf("prefix %d of %d: err = %v, want ErrCorrupt", n, len(good), err)
		}
	}
	tests := []struct {
		name string
		blk  []byte
	}{
		{"empty", nil},
		{"type zero", []byte{0, 0}},
		{"type too big", []byte{9, 0}},
		{"bad length varint", []byte{1, 0xff, 0xff}},
		{"length past end", []byte{1, 50, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst block.Array[float64]
			if err := block.Decode(tt.blk, &dst); !errors.Is(err, block.ErrCorrupt) {
				t.Fatalf("Decode err = %v, want ErrCorrupt", err)
			}
			if _, err := block.DecodeTimes(tt.blk, nil); !errors.Is(err, block.ErrCorrupt) {
				t.Fatalf("DecodeTimes err = %v, want ErrCorrupt", err)
			}
		})
	}
	t.Run("times out of order", func(t *testing.T) {
		good, _ := block.Encode(nil, block.Array[int64]{Times: []int64{1, 2}, Values: []int64{5, 6}})
		bad := spliceTimes(t, good, []int64{3, 2})
		var dst block.Array[int64]
		if err := block.Decode(bad, &dst); !errors.Is(err, block.ErrCorrupt) {
			t.Fatalf("Decode err = %v, want ErrCorrupt", err)
		}
		if _, err := block.DecodeTimes(bad, nil); !errors.Is(err, block.ErrCorrupt) {
			t.Fatalf("DecodeTimes err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("count mismatch", func(t *testing.T) {
		good, _ := block.Encode(nil, block.Array[int64]{Times: []int64{1, 2}, Values: []int64{5, 6}})
		bad := spliceTimes(t, good, []int64{1, 2, 3})
		var dst block.Array[int64]
		if err := block.Decode(bad, &dst); !errors.Is(err, block.ErrCorrupt) {
			t.Fatalf("Decode err = %v, want ErrCorrupt", err)
		}
	})
}

// spliceTimes replaces the timestamp column of a block with one encoding
// times, which Encode would refuse to write.
func spliceTimes(t *testing.T, blk []byte, times []int64) []byte {
	t.Helper()
	n, k := binary.Uvarint(blk[1:])
	if k <= 0 {
		t.Fatalf("bad block")
	}
	vals := blk[1+k+int(n):]
	ts := codec.AppendTimestamps(nil, times)
	out := append([]byte{blk[0]}, binary.AppendUvarint(nil, uint64(len(ts)))...)
	out = append(out, ts...)
	return append(out, vals...)
}
