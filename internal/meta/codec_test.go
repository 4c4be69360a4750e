package meta_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/meta"
)

func TestCodecRoundTrip(t *testing.T) {
	cases := map[string]*meta.Data{
		"empty": {},
		"full":  fullData(t),
		"built": func() *meta.Data {
			d := dataWithPolicy(t, day)
			createGroup(t, d, mustDate(t, "1969-12-31T23:00:00Z"))
			createGroup(t, d, mustDate(t, "1970-01-01T00:00:00Z")) // starts at Unix 0
			checkErr(t, d.CreateUser("u", "hash", false), nil)
			checkErr(t, d.SetPrivilege("u", "db0", meta.AllPrivileges), nil)
			checkErr(t, d.CreateDatabase("db1"), nil)
			checkErr(t, d.SetPrivilege("u", "db1", meta.ReadPrivilege), nil)
			d.Version = 1 << 40
			return d
		}(),
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := d.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got meta.Data
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d, &got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			// Canonical: encoding again gives the same bytes, whatever the
			// map order.
			b2, _ := got.MarshalBinary()
			if string(b) != string(b2) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

// reseal fixes the checksum after a test edits a file's bytes.
func reseal(b []byte) []byte {
	end := len(b) - 4
	binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func TestCodecCorrupt(t *testing.T) {
	good, _ := fullData(t).MarshalBinary()
	edit := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	tests := []struct {
		name   string
		b      []byte
		reason string
	}{
		{"empty", nil, "shorter than header"},
		{"short", good[:20], "shorter than header"},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), "bad magic"},
		{"format", edit(func(b []byte) []byte { b[8] = 9; return reseal(b) }), "unknown format version 9"},
		{"truncated", good[:len(good)-1], "does not match file size"},
		{"appended", append(append([]byte(nil), good...), 0), "does not match file size"},
		{"bit flip", edit(func(b []byte) []byte { b[40] ^= 1; return b }), "checksum mismatch"},
		{"bad checksum", edit(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), "checksum mismatch"},
		{"huge count", edit(func(b []byte) []byte {
			// MaxShardGroupID=12, MaxShardID=34, then the database count.
			b[26] = 0x7f
			return reseal(b)
		}), "exceeds remaining bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d meta.Data
			err := d.UnmarshalBinary(tt.b)
			if !errors.Is(err, meta.ErrCorrupt) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want corrupt: %s", err, tt.reason)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to the meta.db decoder: it must never
// panic, and whatever it accepts must encode back to the same bytes.
func FuzzDecode(f *testing.F) {
	full, _ := fullData(f).MarshalBinary()
	empty, _ := (&meta.Data{}).MarshalBinary()
	f.Add(full)
	f.Add(empty)
	f.Add(full[:len(full)/2])
	f.Add([]byte("STRATAMD"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Most random inputs fail the checksum; seal them half the time
		// so that the payload decoder is exercised too.
		if len(b) >= 28 && b[len(b)-1]&1 == 1 {
			copy(b, "STRATAMD\x01\x00\x00\x00")
			binary.LittleEndian.PutUint32(b[12:], uint32(len(b)-28))
			reseal(b)
		}
		var d meta.Data
		if err := d.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, meta.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		again, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var d2 meta.Data
		if err := d2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if diff := cmp.Diff(&d, &d2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("decode(encode(decode(b))) differs:\n%s", diff)
		}
	})
}
