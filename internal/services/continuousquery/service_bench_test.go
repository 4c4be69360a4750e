package continuousquery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/meta"
	cqs "github.com/stratadb/strata/internal/services/continuousquery"
	"github.com/stratadb/strata/internal/vfs"
)

// BenchmarkRunAtIdle is the cost of one pass (one run-interval tick) over
// 1000 continuous queries none of which is due: what the service costs
// between runs. SetBytes counts queries, so MB/s reads as million queries
// checked per second.
func BenchmarkRunAtIdle(b *testing.B) {
	m, err := meta.Open(vfs.Default, b.TempDir(), meta.Options{RetentionAutoCreate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if _, err := m.CreateDatabase("db0"); err != nil {
		b.Fatal(err)
	}
	if err := m.Apply(func(d *meta.Data) error {
		for i := range 1000 {
			name := fmt.Sprintf("q%d", i)
			if err := d.CreateContinuousQuery("db0", name, cqText(name, "", "time(1h)")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	s := cqs.New(cqs.Config{Enabled: true, RunInterval: time.Second}, m, &fakeExec{}, cqs.Options{})
	ctx := context.Background()
	s.RunAt(ctx, at(7, 30, 0)) // first pass: every query runs (empty windows)
	now := at(7, 30, 1)
	b.SetBytes(1000)
	b.ReportAllocs()
	for b.Loop() {
		s.RunAt(ctx, now)
	}
}
