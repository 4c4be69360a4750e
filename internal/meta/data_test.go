package meta_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/meta"
)

func TestCreateDatabase(t *testing.T) {
	tests := []struct {
		name string
		db   string
		want error
	}{
		{"ok", "db0", nil},
		{"unicode", "données", nil},
		{"empty", "", meta.ErrDatabaseNameRequired},
		{"dot", ".", meta.ErrInvalidName},
		{"dotdot", "..", meta.ErrInvalidName},
		{"slash", "a/b", meta.ErrInvalidName},
		{"backslash", `a\b`, meta.ErrInvalidName},
		{"control", "a\x00b", meta.ErrInvalidName},
		{"too long", strings.Repeat("x", meta.MaxNameLen+1), meta.ErrNameTooLong},
		{"longest", strings.Repeat("x", meta.MaxNameLen), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &meta.Data{}
			checkErr(t, d.CreateDatabase(tt.db), tt.want)
			if got := d.Database(tt.db) != nil; got != (tt.want == nil) {
				t.Fatalf("database exists = %v", got)
			}
			if tt.want == nil {
				// Idempotent, and bare: no policy (1.x's Data semantics).
				checkErr(t, d.CreateDatabase(tt.db), nil)
				if len(d.Databases) != 1 || len(d.Databases[0].RetentionPolicies) != 0 {
					t.Fatalf("databases = %+v", d.Databases)
				}
			}
		})
	}
}

func TestCreateDatabaseWithRetentionPolicy(t *testing.T) {
	existing := func(t *testing.T) *meta.Data {
		d := &meta.Data{}
		spec := &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(2 * day), ReplicaN: ptr(1)}
		if err := d.CreateDatabaseWithRetentionPolicy("db0", spec); err != nil {
			t.Fatal(err)
		}
		if err := d.CreateRetentionPolicy("db0", &meta.RetentionPolicySpec{Name: "other"}, false); err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name string
		db   string
		spec *meta.RetentionPolicySpec
		want error
	}{
		{"same spec is idempotent", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(2 * day), ReplicaN: ptr(1)}, nil},
		{"subset of spec is idempotent", "db0", &meta.RetentionPolicySpec{Name: "rp0"}, nil},
		{"same shard duration is idempotent", "db0", &meta.RetentionPolicySpec{Name: "rp0", ShardGroupDuration: day}, nil},
		{"other duration conflicts", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day)}, meta.ErrRetentionPolicyConflict},
		{"other replication conflicts", "db0", &meta.RetentionPolicySpec{Name: "rp0", ReplicaN: ptr(2)}, meta.ErrRetentionPolicyConflict},
		{"other shard duration conflicts", "db0", &meta.RetentionPolicySpec{Name: "rp0", ShardGroupDuration: 2 * hour}, meta.ErrRetentionPolicyConflict},
		{"other limit conflicts", "db0", &meta.RetentionPolicySpec{Name: "rp0", PastWriteLimit: ptr(hour)}, meta.ErrRetentionPolicyConflict},
		{"unknown policy conflicts", "db0", &meta.RetentionPolicySpec{Name: "rp9"}, meta.ErrRetentionPolicyConflict},
		{"existing non-default policy conflicts", "db0", &meta.RetentionPolicySpec{Name: "other"}, meta.ErrRetentionPolicyConflict},
		{"duration too low", "db1", &meta.RetentionPolicySpec{Duration: ptr(30 * time.Minute)}, meta.ErrRetentionPolicyDurationTooLow},
		{"duration below shard duration", "db1", &meta.RetentionPolicySpec{Duration: ptr(2 * hour), ShardGroupDuration: 3 * hour}, meta.ErrIncompatibleDurations},
		{"replication 0", "db1", &meta.RetentionPolicySpec{ReplicaN: ptr(0)}, meta.ErrReplicationFactorTooLow},
		{"bad policy name", "db1", &meta.RetentionPolicySpec{Name: "a/b"}, meta.ErrInvalidName},
		{"bad database name", "..", &meta.RetentionPolicySpec{}, meta.ErrInvalidName},
		{"empty database name", "", &meta.RetentionPolicySpec{}, meta.ErrDatabaseNameRequired},
		{"nil spec", "db1", nil, meta.ErrRetentionPolicyRequired},
		{"new database", "db1", &meta.RetentionPolicySpec{Name: "rp1", Duration: ptr(day)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := existing(t)
			before := d.Clone()
			err := d.CreateDatabaseWithRetentionPolicy(tt.db, tt.spec)
			checkErr(t, err, tt.want)
			if err != nil || tt.db == "db0" {
				if diff := cmp.Diff(before, d); diff != "" {
					t.Fatalf("data changed (-before +after):\n%s", diff)
				}
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		d := &meta.Data{}
		checkErr(t, d.CreateDatabaseWithRetentionPolicy("db0", &meta.RetentionPolicySpec{Duration: ptr(day)}), nil)
		di := d.Database("db0")
		want := meta.RetentionPolicyInfo{Name: "autogen", ReplicaN: 1, Duration: day, ShardGroupDuration: hour}
		if di.DefaultRetentionPolicy != "autogen" || len(di.RetentionPolicies) != 1 {
			t.Fatalf("database = %+v", di)
		}
		if diff := cmp.Diff(want, di.RetentionPolicies[0]); diff != "" {
			t.Fatalf("policy (-want +got):\n%s", diff)
		}
	})
	t.Run("bare database gets the policy", func(t *testing.T) {
		d := &meta.Data{}
		checkErr(t, d.CreateDatabase("db0"), nil)
		checkErr(t, d.CreateDatabaseWithRetentionPolicy("db0", &meta.RetentionPolicySpec{Name: "rp0"}), nil)
		if d.Database("db0").DefaultRetentionPolicy != "rp0" {
			t.Fatalf("default = %q", d.Database("db0").DefaultRetentionPolicy)
		}
	})
}

