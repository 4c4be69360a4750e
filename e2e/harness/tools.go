package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// StrataBinary returns the path of the strata client/tool binary, built
// once per test process.
func StrataBinary(t testing.TB) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strata-e2e-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "strata")
		cmd := exec.Command("go", "build", "-o", cliPath, "./cmd/strata")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("go build strata: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// Export runs `strata inspect export` over the directory of a stopped
// server and returns the exported data lines (comments dropped), sorted.
func Export(t testing.TB, dir string, args ...string) []string {
	t.Helper()
	out, errOut, err := RunStrata(t, append([]string{"inspect", "export",
		"-dir", filepath.Join(dir, "data"), "-wal-dir", filepath.Join(dir, "wal")}, args...)...)
	if err != nil {
		t.Fatalf("strata inspect export: %v\n%s", err, errOut)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return lines
}

// RunStrata runs the strata binary and returns its stdout and stderr.
func RunStrata(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(StrataBinary(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
