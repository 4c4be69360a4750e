package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// The writer and the query runner start goroutines; none may outlive a run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