func TestDropDatabase(t *testing.T) {
	d := newData(t)
	checkErr(t, d.CreateDatabase("db1"), nil)
	checkErr(t, d.CreateUser("u", "h", false), nil)
	checkErr(t, d.SetPrivilege("u", "db0", meta.ReadPrivilege), nil)
	checkErr(t, d.SetPrivilege("u", "db1", meta.WritePrivilege), nil)

	checkErr(t, d.DropDatabase("db0"), nil)
	if d.Database("db0") != nil || d.Database("db1") == nil {
		t.Fatalf("databases = %+v", d.Databases)
	}
	if diff := cmp.Diff(map[string]meta.Privilege{"db1": meta.WritePrivilege}, d.User("u").Privileges); diff != "" {
		t.Fatalf("privileges (-want +got):\n%s", diff)
	}
	checkErr(t, d.DropDatabase("db0"), nil) // absent: not an error
}

func TestShardGroupDurationDefaults(t *testing.T) {
	tests := []struct {
		duration, want time.Duration
	}{
		{0, week},
		{hour, hour},
		{2*day - time.Nanosecond, hour},
		{2 * day, day},
		{179 * day, day},
		{180 * day, week},
		{365 * day, week},
	}
	for _, tt := range tests {
		if got := meta.ShardGroupDurationFor(tt.duration); got != tt.want {
			t.Errorf("ShardGroupDurationFor(%v) = %v, want %v", tt.duration, got, tt.want)
		}
		d := newData(t)
		spec := &meta.RetentionPolicySpec{Name: "rp", Duration: ptr(tt.duration)}
		if tt.duration != 0 && tt.duration < hour {
			continue
		}
		checkErr(t, d.CreateRetentionPolicy("db0", spec, false), nil)
		if got := d.Database("db0").RetentionPolicy("rp").ShardGroupDuration; got != tt.want {
			t.Errorf("policy of %v: shard group duration %v, want %v", tt.duration, got, tt.want)
		}
	}
	// An explicit shard duration under 1h is raised to 1h.
	if got := meta.NormalisedShardDuration(time.Minute, day); got != hour {
		t.Errorf("NormalisedShardDuration(1m) = %v, want 1h", got)
	}
	if got := meta.NormalisedShardDuration(3*hour, day); got != 3*hour {
		t.Errorf("NormalisedShardDuration(3h) = %v, want 3h", got)
	}
}

