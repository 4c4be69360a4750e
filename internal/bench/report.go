package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The two servers a report compares: ratios are Subject / Baseline.
const (
	Subject  = "strata"
	Baseline = "influxdb"
)

// Keys of facts.tsv, the figures scripts/bench measures outside this
// package.
const (
	FactRSS       = "rss_kb"              // peak RSS during one ingest run (VmHWM), KiB; one line per run
	FactDiskBytes = "disk_bytes"          // allocated bytes of data+wal after compaction and a graceful stop
	FactApparent  = "disk_apparent_bytes" // the same files' apparent size (sparse preallocation counted)
	FactColdStart = "coldstart_ms"        // launch on the populated directories until /ping answers, ms; one line per start
	FactVersion   = "version"             // the server's own version line
	FactError     = "error"               // anything that went wrong; any number of lines
)

// ServerRuns is what one server recorded for one data set size.
type ServerRuns struct {
	Name   string
	Writes []*WriteResult // one per ingest run, in run order
	Query  *QueryResult   // nil when the query run did not happen
	Facts  [][2]string    // facts.tsv, in file order
}

// Fact returns every value recorded under key, in order.
func (s *ServerRuns) Fact(key string) []string {
	var out []string
	for _, kv := range s.Facts {
		if kv[0] == key {
			out = append(out, kv[1])
		}
	}
	return out
}

// factNumbers returns the values under key that parse as numbers.
func (s *ServerRuns) factNumbers(key string) []float64 {
	var out []float64
	for _, v := range s.Fact(key) {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// SizeReport holds both servers' runs for one host count.
type SizeReport struct {
	Hosts   int
	Servers map[string]*ServerRuns
}

// Report is a loaded results directory.
//
// Layout, as scripts/bench writes it:
//
//	DIR/machine.tsv                         key<TAB>value: machine and settings
//	DIR/<hosts>/<server>/write-<run>.json   a WriteResult per ingest run
//	DIR/<hosts>/<server>/query.json         the QueryResult of the last run
//	DIR/<hosts>/<server>/facts.tsv          key<TAB>value: see the Fact* keys
type Report struct {
	Machine [][2]string
	Sizes   []SizeReport
}

// LoadReport reads a results directory. Missing pieces (a server that did
// not start, a query run that did not happen) are not errors: the report
// shows them as missing. Files that exist but cannot be parsed are.
func LoadReport(dir string) (*Report, error) {
	r := &Report{}
	var err error
	if r.Machine, err = readTSV(filepath.Join(dir, "machine.tsv")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResults, err)
	}
	for _, e := range entries {
		hosts, convErr := strconv.Atoi(e.Name())
		if !e.IsDir() || convErr != nil {
			continue
		}
		size := SizeReport{Hosts: hosts, Servers: map[string]*ServerRuns{}}
		servers, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadResults, err)
		}
		for _, s := range servers {
			if !s.IsDir() {
				continue
			}
			runs, err := loadServer(filepath.Join(dir, e.Name(), s.Name()), s.Name())
			if err != nil {
				return nil, err
			}
			size.Servers[s.Name()] = runs
		}
		r.Sizes = append(r.Sizes, size)
	}
	if len(r.Sizes) == 0 {
		return nil, fmt.Errorf("%w: no <hosts>/<server> directories in %s", ErrBadResults, dir)
	}
	slices.SortFunc(r.Sizes, func(a, b SizeReport) int { return a.Hosts - b.Hosts })
	return r, nil
}

func loadServer(dir, name string) (*ServerRuns, error) {
	s := &ServerRuns{Name: name}
	var err error
	if s.Facts, err = readTSV(filepath.Join(dir, "facts.tsv")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	writes, _ := filepath.Glob(filepath.Join(dir, "write-*.json"))
	slices.SortFunc(writes, func(a, b string) int { return runNumber(a) - runNumber(b) })
	for _, f := range writes {
		var w WriteResult
		if err := readJSON(f, &w); err != nil {
			return nil, err
		}
		s.Writes = append(s.Writes, &w)
	}
	q := filepath.Join(dir, "query.json")
	if _, err := os.Stat(q); err == nil {
		s.Query = &QueryResult{}
		if err := readJSON(q, s.Query); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// runNumber extracts n from ".../write-n.json" (0 if none).
func runNumber(path string) int {
	base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "write-"), ".json")
	n, _ := strconv.Atoi(base)
	return n
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadResults, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadResults, path, err)
	}
	return nil
}

// readTSV reads key<TAB>value lines; blank lines and lines starting with
// '#' are skipped. A missing file is returned as the os error so that the
// caller can tell it apart.
func readTSV(path string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadResults, err)
	}
	kv, err := ParseTSV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kv, nil
}

// ParseTSV parses key<TAB>value lines (the value runs to the end of the
// line and may hold tabs). Blank lines and lines starting with '#' are
// skipped; a line without a tab is ErrBadResults with its line number.
func ParseTSV(b []byte) ([][2]string, error) {
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: line %d: want key<TAB>value, got %q", ErrBadResults, n, line)
		}
		out = append(out, [2]string{k, v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResults, err)
	}
	return out, nil
}
