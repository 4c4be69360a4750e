package engine

import (
	"errors"
	"sync/atomic"

	"github.com/stratadb/strata/internal/storage/tsm"
	"github.com/stratadb/strata/internal/vfs"
)

type tsmEntry = tsm.IndexEntry

// dataFile is an open data file shared by the shard's file list and by the
// readers (queries, compactions) using it. It is closed when the last user
// lets go, and deleted then if a compaction replaced it.
type dataFile struct {
	r        *tsm.Reader
	gen      uint64
	level    int
	refs     atomic.Int32
	obsolete atomic.Bool
	fs       vfs.FS
}

func newDataFile(r *tsm.Reader, gen uint64, level int) *dataFile {
	f := &dataFile{r: r, gen: gen, level: level}
	f.refs.Store(1) // the shard's list
	return f
}

func (f *dataFile) acquire() { f.refs.Add(1) }

// release drops one reference; the last one closes the file, and removes it
// from disk when it is obsolete.
func (f *dataFile) release() error {
	if f.refs.Add(-1) != 0 {
		return nil
	}
	path := f.r.Path()
	err := f.r.Close()
	if f.obsolete.Load() && f.fs != nil {
		// A file whose removal fails is removed later by the committed
		// compaction's marker (cleanMarkers, or the next open).
		err = errors.Join(err, removeDataFile(f.fs, path))
	}
	return err
}

// acquireFiles returns the current data files, each acquired; the caller
// releases them with releaseFiles.
func (s *Shard) acquireFiles() []*dataFile {
	s.mu.RLock()
	defer s.mu.RUnlock()
	files := make([]*dataFile, len(s.mu.files))
	copy(files, s.mu.files)
	for _, f := range files {
		f.acquire()
	}
	return files
}

func releaseFiles(files []*dataFile) {
	for _, f := range files {
		f.release()
	}
}