func TestCreateRetentionPolicy(t *testing.T) {
	base := &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day), ReplicaN: ptr(1), ShardGroupDuration: day}
	tests := []struct {
		name        string
		db          string
		spec        *meta.RetentionPolicySpec
		makeDefault bool
		want        error
	}{
		{"same again", "db0", base, false, nil},
		{"same, default already", "db0", &meta.RetentionPolicySpec{Name: "autogen"}, true, nil},
		{"same, make default", "db0", base, true, meta.ErrRetentionPolicyConflict},
		{"other duration", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(4 * day), ReplicaN: ptr(1), ShardGroupDuration: day}, false, meta.ErrRetentionPolicyExists},
		{"other replication", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day), ReplicaN: ptr(3), ShardGroupDuration: day}, false, meta.ErrRetentionPolicyExists},
		{"other shard duration", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day), ReplicaN: ptr(1)}, false, nil}, // 3d → derived 1d: the same
		{"other shard duration 2", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day), ShardGroupDuration: 2 * hour}, false, meta.ErrRetentionPolicyExists},
		{"other future limit", "db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day), ShardGroupDuration: day, FutureWriteLimit: ptr(hour)}, false, meta.ErrRetentionPolicyExists},
		{"nil", "db0", nil, false, meta.ErrRetentionPolicyRequired},
		{"no name", "db0", &meta.RetentionPolicySpec{}, false, meta.ErrRetentionPolicyNameRequired},
		{"bad name", "db0", &meta.RetentionPolicySpec{Name: ".."}, false, meta.ErrInvalidName},
		{"long name", "db0", &meta.RetentionPolicySpec{Name: strings.Repeat("r", 256)}, false, meta.ErrNameTooLong},
		{"replication 0", "db0", &meta.RetentionPolicySpec{Name: "rp1", ReplicaN: ptr(0)}, false, meta.ErrReplicationFactorTooLow},
		{"duration 59m", "db0", &meta.RetentionPolicySpec{Name: "rp1", Duration: ptr(59 * time.Minute)}, false, meta.ErrRetentionPolicyDurationTooLow},
		{"duration 1h", "db0", &meta.RetentionPolicySpec{Name: "rp1", Duration: ptr(hour)}, false, nil},
		{"duration below shard duration", "db0", &meta.RetentionPolicySpec{Name: "rp1", Duration: ptr(hour), ShardGroupDuration: 2 * hour}, false, meta.ErrIncompatibleDurations},
		{"infinite, long shards", "db0", &meta.RetentionPolicySpec{Name: "rp1", Duration: ptr(time.Duration(0)), ShardGroupDuration: 520 * week}, false, nil},
		{"no database", "nodb", &meta.RetentionPolicySpec{Name: "rp1"}, false, &meta.DatabaseNotFoundError{Name: "nodb"}},
		{"new default", "db0", &meta.RetentionPolicySpec{Name: "rp1"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newData(t)
			checkErr(t, d.CreateRetentionPolicy("db0", base, false), nil)
			before := d.Clone()
			err := d.CreateRetentionPolicy(tt.db, tt.spec, tt.makeDefault)
			checkErr(t, err, tt.want)
			if err != nil {
				if diff := cmp.Diff(before, d); diff != "" {
					t.Fatalf("failed create changed data:\n%s", diff)
				}
				return
			}
			di := d.Database(tt.db)
			if di.RetentionPolicy(tt.spec.Name) == nil {
				t.Fatalf("policy %q missing", tt.spec.Name)
			}
			if tt.makeDefault && di.DefaultRetentionPolicy != tt.spec.Name {
				t.Fatalf("default = %q, want %q", di.DefaultRetentionPolicy, tt.spec.Name)
			}
			if !tt.makeDefault && tt.spec.Name != "autogen" && di.DefaultRetentionPolicy != "autogen" {
				t.Fatalf("default changed to %q", di.DefaultRetentionPolicy)
			}
		})
	}
}

