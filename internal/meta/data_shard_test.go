package meta_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/meta"
)

// dataWithPolicy returns db0 with policy rp0 of the given shard-group
// duration (infinite retention).
func dataWithPolicy(t *testing.T, sgd time.Duration) *meta.Data {
	t.Helper()
	d := newData(t)
	spec := &meta.RetentionPolicySpec{Name: "rp0", ShardGroupDuration: sgd}
	if err := d.CreateRetentionPolicy("db0", spec, false); err != nil {
		t.Fatal(err)
	}
	return d
}

func setShardDuration(t *testing.T, d *meta.Data, sgd time.Duration) {
	t.Helper()
	if err := d.UpdateRetentionPolicy("db0", "rp0", &meta.RetentionPolicyUpdate{ShardGroupDuration: &sgd}, false); err != nil {
		t.Fatal(err)
	}
}

func createGroup(t *testing.T, d *meta.Data, ts time.Time) *meta.ShardGroupInfo {
	t.Helper()
	if err := d.CreateShardGroup("db0", "rp0", ts); err != nil {
		t.Fatalf("CreateShardGroup(%v): %v", ts, err)
	}
	sg := d.ShardGroupByTimestamp("db0", "rp0", ts)
	if sg == nil {
		t.Fatalf("no group holds %v", ts)
	}
	return sg
}

func TestCreateShardGroupWindows(t *testing.T) {
	tests := []struct {
		name       string
		sgd        time.Duration
		at         string
		start, end string
	}{
		{"hour", hour, "2024-03-05T10:42:13Z", "2024-03-05T10:00:00Z", "2024-03-05T11:00:00Z"},
		{"day", day, "2024-03-05T10:42:13Z", "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z"},
		// 7-day groups start on Mondays, as Go's Truncate (and so 1.x) gives.
		{"week", week, "2024-03-07T10:00:00Z", "2024-03-04T00:00:00Z", "2024-03-11T00:00:00Z"},
		{"on the boundary", hour, "2024-03-05T10:00:00Z", "2024-03-05T10:00:00Z", "2024-03-05T11:00:00Z"},
		{"before 1970", day, "1960-06-01T05:00:00Z", "1960-06-01T00:00:00Z", "1960-06-02T00:00:00Z"},
		{"epoch", hour, "1970-01-01T00:30:00Z", "1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dataWithPolicy(t, tt.sgd)
			sg := createGroup(t, d, mustDate(t, tt.at))
			if !sg.StartTime.Equal(mustDate(t, tt.start)) || !sg.EndTime.Equal(mustDate(t, tt.end)) {
				t.Fatalf("window = [%v, %v), want [%s, %s)", sg.StartTime, sg.EndTime, tt.start, tt.end)
			}
			if sg.ID != 1 || len(sg.Shards) != 1 || sg.Shards[0].ID != 1 || d.MaxShardGroupID != 1 || d.MaxShardID != 1 {
				t.Fatalf("ids: group %+v, max %d/%d", sg, d.MaxShardGroupID, d.MaxShardID)
			}
			if tt.sgd == week && sg.StartTime.Weekday() != time.Monday {
				t.Fatalf("week starts on %v", sg.StartTime.Weekday())
			}
			// Existing: no new group.
			checkErr(t, d.CreateShardGroup("db0", "rp0", sg.EndTime.Add(-1)), nil)
			if d.MaxShardGroupID != 1 {
				t.Fatal("second create made a new group")
			}
		})
	}
}

func TestCreateShardGroupEdges(t *testing.T) {
	d := dataWithPolicy(t, week)
	checkErr(t, d.CreateShardGroup("nodb", "rp0", time.Unix(0, 0)), &meta.DatabaseNotFoundError{Name: "nodb"})
	checkErr(t, d.CreateShardGroup("db0", "nope", time.Unix(0, 0)), &meta.RetentionPolicyNotFoundError{Name: "nope"})
	checkErr(t, d.CreateShardGroup("db0", "rp0", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)), meta.ErrTimeOutOfRange)

	// The extreme nanosecond times get groups clamped to what int64 holds.
	maxT := time.Unix(0, math.MaxInt64-1).UTC()
	sg := createGroup(t, d, maxT)
	if !sg.EndTime.Equal(time.Unix(0, math.MaxInt64)) {
		t.Fatalf("last group ends %v", sg.EndTime)
	}
	minT := time.Unix(0, math.MinInt64+2).UTC()
	sg = createGroup(t, d, minT)
	if !sg.StartTime.Equal(time.Unix(0, math.MinInt64)) {
		t.Fatalf("first group starts %v", sg.StartTime)
	}
	// The empty policy name means the default policy.
	checkErr(t, d.CreateShardGroup("db0", "", time.Unix(0, 0)), nil)
	if len(d.Database("db0").RetentionPolicy("autogen").ShardGroups) != 1 {
		t.Fatal("default policy got no group")
	}
}

