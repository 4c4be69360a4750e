package meta_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/vfs"
)

const crashChildEnv = "STRATA_META_CRASH_CHILD_DIR"

// TestCrashChild is the child of TestStoreKill9: it applies changes as fast
// as it can and prints the number of each one Apply acknowledged.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("only runs as TestStoreKill9's child")
	}
	s, err := meta.Open(vfs.OS{}, dir, testOptions())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		if _, err := s.CreateDatabase(fmt.Sprintf("db%d", i)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ok", i)
	}
}

// TestStoreKill9 kills a process with SIGKILL while it is changing the
// store, several times at random moments, and checks that the file always
// opens and holds every acknowledged change and nothing half-made.
func TestStoreKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	acked := -1
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killAfter := 5 + 7*round // acknowledged changes this round
		seen := 0
		deadline := time.Now().Add(30 * time.Second)
		for sc.Scan() && time.Now().Before(deadline) {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
			n, ok := strings.CutPrefix(line, "ok ")
			if !ok {
				continue
			}
			i, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("child printed %q", line)
			}
			acked = max(acked, i)
			if seen++; seen == killAfter {
				cmd.Process.Kill()
				break
			}
		}
		cmd.Wait()
		if seen < killAfter {
			t.Fatalf("round %d: child acknowledged %d changes before dying", round, seen)
		}

		d := reopen(t, dir)
		// Every acknowledged database is there, databases are a gap-free
		// prefix db0..dbN, and the version counts them.
		if len(d.Databases) <= acked {
			t.Fatalf("round %d: %d databases on disk, %d acknowledged", round, len(d.Databases), acked+1)
		}
		for i, di := range d.Databases {
			if di.Name != fmt.Sprintf("db%d", i) || di.DefaultRetentionPolicy != "autogen" || len(di.RetentionPolicies) != 1 {
				t.Fatalf("round %d: database %d = %+v", round, i, di)
			}
		}
		if d.Version != uint64(len(d.Databases)) {
			t.Fatalf("round %d: version %d for %d databases", round, d.Version, len(d.Databases))
		}
		acked = len(d.Databases) - 1 // the child resumes after what is on disk
	}
}