func TestUpdateRetentionPolicy(t *testing.T) {
	tests := []struct {
		name        string
		db, rp      string
		upd         meta.RetentionPolicyUpdate
		makeDefault bool
		want        error
		check       func(t *testing.T, di *meta.DatabaseInfo)
	}{
		{name: "no database", db: "nodb", rp: "rp0", want: &meta.DatabaseNotFoundError{Name: "nodb"}},
		{name: "no policy", db: "db0", rp: "nope", want: &meta.RetentionPolicyNotFoundError{Name: "nope"}},
		{name: "rename onto existing", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Name: ptr("autogen")}, want: meta.ErrRetentionPolicyNameExists},
		{name: "rename invalid", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Name: ptr("a/b")}, want: meta.ErrInvalidName},
		{name: "duration too low", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Duration: ptr(time.Minute)}, want: meta.ErrRetentionPolicyDurationTooLow},
		{name: "replication 0", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{ReplicaN: ptr(0)}, want: meta.ErrReplicationFactorTooLow},
		{name: "duration below current shard duration", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Duration: ptr(12 * hour)}, want: meta.ErrIncompatibleDurations},
		{name: "duration below new shard duration", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Duration: ptr(2 * day), ShardGroupDuration: ptr(3 * day)}, want: meta.ErrIncompatibleDurations},
		{name: "shard duration above current duration", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{ShardGroupDuration: ptr(4 * day)}, want: meta.ErrIncompatibleDurations},
		{
			name: "duration keeps shard duration", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Duration: ptr(30 * day)},
			check: func(t *testing.T, di *meta.DatabaseInfo) {
				rp := di.RetentionPolicy("rp0")
				if rp.Duration != 30*day || rp.ShardGroupDuration != day {
					t.Fatalf("policy = %+v", rp)
				}
			},
		},
		{
			name: "infinite duration", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{Duration: ptr(time.Duration(0)), ShardGroupDuration: ptr(30 * day)},
			check: func(t *testing.T, di *meta.DatabaseInfo) {
				rp := di.RetentionPolicy("rp0")
				if rp.Duration != 0 || rp.ShardGroupDuration != 30*day {
					t.Fatalf("policy = %+v", rp)
				}
			},
		},
		{
			name: "short shard duration normalised", db: "db0", rp: "rp0", upd: meta.RetentionPolicyUpdate{ShardGroupDuration: ptr(time.Minute)},
			check: func(t *testing.T, di *meta.DatabaseInfo) {
				if got := di.RetentionPolicy("rp0").ShardGroupDuration; got != hour {
					t.Fatalf("shard duration = %v", got)
				}
			},
		},
		{
			name: "all fields and default", db: "db0", rp: "rp0", makeDefault: true,
			upd: meta.RetentionPolicyUpdate{Name: ptr("rp9"), Duration: ptr(10 * day), ReplicaN: ptr(3),
				ShardGroupDuration: ptr(2 * day), FutureWriteLimit: ptr(hour), PastWriteLimit: ptr(2 * hour)},
			check: func(t *testing.T, di *meta.DatabaseInfo) {
				want := meta.RetentionPolicyInfo{Name: "rp9", ReplicaN: 3, Duration: 10 * day,
					ShardGroupDuration: 2 * day, FutureWriteLimit: hour, PastWriteLimit: 2 * hour}
				if diff := cmp.Diff(&want, di.RetentionPolicy("rp9")); diff != "" {
					t.Fatalf("policy (-want +got):\n%s", diff)
				}
				if di.DefaultRetentionPolicy != "rp9" || di.RetentionPolicy("rp0") != nil {
					t.Fatalf("database = %+v", di)
				}
			},
		},
		{
			name: "renaming the default moves the default", db: "db0", rp: "autogen", upd: meta.RetentionPolicyUpdate{Name: ptr("forever")},
			check: func(t *testing.T, di *meta.DatabaseInfo) {
				if di.DefaultRetentionPolicy != "forever" {
					t.Fatalf("default = %q", di.DefaultRetentionPolicy)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newData(t)
			checkErr(t, d.CreateRetentionPolicy("db0", &meta.RetentionPolicySpec{Name: "rp0", Duration: ptr(3 * day)}, false), nil)
			before := d.Clone()
			err := d.UpdateRetentionPolicy(tt.db, tt.rp, &tt.upd, tt.makeDefault)
			checkErr(t, err, tt.want)
			if err != nil {
				if diff := cmp.Diff(before, d); diff != "" {
					t.Fatalf("failed update changed data:\n%s", diff)
				}
				return
			}
			tt.check(t, d.Database("db0"))
		})
	}
}

func TestDropAndDefaultRetentionPolicy(t *testing.T) {
	d := newData(t)
	checkErr(t, d.CreateRetentionPolicy("db0", &meta.RetentionPolicySpec{Name: "rp0"}, false), nil)
	checkErr(t, d.SetDefaultRetentionPolicy("db0", "rp0"), nil)
	if got := d.Database("db0").DefaultRetentionPolicy; got != "rp0" {
		t.Fatalf("default = %q", got)
	}
	checkErr(t, d.SetDefaultRetentionPolicy("db0", "nope"), &meta.RetentionPolicyNotFoundError{Name: "nope"})
	checkErr(t, d.SetDefaultRetentionPolicy("nodb", "rp0"), &meta.DatabaseNotFoundError{Name: "nodb"})

	checkErr(t, d.DropRetentionPolicy("db0", "rp0"), nil)
	checkErr(t, d.DropRetentionPolicy("db0", "rp0"), nil)  // absent: not an error
	checkErr(t, d.DropRetentionPolicy("nodb", "rp0"), nil) // no database: not an error
	if d.Database("db0").RetentionPolicy("rp0") != nil {
		t.Fatal("rp0 still there")
	}
	// As in 1.x the default keeps naming the dropped policy, so writes
	// without rp fail instead of landing elsewhere.
	_, err := d.RetentionPolicy("db0", "")
	checkErr(t, err, &meta.RetentionPolicyNotFoundError{Name: "rp0"})
	_, err = d.RetentionPolicy("nodb", "")
	checkErr(t, err, &meta.DatabaseNotFoundError{Name: "nodb"})
	rp, err := d.RetentionPolicy("db0", "autogen")
	if err != nil || rp.Name != "autogen" {
		t.Fatalf("RetentionPolicy(autogen) = %v, %v", rp, err)
	}
}
