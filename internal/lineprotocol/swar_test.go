package lineprotocol

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestFindStops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab,= \\x\"\x00\xff")
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		i := r.IntN(len(b) + 1)
		want := i
		for want < len(b) && !keyStop[b[want]] {
			want++
		}
		if got := findKeyStop(b, i, len(b)); got != want {
			t.Fatalf("findKeyStop(%q, %d) = %d, want %d", b, i, got, want)
		}
		want = i
		for want < len(b) && !measStop[b[want]] {
			want++
		}
		if got := findMeasStop(b, i, len(b)); got != want {
			t.Fatalf("findMeasStop(%q, %d) = %d, want %d", b, i, got, want)
		}
	}
}

func TestScanDigits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		n := r.IntN(20)
		var b []byte
		for range n {
			b = append(b, byte('0'+r.IntN(10)))
		}
		tail := []string{"", " ", "x", "/", ":", "5"}[r.IntN(6)]
		in := append(bytes.Clone(b), tail...)
		if tail == "5" {
			b = append(b, '5')
		}
		v, got := scanDigits(in, 0, len(in))
		if got != len(b) {
			t.Fatalf("scanDigits(%q) read %d digits, want %d", in, got, len(b))
		}
		if len(b) > 0 && len(b) <= 19 {
			want, err := strconv.ParseUint(string(b), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if v != want {
				t.Fatalf("scanDigits(%q) = %d, want %d", in, v, want)
			}
		}
	}
}

func TestKeySig(t *testing.T) {
	keys := [][]byte{[]byte("usage_user"), []byte("usage_nice"), []byte("a"), []byte("ab"), []byte("ba"), []byte("12345678"), []byte("x12345678"), {}}
	for _, a := range keys {
		for _, b := range keys {
			if bytes.Equal(a, b) && keySig(a) != keySig(b) {
				t.Fatalf("equal keys %q have different signatures", a)
			}
		}
		if keySig(a) != keySig(bytes.Clone(a)) {
			t.Fatalf("signature of %q is not a function of its bytes", a)
		}
	}
}
