package continuousquery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/stratadb/strata/internal/vfs"
)

// The service remembers when each query last ran in a small JSON file, so
// that after a restart it covers the windows it missed (1.x forgets, and
// skips them). An entry is keyed by database and name and carries the
// query text: a query dropped and created again with another text starts
// afresh.

// stateVersion is the version of the state file's format.
const stateVersion = 1

type stateFile struct {
	Version int          `json:"version"`
	Queries []stateEntry `json:"queries"`
}

type stateEntry struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Query    string `json:"query"`
	LastRun  int64  `json:"lastRun"` // Unix ns
}

// runKey identifies a query in the service's maps.
type runKey struct{ db, name string }

// lastRun is what the service remembers about a query.
type lastRun struct {
	query string
	at    time.Time
}

// decodeState parses a state file.
func decodeState(data []byte) (map[runKey]lastRun, error) {
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCorruptState, f.Version)
	}
	out := make(map[runKey]lastRun, len(f.Queries))
	for _, q := range f.Queries {
		if q.Database == "" || q.Name == "" {
			return nil, fmt.Errorf("%w: entry without database or name", ErrCorruptState)
		}
		out[runKey{q.Database, q.Name}] = lastRun{query: q.Query, at: time.Unix(0, q.LastRun)}
	}
	return out, nil
}

// encodeState renders the state, sorted so that equal states give equal
// files.
func encodeState(runs map[runKey]lastRun) []byte {
	f := stateFile{Version: stateVersion, Queries: make([]stateEntry, 0, len(runs))}
	for k, r := range runs {
		f.Queries = append(f.Queries, stateEntry{Database: k.db, Name: k.name, Query: r.query, LastRun: r.at.UnixNano()})
	}
	slices.SortFunc(f.Queries, func(a, b stateEntry) int {
		if c := strings.Compare(a.Database, b.Database); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	data, err := json.Marshal(f)
	if err != nil {
		panic("BUG: encode continuous query state: " + err.Error())
	}
	return data
}

// loadState reads the state file; a missing file is an empty state.
func loadState(fsys vfs.FS, path string) (map[runKey]lastRun, error) {
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[runKey]lastRun{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	runs, err := decodeState(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return runs, nil
}

// saveState writes the state file atomically.
func saveState(fsys vfs.FS, path string, runs map[runKey]lastRun) error {
	if err := vfs.WriteFileAtomic(fsys, path, encodeState(runs)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