// TestCreateShardGroupTrim changes the shard-group duration between writes,
// so that truncated windows overlap existing groups, and checks 1.x's trim.
func TestCreateShardGroupTrim(t *testing.T) {
	d := dataWithPolicy(t, day)
	createGroup(t, d, mustDate(t, "2024-01-01T12:00:00Z")) // [01-01, 01-02)
	setShardDuration(t, d, week)
	sg := createGroup(t, d, mustDate(t, "2024-01-02T12:00:00Z")) // Monday 01-01 + 7d, trimmed
	if !sg.StartTime.Equal(mustDate(t, "2024-01-02T00:00:00Z")) || !sg.EndTime.Equal(mustDate(t, "2024-01-08T00:00:00Z")) {
		t.Fatalf("trimmed start: [%v, %v)", sg.StartTime, sg.EndTime)
	}
	setShardDuration(t, d, day)
	createGroup(t, d, mustDate(t, "2024-01-10T12:00:00Z")) // [01-10, 01-11)
	setShardDuration(t, d, week)
	sg = createGroup(t, d, mustDate(t, "2024-01-09T12:00:00Z")) // [01-08, 01-15) → end trimmed to 01-10
	if !sg.StartTime.Equal(mustDate(t, "2024-01-08T00:00:00Z")) || !sg.EndTime.Equal(mustDate(t, "2024-01-10T00:00:00Z")) {
		t.Fatalf("trimmed end: [%v, %v)", sg.StartTime, sg.EndTime)
	}
	checkNoOverlap(t, d.Database("db0").RetentionPolicy("rp0"))
}

// TestCreateShardGroupNeverOverlaps is a property test: random writes with
// random shard-group durations, deletions and truncations never give two
// live groups that overlap, and each write lands in a group that holds it.
func TestCreateShardGroupNeverOverlaps(t *testing.T) {
	durations := []time.Duration{hour, 3 * hour, day, 2 * day, week, 30 * day}
	base := mustDate(t, "2024-01-01T00:00:00Z")
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		d := dataWithPolicy(t, day)
		for range 200 {
			switch rng.IntN(10) {
			case 0:
				setShardDuration(t, d, durations[rng.IntN(len(durations))])
			case 1:
				rp := d.Database("db0").RetentionPolicy("rp0")
				if len(rp.ShardGroups) > 0 {
					id := rp.ShardGroups[rng.IntN(len(rp.ShardGroups))].ID
					checkErr(t, d.DeleteShardGroupAt("db0", "rp0", id, base), nil)
				}
			case 2:
				d.TruncateShardGroups(base.Add(time.Duration(rng.Int64N(int64(90 * day)))))
			default:
				ts := base.Add(time.Duration(rng.Int64N(int64(90 * day))))
				sg := createGroup(t, d, ts)
				if !sg.Contains(ts) {
					t.Fatalf("seed %d: group [%v, %v) does not hold %v", seed, sg.StartTime, sg.EndTime, ts)
				}
			}
		}
		rp := d.Database("db0").RetentionPolicy("rp0")
		checkNoOverlap(t, rp)
		// The binary search agrees with a plain scan.
		for range 500 {
			ts := base.Add(time.Duration(rng.Int64N(int64(100*day))) - 5*day)
			var want *meta.ShardGroupInfo
			for i := range rp.ShardGroups {
				g := &rp.ShardGroups[i]
				if !g.Deleted() && g.Contains(ts) && (!g.Truncated() || ts.Before(g.TruncatedAt)) {
					want = g
				}
			}
			if got := rp.ShardGroupByTimestamp(ts); got != want {
				t.Fatalf("seed %d: ShardGroupByTimestamp(%v) = %+v, want %+v", seed, ts, got, want)
			}
		}
	}
}

func checkNoOverlap(t *testing.T, rp *meta.RetentionPolicyInfo) {
	t.Helper()
	var live []meta.ShardGroupInfo
	for _, g := range rp.ShardGroups {
		if !g.Deleted() {
			live = append(live, g)
		}
	}
	for i, a := range live {
		if !a.StartTime.Before(a.EndTime) {
			t.Fatalf("empty group %+v", a)
		}
		aEnd := a.EndTime
		if a.Truncated() {
			aEnd = a.TruncatedAt
		}
		for _, b := range live[i+1:] {
			bEnd := b.EndTime
			if b.Truncated() {
				bEnd = b.TruncatedAt
			}
			if a.StartTime.Before(bEnd) && b.StartTime.Before(aEnd) {
				t.Fatalf("groups %d [%v, %v) and %d [%v, %v) overlap", a.ID, a.StartTime, aEnd, b.ID, b.StartTime, bEnd)
			}
		}
	}
	for i := 1; i < len(rp.ShardGroups); i++ {
		if rp.ShardGroups[i].EndTime.Before(rp.ShardGroups[i-1].EndTime) &&
			!rp.ShardGroups[i-1].Truncated() && !rp.ShardGroups[i].Truncated() {
			t.Fatalf("groups out of order at %d", i)
		}
	}
}

