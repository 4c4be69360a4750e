package wal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

func TestSegmentName(t *testing.T) {
	tests := []struct {
		name string
		id   uint64
		ok   bool
	}{
		{"_00001.wal", 1, true},
		{"_00042.wal", 42, true},
		{"_99999.wal", 99999, true},
		{"_100000.wal", 100000, true},
		{"_00000.wal", 0, false}, // id 0 means "none"
		{"_1.wal", 0, false},     // not canonical: would alias _00001.wal
		{"_000001.wal", 0, false},
		{"00001.wal", 0, false},
		{"_00001.wal.tmp", 0, false},
		{"_0000a.wal", 0, false},
		{"_.wal", 0, false},
		{"_+0001.wal", 0, false},
		{"_18446744073709551616.wal", 0, false}, // overflows uint64
	}
	for _, tt := range tests {
		id, ok := parseSegmentName(tt.name)
		if id != tt.id || ok != tt.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", tt.name, id, ok, tt.id, tt.ok)
		}
		if tt.ok && segmentName(tt.id) != tt.name {
			t.Errorf("segmentName(%d) = %q, want %q", tt.id, segmentName(tt.id), tt.name)
		}
	}
}

// TestRecordLayout pins the byte layout documented in docs/format/wal.md.
func TestRecordLayout(t *testing.T) {
	payload := []byte("abc")
	got := appendRecord([]byte{0xEE}, 5, payload)
	if got[0] != 0xEE {
		t.Fatalf("appendRecord clobbered dst prefix")
	}
	r := got[1:]
	if len(r) != recordHeaderSize+len(payload) {
		t.Fatalf("record is %d bytes, want %d", len(r), recordHeaderSize+len(payload))
	}
	if r[0] != 5 {
		t.Fatalf("type byte = %#x, want 0x05 (small payloads are stored raw)", r[0])
	}
	if n := binary.LittleEndian.Uint32(r[1:5]); n != 3 {
		t.Fatalf("length = %d, want 3", n)
	}
	want := crc32.Checksum(append([]byte{5, 3, 0, 0, 0}, payload...), crc32.MakeTable(crc32.Castagnoli))
	if c := binary.LittleEndian.Uint32(r[5:9]); c != want {
		t.Fatalf("crc = %#x, want CRC32C over type+length+payload %#x", c, want)
	}
	if !bytes.Equal(r[9:], payload) {
		t.Fatalf("payload = %q", r[9:])
	}

	hdr := appendSegmentHeader(nil)
	if !bytes.Equal(hdr, []byte{'S', 'T', 'W', 'L', 1, 0, 0, 0}) {
		t.Fatalf("segment header = %v", hdr)
	}
}

func TestRecordCompression(t *testing.T) {
	tests := []struct {
		name       string
		payload    []byte
		compressed bool
	}{
		{"empty", nil, false},
		{"tiny", []byte("x"), false},
		{"below threshold", bytes.Repeat([]byte{'a'}, minCompressSize-1), false},
		{"compressible", []byte(strings.Repeat("cpu,host=a value=1 ", 100)), true},
		{"incompressible", pseudoRandom(4096), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := appendRecord(nil, MaxType, tt.payload)
			h := parseRecordHeader(r)
			if h.typ != MaxType || h.compressed != tt.compressed {
				t.Fatalf("header = %+v, want type %d compressed %v", h, MaxType, tt.compressed)
			}
			if int(h.length) != len(r)-recordHeaderSize {
				t.Fatalf("length %d, record %d", h.length, len(r))
			}
			if tt.compressed && len(r) >= len(tt.payload) {
				t.Fatalf("compressed record %d bytes not smaller than payload %d", len(r), len(tt.payload))
			}
			body := r[recordHeaderSize:]
			if checksum(r, body) != h.crc {
				t.Fatalf("checksum mismatch")
			}
			got, err := decodePayload(nil, h, body)
			if err != nil {
				t.Fatalf("decodePayload: %v", err)
			}
			if !bytes.Equal(got, tt.payload) {
				t.Fatalf("round trip mismatch")
			}
		})
	}
}

func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
