package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stratadb/strata/e2e/harness"
)

// TestDamagedDataFile: a corrupt block is found by `strata inspect verify`
// (non-zero exit naming the file and offset), and a restarted server stays
// up and keeps serving the other databases.
func TestDamagedDataFile(t *testing.T) {
	s := harness.Start(t, harness.Options{})
	createDB(t, s, "bad")
	createDB(t, s, "good")
	var lines []string
	for i := range 2000 {
		lines = append(lines, "cpu,host=h value="+strings.Repeat("1", 1+i%5)+" "+strconv.FormatInt(int64(i+1)*1e9, 10))
	}
	for _, db := range []string{"bad", "good"} {
		if r := s.Write(params("db", db), strings.Join(lines, "\n")); r.Status != 204 {
			t.Fatalf("write %s: %d %s", db, r.Status, r.Body)
		}
	}
	s.Stop() // flushes the caches into data files

	out, errOut, err := harness.RunStrata(t, "inspect", "verify", "-dir", filepath.Join(s.Dir, "data"))
	if err != nil {
		t.Fatalf("verify of a healthy directory failed: %v\n%s\n%s", err, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(s.Dir, "data", "bad", "*", "*", "*.tsm"))
	if len(files) == 0 {
		t.Fatal("no data file was written at shutdown")
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0xff // inside the blocks
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = harness.RunStrata(t, "inspect", "verify", "-dir", filepath.Join(s.Dir, "data"))
	if err == nil {
		t.Fatalf("verify did not fail on a damaged file:\n%s", out)
	}
	if !strings.Contains(out+errOut, files[0]) || !regexp.MustCompile(`offset \d+`).MatchString(out+errOut) {
		t.Fatalf("verify does not name the file and offset:\n%s\n%s", out, errOut)
	}

	s2 := s.Restart(harness.Options{})
	if r := s2.Write(params("db", "good"), "cpu,host=h value=9 99000000000"); r.Status != 204 {
		t.Fatalf("the undamaged database does not take writes: %d %s", r.Status, r.Body)
	}
	s2.Stop()
	if strings.Contains(s2.Log(), "panic") {
		t.Fatalf("panic in the log:\n%s", s2.Log())
	}
}
