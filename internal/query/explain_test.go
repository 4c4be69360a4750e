package query_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stratadb/strata/internal/query"
)

// analyze runs EXPLAIN ANALYZE and returns its tree with times replaced
// by "T" and the counts of storage reads (which depend on how storage cuts
// blocks) by "N" where they are not zero.
func analyze(t *testing.T, s *stack, q string) string {
	t.Helper()
	rs := s.query("db", "EXPLAIN ANALYZE "+q, query.ExecutionOptions{})
	if len(rs) != 1 || rs[0].Err != nil || len(rs[0].Series) != 1 {
		t.Fatalf("%s: %s", q, resultText(rs))
	}
	row := rs[0].Series[0]
	if len(row.Columns) != 1 || row.Columns[0] != "EXPLAIN ANALYZE" || row.Name != "" {
		t.Fatalf("%s: columns %v name %q", q, row.Columns, row.Name)
	}
	durations := regexp.MustCompile(`(_time: )[0-9.]+[a-zµ]+`)
	counts := regexp.MustCompile(`((cursors|_decoded|_statistics|_points): )[1-9][0-9]*`)
	var lines []string
	for _, v := range row.Values {
		l := durations.ReplaceAllString(v[0].(string), "${1}T")
		lines = append(lines, counts.ReplaceAllString(l, "${1}N"))
	}
	return strings.Join(lines, "\n")
}

func TestExplainAnalyze(t *testing.T) {
	s := newStack(t, query.EngineOptions{Workers: 2})
	s.write("db", "", "", "c,h=a v=1,i=1i 0\nc,h=a v=2,i=3i 10000000000\nc,h=b v=5,i=5i 5000000000")
	s.flush()
	s.write("db", "", "", "c,h=b v=7,i=7i 20000000000")

	got := analyze(t, s, "SELECT derivative(mean(v)), max(i) FROM c WHERE time >= 0s AND time < 30s GROUP BY time(10s)")
	want := `.
└── select
    ├── execution_time: T
    ├── planning_time: T
    ├── total_time: T
    └── build_cursor
        ├── labels
        │   └── statement: SELECT derivative(mean(v::float)), max(i::integer) FROM db.autogen.c GROUP BY time(10s)
        ├── output_series: 1
        ├── rows: 3
        ├── iterator_scanner
        │   ├── labels
        │   │   └── expr: derivative(mean(v::float))
        │   └── points: 2
        ├── iterator_scanner
        │   ├── labels
        │   │   └── expr: max(i::integer)
        │   └── points: 3
        └── create_iterator
            ├── labels
            │   ├── measurement: c
            │   └── shard_id: 1
            ├── series: 2
            ├── cursors: N
            ├── float_blocks_decoded: N
            ├── float_blocks_from_statistics: 0
            ├── float_points: N
            ├── integer_blocks_decoded: N
            ├── integer_blocks_from_statistics: 0
            ├── integer_points: N
            ├── unsigned_blocks_decoded: 0
            ├── unsigned_blocks_from_statistics: 0
            ├── unsigned_points: 0
            ├── string_blocks_decoded: 0
            ├── string_blocks_from_statistics: 0
            ├── string_points: 0
            ├── boolean_blocks_decoded: 0
            ├── boolean_blocks_from_statistics: 0
            └── boolean_points: 0
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// A subquery nests its own build_cursor; a raw statement has one
	// scanner of its auxiliary fields; INTO writes nothing.
	got = analyze(t, s, "SELECT max(m) INTO other FROM (SELECT v AS m FROM c)")
	for _, want := range []string{
		"statement: SELECT max(m::float) INTO db.autogen.other FROM (SELECT v::float AS m FROM db.autogen.c)",
		"        └── build_cursor\n            ├── labels\n            │   └── statement: SELECT v::float AS m FROM db.autogen.c",
		"│   └── auxiliary_fields: v::float",
		"float_points: N",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if rs := s.query("db", "SELECT * FROM other", query.ExecutionOptions{}); resultText(rs) != `{"statement_id":0}` {
		t.Errorf("EXPLAIN ANALYZE wrote: %s", resultText(rs))
	}

	// Nothing to read: no scanner reads a shard.
	got = analyze(t, s, "SELECT v FROM nothere")
	if strings.Contains(got, "create_iterator") || !strings.Contains(got, "rows: 0") {
		t.Errorf("nothing to read:\n%s", got)
	}
}
