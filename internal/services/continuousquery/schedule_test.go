package continuousquery

import (
	"fmt"
	"testing"
	"time"
)

func mustCQ(t testing.TB, text string) *cq {
	t.Helper()
	q, err := parseCQ("db0", "cq", text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	return q
}

// at is 2026-01-05 (a Monday) at hh:mm:ss UTC.
func at(hh, mm, ss int) time.Time { return time.Date(2026, 1, 5, hh, mm, ss, 0, time.UTC) }

// run is one scheduling pass: what ran, and over what.
type run struct {
	now        time.Time
	start, end time.Time // zero: due but empty, or not due
	due        bool
}

// simulate runs the scheduler at each time and returns what each pass
// did, as the service would.
func simulate(q *cq, times []time.Time) []run {
	var last time.Time
	has := false
	var out []run
	for _, now := range times {
		due, next := q.shouldRun(last, has, now)
		r := run{now: now, due: due}
		if due {
			last, has = q.lastRunAt(now), true
			if s, e, ok := q.window(next, now); ok {
				r.start, r.end = s, e
			}
		}
		out = append(out, r)
	}
	return out
}

func fmtRun(r run) string {
	switch {
	case !r.due:
		return "-"
	case r.start.IsZero():
		return "empty"
	}
	return r.start.UTC().Format("15:04") + "-" + r.end.UTC().Format("15:04")
}

// TestScheduleDocumentedExamples checks the windows of the examples of
// 1.x's continuous query documentation: which runs happen at which times
// (a tick half a second after each boundary) and what they cover. The
// first pass runs at once; with RESAMPLE its window is not empty.
func TestScheduleDocumentedExamples(t *testing.T) {
	ticks := func(from time.Time, step time.Duration, n int) []time.Time {
		var ts []time.Time
		for i := range n {
			ts = append(ts, from.Add(time.Duration(i)*step+500*time.Millisecond))
		}
		return ts
	}
	const sel = "SELECT mean(v) INTO db0.autogen.m FROM db0.autogen.cpu GROUP BY "
	tests := []struct {
		name  string
		query string
		times []time.Time
		want  []string
	}{{
		name:  "basic: each hour covers the hour before",
		query: "CREATE CONTINUOUS QUERY cq ON db0 BEGIN " + sel + "time(1h) END",
		times: ticks(at(7, 30, 0), 30*time.Minute, 6), // 7:30 (first) 8:00 8:30 9:00 9:30 10:00
		want:  []string{"empty", "07:00-08:00", "-", "08:00-09:00", "-", "09:00-10:00"},
	}, {
		name:  "offset 15m shifts runs and windows",
		query: "CREATE CONTINUOUS QUERY cq ON db0 BEGIN " + sel + "time(1h, 15m) END",
		times: ticks(at(7, 45, 0), 15*time.Minute, 7), // 7:45 8:00 8:15 8:30 8:45 9:00 9:15
		want:  []string{"empty", "-", "07:15-08:15", "-", "-", "-", "08:15-09:15"},
	}, {
		name:  "EVERY 30m re-runs the current hour",
		query: "CREATE CONTINUOUS QUERY cq ON db0 RESAMPLE EVERY 30m BEGIN " + sel + "time(1h) END",
		times: ticks(at(7, 45, 0), 15*time.Minute, 6), // 7:45 8:00 8:15 8:30 8:45 9:00
		want:  []string{"07:00-08:00", "07:00-08:00", "-", "08:00-09:00", "-", "08:00-09:00"},
	}, {
		name:  "FOR 1h over 30m intervals recomputes two of them",
		query: "CREATE CONTINUOUS QUERY cq ON db0 RESAMPLE FOR 1h BEGIN " + sel + "time(30m) END",
		times: ticks(at(7, 45, 0), 15*time.Minute, 4), // 7:45 8:00 8:15 8:30
		want:  []string{"07:00-07:30", "07:00-08:00", "-", "07:30-08:30"},
	}, {
		name:  "EVERY 1h FOR 90m over 30m intervals",
		query: "CREATE CONTINUOUS QUERY cq ON db0 RESAMPLE EVERY 1h FOR 90m BEGIN " + sel + "time(30m) END",
		times: ticks(at(7, 30, 0), 30*time.Minute, 4), // 7:30 8:00 8:30 9:00
		want:  []string{"06:30-07:30", "06:30-08:00", "-", "07:30-09:00"},
	}, {
		name:  "EVERY 2h without FOR covers both hours",
		query: "CREATE CONTINUOUS QUERY cq ON db0 RESAMPLE EVERY 2h BEGIN " + sel + "time(1h) END",
		times: ticks(at(6, 30, 0), 30*time.Minute, 8), // 6:30 ... 10:00
		want:  []string{"05:00-06:00", "-", "-", "06:00-08:00", "-", "-", "-", "08:00-10:00"},
	}, {
		name:  "a stalled service covers the runs it missed",
		query: "CREATE CONTINUOUS QUERY cq ON db0 BEGIN " + sel + "time(1h) END",
		times: []time.Time{at(7, 30, 0), at(8, 0, 1), at(11, 20, 0)},
		want:  []string{"empty", "07:00-08:00", "08:00-11:00"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := mustCQ(t, tt.query)
			got := simulate(q, tt.times)
			if len(got) != len(tt.want) {
				t.Fatalf("%d runs, want %d", len(got), len(tt.want))
			}
			for i, r := range got {
				if s := fmtRun(r); s != tt.want[i] {
					t.Errorf("at %s: %s, want %s", r.now.Format("15:04:05"), s, tt.want[i])
				}
			}
		})
	}
}

// TestScheduleTimeZone checks that with tz() daily windows start at local
// midnight, across a daylight-saving change (2026-03-08 in Chicago: days
// of 24h, then 23h).
func TestScheduleTimeZone(t *testing.T) {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	q := mustCQ(t, "CREATE CONTINUOUS QUERY cq ON db0 BEGIN SELECT mean(v) INTO db0.autogen.m FROM db0.autogen.cpu GROUP BY time(1d) tz('America/Chicago') END")
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, loc) }
	var times []time.Time
	for d := 6; d <= 10; d++ {
		times = append(times, day(d).Add(time.Second))
	}
	got := simulate(q, times)
	for i, r := range got[1:] {
		wantStart, wantEnd := day(6+i), day(7+i)
		if !r.start.Equal(wantStart) || !r.end.Equal(wantEnd) {
			t.Errorf("run at %s: [%s, %s), want [%s, %s)", r.now, r.start, r.end, wantStart, wantEnd)
		}
	}
}

