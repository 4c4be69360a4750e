package coordinator_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// executor starts one per query, which must end once its results are
// read or its context ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
