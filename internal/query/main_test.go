package query_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The engine starts workers for every query; none may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