// TestScheduleProperties runs random schedules for a long simulated time
// with an irregular tick and checks what 1.x guarantees: windows start and
// end on interval boundaries, never reach into an interval that has not
// ended (except with EVERY shorter than the interval, which re-runs the
// current one), and together leave no interval uncovered.
func TestScheduleProperties(t *testing.T) {
	intervals := []string{"1m", "5m", "10m", "1h"}
	for i := range 200 {
		iv := intervals[i%len(intervals)]
		ivd, _ := time.ParseDuration(iv)
		offset := time.Duration(i*7%5) * ivd / 5
		every := []time.Duration{0, ivd / 2, ivd, 2 * ivd, 3 * ivd}[i%5]
		forDur := []time.Duration{0, ivd, 2 * ivd, 4 * ivd}[i/5%4]
		if forDur != 0 && forDur < max(every, ivd) {
			forDur = 0 // the parser refuses it
		}
		resample := ""
		if every > 0 || forDur > 0 {
			resample = "RESAMPLE "
			if every > 0 {
				resample += "EVERY " + every.String() + " "
			}
			if forDur > 0 {
				resample += "FOR " + forDur.String() + " "
			}
		}
		text := fmt.Sprintf("CREATE CONTINUOUS QUERY cq ON db0 %sBEGIN SELECT count(v) INTO db0.autogen.m FROM db0.autogen.cpu GROUP BY time(%s, %s) END", resample, iv, offset)
		q := mustCQ(t, text)
		var times []time.Time
		now := at(0, 0, 0).Add(time.Duration(i) * 13 * time.Second)
		for k := range 2000 {
			// Irregular ticks, a few dozen per interval.
			now = now.Add(q.interval/37*time.Duration(1+(k*7+i)%5) + time.Duration(k%3)*300*time.Millisecond)
			times = append(times, now)
		}
		covered := map[int64]bool{}
		var first time.Time
		for _, r := range simulate(q, times) {
			if r.start.IsZero() {
				continue
			}
			if first.IsZero() {
				first = r.start
			}
			for _, b := range []time.Time{r.start, r.end} {
				if (b.UnixNano()-int64(q.offset))%int64(q.interval) != 0 {
					t.Fatalf("%s: boundary %s not aligned", text, b)
				}
			}
			if q.every >= q.interval && r.end.After(r.now) {
				t.Fatalf("%s: run at %s covers up to %s", text, r.now, r.end)
			}
			for b := r.start; b.Before(r.end); b = b.Add(q.interval) {
				covered[b.UnixNano()] = true
			}
		}
		if first.IsZero() {
			t.Fatalf("%s: never ran", text)
		}
		lastEnd := truncate(times[len(times)-1].Add(-q.offset), q.interval).Add(q.offset).Add(-q.every)
		for b := first; b.Before(lastEnd); b = b.Add(q.interval) {
			if !covered[b.UnixNano()] {
				t.Fatalf("%s: interval %s never computed", text, b)
			}
		}
	}
}

func TestParseCQErrors(t *testing.T) {
	for _, text := range []string{
		"",
		"SELECT mean(v) FROM cpu GROUP BY time(1h)",
		"CREATE DATABASE db0",
		"CREATE CONTINUOUS QUERY cq ON db0 BEGIN SELECT mean(v) INTO m FROM cpu",
	} {
		if _, err := parseCQ("db0", "cq", text); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
	q := mustCQ(t, "CREATE CONTINUOUS QUERY cq ON db0 BEGIN SELECT v INTO m FROM cpu GROUP BY time(1h) END")
	if !q.raw {
		t.Fatal("a query without aggregate is not marked raw")
	}
}
