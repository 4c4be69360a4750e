package tsm

import (
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/models"
	"github.com/stratadb/strata/internal/storage/block"
)

// TestDecodeEntriesRejectsBadLast: a version 2 entry whose last value lies
// outside [min, max], or a boolean one other than 0 or 1, is corruption;
// the same bytes read as version 1 (no last value) leave stray bytes.
func TestDecodeEntriesRejectsBadLast(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  models.FieldType
		st   block.Stats
		want string
	}{
		{"integer above max", models.Integer, block.Stats{Count: 2, Min: 3, Max: 9, Sum: 12, Last: 10, HasLast: true}, "outside [min, max]"},
		{"unsigned above max", models.Unsigned, block.Stats{Count: 2, Min: 3, Max: 9, Sum: 12, Last: 200, HasLast: true}, "outside [min, max]"},
		{"integer max below min", models.Integer, block.Stats{Count: 2, Min: 9, Max: 3, Sum: 12, Last: 9, HasLast: true}, "outside [min, max]"},
		{"boolean 2", models.Boolean, block.Stats{Count: 2, Last: 2, HasLast: true}, "boolean last value 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := IndexEntry{MinTime: 1, MaxTime: 2, Offset: headerSize, Size: 10, Stats: tc.st}
			body := appendEntries(nil, tc.typ, Version, []IndexEntry{e})
			data := append(make([]byte, headerSize+10), body...)
			start := headerSize + 10
			_, at, err := decodeEntries(data, start, len(data), tc.typ, Version, headerSize, uint64(start), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode = %v, want an error about %q", err, tc.want)
			}
			if at <= start || at >= len(data) {
				t.Fatalf("error at %d, want inside the body [%d, %d)", at, start, len(data))
			}
		})
	}
	// A good entry decodes with its last value under version 2; under
	// version 1 its last-value bytes are left over.
	e := IndexEntry{MinTime: 1, MaxTime: 2, Offset: headerSize, Size: 10,
		Stats: block.Stats{Count: 2, Min: 3, Max: 9, Sum: 12, Last: 9, HasLast: true}}
	body := appendEntries(nil, models.Integer, Version, []IndexEntry{e})
	data := append(make([]byte, headerSize+10), body...)
	start := headerSize + 10
	es, _, err := decodeEntries(data, start, len(data), models.Integer, Version, headerSize, uint64(start), nil)
	if err != nil || len(es) != 1 || es[0] != e {
		t.Fatalf("version 2 decode = %+v, %v; want %+v", es, err, e)
	}
	if _, _, err := decodeEntries(data, start, len(data), models.Integer, versionNoLast, headerSize, uint64(start), nil); err == nil || !strings.Contains(err.Error(), "stray bytes") {
		t.Fatalf("version 1 decode of a version 2 body = %v, want stray bytes", err)
	}
}