func TestDeletedShardGroups(t *testing.T) {
	d := dataWithPolicy(t, day)
	t0 := mustDate(t, "2024-01-01T12:00:00Z")
	at := mustDate(t, "2024-02-01T00:00:00Z")
	sg := createGroup(t, d, t0)
	id := sg.ID

	checkErr(t, d.DeleteShardGroupAt("db0", "rp0", 99, at), meta.ErrShardGroupNotFound)
	checkErr(t, d.DeleteShardGroupAt("db0", "nope", id, at), &meta.RetentionPolicyNotFoundError{Name: "nope"})
	checkErr(t, d.DeleteShardGroupAt("db0", "rp0", id, at), nil)
	checkErr(t, d.DeleteShardGroupAt("db0", "rp0", id, at.Add(hour)), nil) // keeps the first time

	rp := d.Database("db0").RetentionPolicy("rp0")
	if len(rp.ShardGroups) != 1 || !rp.ShardGroups[0].DeletedAt.Equal(at) {
		t.Fatalf("deleted group = %+v", rp.ShardGroups)
	}
	if d.ShardGroupByTimestamp("db0", "rp0", t0) != nil {
		t.Fatal("lookup returned a deleted group")
	}
	groups, err := d.ShardGroupsByTimeRange("db0", "rp0", t0.Add(-week), t0.Add(week))
	if err != nil || len(groups) != 0 {
		t.Fatalf("range = %v, %v", groups, err)
	}
	if db, _, g := d.ShardOwner(sg.Shards[0].ID); db != "" || g != nil {
		t.Fatal("ShardOwner returned a deleted group")
	}
	// A new group may take the deleted one's window.
	sg2 := createGroup(t, d, t0)
	if sg2.ID == id || !sg2.StartTime.Equal(mustDate(t, "2024-01-01T00:00:00Z")) {
		t.Fatalf("recreated group = %+v", sg2)
	}
	id2 := sg2.ID // sg2 points into the slice that pruning rewrites
	if n := d.PruneShardGroups(at); n != 0 {
		t.Fatalf("pruned %d groups deleted at the cut-off", n)
	}
	if n := d.PruneShardGroups(at.Add(time.Nanosecond)); n != 1 {
		t.Fatalf("pruned %d, want 1", n)
	}
	if len(rp.ShardGroups) != 1 || rp.ShardGroups[0].ID != id2 {
		t.Fatalf("groups after prune = %+v", rp.ShardGroups)
	}
}

func TestDropShard(t *testing.T) {
	d := dataWithPolicy(t, day)
	t0 := mustDate(t, "2024-01-01T12:00:00Z")
	sg := createGroup(t, d, t0)
	shardID := sg.Shards[0].ID
	// Give the group a second shard so that dropping one keeps it live.
	rp := d.Database("db0").RetentionPolicy("rp0")
	d.MaxShardID++
	rp.ShardGroups[0].Shards = append(rp.ShardGroups[0].Shards, meta.ShardInfo{ID: d.MaxShardID, Owners: []uint64{1}})
	second := d.MaxShardID

	if db, rpName, g := d.ShardOwner(second); db != "db0" || rpName != "rp0" || g == nil || g.ID != sg.ID {
		t.Fatalf("ShardOwner = %q %q %v", db, rpName, g)
	}
	at := mustDate(t, "2024-03-01T00:00:00Z")
	checkErr(t, d.DropShardAt(shardID, at), nil)
	if g := d.ShardGroupByTimestamp("db0", "rp0", t0); g == nil || len(g.Shards) != 1 || g.Shards[0].ID != second {
		t.Fatalf("group after first drop = %+v", g)
	}
	checkErr(t, d.DropShardAt(shardID, at), nil) // unknown: not an error
	checkErr(t, d.DropShardAt(second, at), nil)
	if !rp.ShardGroups[0].DeletedAt.Equal(at) || len(rp.ShardGroups[0].Shards) != 0 {
		t.Fatalf("emptied group = %+v", rp.ShardGroups[0])
	}
	if d.ShardGroupByTimestamp("db0", "rp0", t0) != nil {
		t.Fatal("emptied group still found")
	}
}

