package vfs

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Mapping is a read-only view of a whole file.
type Mapping struct {
	Data   []byte
	mapped bool
}

// Map returns the contents of f read-only: through mmap when f is an OS
// file (so that data files cost page cache, not heap), and by reading it
// into memory otherwise (wrapped files in tests).
func Map(f File) (*Mapping, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size == 0 {
		return &Mapping{}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("map %s: file too large (%d bytes)", f.Name(), size)
	}
	if osf, ok := f.(*os.File); ok {
		data, err := syscall.Mmap(int(osf.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
		}
		return &Mapping{Data: data, mapped: true}, nil
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return &Mapping{Data: data}, nil
}

// Close releases the mapping; Data must not be used afterwards.
func (m *Mapping) Close() error {
	if m == nil || !m.mapped {
		return nil
	}
	data := m.Data
	m.Data, m.mapped = nil, false
	return syscall.Munmap(data)
}
