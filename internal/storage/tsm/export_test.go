package tsm

import "github.com/stratadb/strata/internal/vfs"

// Layout constants for the black-box tests that damage files on purpose.
const (
	HeaderSize = headerSize
	FooterSize = footerSize
)

// NewWriterVersion1 writes the first format version (no last values in
// the index), for the tests that old files stay readable.
func NewWriterVersion1(f vfs.File) *Writer {
	w := NewWriter(f)
	w.version = versionNoLast
	w.buf[4] = versionNoLast
	return w
}
