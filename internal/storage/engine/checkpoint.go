package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"

	"github.com/stratadb/strata/internal/vfs"
)

// checkpointFile records the last WAL segment whose records are all in
// the shard's data files. Replay starts after it, so what is replayed is
// always the contiguous suffix of the log that the files do not hold. A
// segment at or below it that is still on disk (its removal failed, or a
// crash cut the removal short) must never be replayed: its writes would
// override newer values in the files, and its deletes would remove writes
// that followed them.
//
// Layout: 8 bytes little-endian segment id, 4 bytes CRC32C of those 8.
const checkpointFile = "wal.checkpoint"

var errBadCheckpoint = errors.New("corrupt wal checkpoint")

func loadCheckpoint(fsys vfs.FS, dir string) (uint64, error) {
	path := filepath.Join(dir, checkpointFile)
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, errNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(data) != 12 || crc32.Checksum(data[:8], castagnoli) != binary.LittleEndian.Uint32(data[8:]) {
		return 0, fmt.Errorf("%s: %w", path, errBadCheckpoint)
	}
	return binary.LittleEndian.Uint64(data), nil
}

func saveCheckpoint(fsys vfs.FS, dir string, segment uint64) error {
	data := binary.LittleEndian.AppendUint64(nil, segment)
	data = binary.LittleEndian.AppendUint32(data, crc32.Checksum(data, castagnoli))
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, checkpointFile), data); err != nil {
		return fmt.Errorf("save wal checkpoint: %w", err)
	}
	return nil
}
