package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzSegmentReader drives the record decoder in memory, fast enough to
// explore it deeply. With fixCRC the input's record checksums are
// recomputed first, so that the fuzzer gets past them and reaches the
// length checks and the s2 decoder. Decoding must end in io.EOF or a
// *CorruptionError, never panic, and re-framing the decoded records must
// reproduce a readable segment with the same records.
func FuzzSegmentReader(f *testing.F) {
	seg := appendSegmentHeader(nil)
	seg = appendRecord(seg, 1, []byte("hello"))
	seg = appendRecord(seg, 2, nil)
	seg = appendRecord(seg, 3, []byte(strings.Repeat("cpu,host=a value=1 ", 40)))
	f.Add(seg, false)
	f.Add(seg, true)
	f.Add(seg[:len(seg)-1], false)
	f.Add(append(appendSegmentHeader(nil), 0x81, 3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff), true)
	f.Add([]byte("STWL\x02\x00\x00\x00"), false)

	f.Fuzz(func(t *testing.T, data []byte, fixCRC bool) {
		if fixCRC {
			data = fixChecksums(bytes.Clone(data))
		}
		recs, err := readAll(data)
		var cerr *CorruptionError
		if err != nil && !errors.As(err, &cerr) {
			t.Fatalf("read: %v, want nil or *CorruptionError", err)
		}
		if cerr != nil && (cerr.Offset < 0 || cerr.Offset > int64(len(data))) {
			t.Fatalf("corruption offset %d outside a %d-byte segment", cerr.Offset, len(data))
		}
		// What was read re-encodes into a segment that reads back the same.
		again := appendSegmentHeader(nil)
		for _, r := range recs {
			again = appendRecord(again, r.typ, r.payload)
		}
		recs2, err := readAll(again)
		if err != nil || len(recs2) != len(recs) {
			t.Fatalf("re-encoded segment: %d of %d records, %v", len(recs2), len(recs), err)
		}
		for i := range recs {
			if recs[i].typ != recs2[i].typ || !bytes.Equal(recs[i].payload, recs2[i].payload) {
				t.Fatalf("record %d differs after re-encoding", i)
			}
		}
	})
}

type memRecord struct {
	typ     byte
	payload []byte
}

func readAll(data []byte) ([]memRecord, error) {
	r := &segmentReader{br: bufio.NewReaderSize(nil, 4096)}
	r.reset(bytes.NewReader(data), "mem", int64(len(data)))
	var out []memRecord
	for {
		_, typ, p, err := r.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, memRecord{typ, bytes.Clone(p)})
	}
}

// fixChecksums rewrites the CRC of every record whose length fits in data.
func fixChecksums(data []byte) []byte {
	off := segmentHeaderSize
	for off+recordHeaderSize <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[off+1:]))
		end := off + recordHeaderSize + n
		if n < 0 || end > len(data) || end < off {
			break
		}
		binary.LittleEndian.PutUint32(data[off+5:], checksum(data[off:], data[off+recordHeaderSize:end]))
		off = end
	}
	return data
}