func TestShardGroupsByTimeRange(t *testing.T) {
	d := dataWithPolicy(t, day)
	for _, s := range []string{"2024-01-03T01:00:00Z", "2024-01-01T01:00:00Z", "2024-01-02T01:00:00Z", "2024-01-05T01:00:00Z"} {
		createGroup(t, d, mustDate(t, s))
	}
	tests := []struct {
		min, max string
		want     []string // start days
	}{
		{"2024-01-01T00:00:00Z", "2024-01-10T00:00:00Z", []string{"01", "02", "03", "05"}},
		{"2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z", []string{"02"}},       // inclusive both ends
		{"2023-12-31T00:00:00Z", "2024-01-02T00:00:00Z", []string{"01", "02"}}, // max at a start: included
		{"2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", []string{"02", "03"}}, // min at an end: excluded
		{"2024-01-04T00:00:00Z", "2024-01-04T23:00:00Z", nil},
	}
	for _, tt := range tests {
		groups, err := d.ShardGroupsByTimeRange("db0", "rp0", mustDate(t, tt.min), mustDate(t, tt.max))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range groups {
			got = append(got, g.StartTime.Format("02"))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("[%s, %s] (-want +got):\n%s", tt.min, tt.max, diff)
		}
	}
	_, err := d.ShardGroupsByTimeRange("db0", "nope", time.Time{}, time.Time{})
	checkErr(t, err, &meta.RetentionPolicyNotFoundError{Name: "nope"})
	_, err = d.ShardGroupsByTimeRange("nodb", "rp0", time.Time{}, time.Time{})
	checkErr(t, err, &meta.DatabaseNotFoundError{Name: "nodb"})
}

func TestTruncateShardGroups(t *testing.T) {
	d := dataWithPolicy(t, day)
	past := createGroup(t, d, mustDate(t, "2024-01-01T12:00:00Z")).ID
	current := createGroup(t, d, mustDate(t, "2024-01-02T12:00:00Z")).ID
	future := createGroup(t, d, mustDate(t, "2024-01-03T12:00:00Z")).ID
	cut := mustDate(t, "2024-01-02T06:00:00Z")
	d.TruncateShardGroups(cut)

	rp := d.Database("db0").RetentionPolicy("rp0")
	byID := map[uint64]*meta.ShardGroupInfo{}
	for i := range rp.ShardGroups {
		byID[rp.ShardGroups[i].ID] = &rp.ShardGroups[i]
	}
	if byID[past].Truncated() {
		t.Fatal("past group truncated")
	}
	if !byID[current].TruncatedAt.Equal(cut) {
		t.Fatalf("current group truncated at %v", byID[current].TruncatedAt)
	}
	if !byID[future].TruncatedAt.Equal(byID[future].StartTime) {
		t.Fatalf("future group truncated at %v", byID[future].TruncatedAt)
	}
	// Writes after the cut need new groups, which fit around the old ones.
	if d.ShardGroupByTimestamp("db0", "rp0", cut) != nil {
		t.Fatal("truncated group still takes writes at the cut")
	}
	sg := createGroup(t, d, cut.Add(hour))
	if !sg.StartTime.Equal(cut) || !sg.EndTime.Equal(mustDate(t, "2024-01-03T00:00:00Z")) {
		t.Fatalf("group after truncation = [%v, %v)", sg.StartTime, sg.EndTime)
	}
	checkNoOverlap(t, rp)
}

func TestPrecreateShardGroups(t *testing.T) {
	d := dataWithPolicy(t, hour)
	now := mustDate(t, "2024-01-01T10:40:00Z")
	createGroup(t, d, now) // [10:00, 11:00)

	if n := d.PrecreateShardGroups(now, now.Add(10*time.Minute)); n != 0 {
		t.Fatalf("precreated %d groups too early", n)
	}
	if n := d.PrecreateShardGroups(now, now.Add(30*time.Minute)); n != 1 {
		t.Fatalf("precreated %d groups, want 1", n)
	}
	next := d.ShardGroupByTimestamp("db0", "rp0", mustDate(t, "2024-01-01T11:00:00Z"))
	if next == nil || !next.StartTime.Equal(mustDate(t, "2024-01-01T11:00:00Z")) {
		t.Fatalf("successor = %+v", next)
	}
	if n := d.PrecreateShardGroups(now, now.Add(30*time.Minute)); n != 0 {
		t.Fatalf("precreated %d groups twice", n)
	}
	// A policy whose last group is in the past gets none.
	if n := d.PrecreateShardGroups(now.Add(48*hour), now.Add(49*hour)); n != 0 {
		t.Fatalf("precreated %d groups for the past", n)
	}
}
