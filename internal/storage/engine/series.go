package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/vfs"
)

// seriesFile holds the ids of the series that have data in a shard. The
// database's index knows every series; this set narrows a query to the
// series present in one time range. It is saved with each snapshot; ids
// written since are replayed from the WAL.
const seriesFile = "series.roaring"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type seriesSet struct {
	mu    sync.RWMutex // guards ids and dirty
	ids   *roaring.Bitmap
	dirty bool
}

func newSeriesSet() *seriesSet { return &seriesSet{ids: roaring.New()} }

func (s *seriesSet) add(id uint64) {
	s.mu.RLock()
	has := s.ids.Contains(uint32(id))
	s.mu.RUnlock()
	if has {
		return
	}
	s.mu.Lock()
	if s.ids.CheckedAdd(uint32(id)) {
		s.dirty = true
	}
	s.mu.Unlock()
}

func (s *seriesSet) remove(ids []uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.ids.CheckedRemove(uint32(id)) {
			s.dirty = true
		}
	}
}

// clone returns a copy of the set.
func (s *seriesSet) clone() *roaring.Bitmap {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ids.Clone()
}

func (s *seriesSet) cardinality() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ids.GetCardinality()
}

func (s *seriesSet) isDirty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dirty
}

// save writes the set atomically: the roaring serialisation followed by a
// CRC32C of it.
func (s *seriesSet) save(fsys vfs.FS, dir string) error {
	s.mu.Lock()
	var buf bytes.Buffer
	_, err := s.ids.WriteTo(&buf)
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return err
	}
	data := binary.LittleEndian.AppendUint32(buf.Bytes(), crc32.Checksum(buf.Bytes(), castagnoli))
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, seriesFile), data); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("save shard series: %w", err)
	}
	return nil
}

var errSeriesFileCorrupt = errors.New("corrupt shard series file")

func loadSeriesSet(fsys vfs.FS, dir string) (*seriesSet, error) {
	path := filepath.Join(dir, seriesFile)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, errNotExist) {
		// A shard that never snapshotted has no file; its series are all in
		// the WAL. A shard with data files but no set is rebuilt by the
		// caller from the files' keys.
		return newSeriesSet(), nil
	}
	if err != nil {
		return nil, err
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("%s: %w", path, errSeriesFileCorrupt)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, fmt.Errorf("%s: %w: checksum mismatch", path, errSeriesFileCorrupt)
	}
	bm := roaring.New()
	if _, err := bm.ReadFrom(bytes.NewReader(body)); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, errSeriesFileCorrupt, err)
	}
	return &seriesSet{ids: bm}, nil
}

// rebuildSeriesSet derives the set from the data files' keys (used when the
// saved set is missing or damaged).
func (s *Shard) rebuildSeriesSet() *seriesSet {
	set := newSeriesSet()
	for _, f := range s.mu.files {
		f.r.Iterate(func(key []byte, _ models.FieldType, _ []tsmEntry) error {
			sk, _, err := models.SplitFieldKey(key)
			if err != nil {
				return nil
			}
			if id := s.index.SeriesID(sk); id != 0 {
				set.add(id)
			}
			return nil
		})
	}
	set.dirty = true
	return set
}
