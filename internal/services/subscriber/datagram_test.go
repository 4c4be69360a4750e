package subscriber

import (
	"bytes"
	"testing"
)

// FuzzDatagramEnd: splitting a batch into datagrams loses and reorders
// nothing, never splits a line, and exceeds the size only for a single
// line that is longer on its own.
func FuzzDatagramEnd(f *testing.F) {
	f.Add([]byte("a 1\nb 2\nc 3\n"), 4)
	f.Add([]byte("short\n"+string(bytes.Repeat([]byte("x"), 50))+"\nend\n"), 10)
	f.Add([]byte("no newline at all"), 3)
	f.Add([]byte("\n\n\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max <= 0 || max > 1<<16 {
			return
		}
		var out []byte
		for rest := data; len(rest) > 0; {
			n := datagramEnd(rest, max)
			if n <= 0 || n > len(rest) {
				t.Fatalf("datagramEnd = %d for %d bytes left", n, len(rest))
			}
			dg := rest[:n]
			if n < len(rest) && dg[n-1] != '\n' {
				t.Fatalf("datagram %q splits a line", dg)
			}
			if n > max && bytes.Count(dg[:n-1], []byte{'\n'}) != 0 {
				t.Fatalf("datagram of %d bytes > %d holds several lines", n, max)
			}
			out = append(out, dg...)
			rest = rest[n:]
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("datagrams do not add up to the batch")
		}
	})
}
