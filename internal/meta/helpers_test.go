package meta_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/meta"
)

func ptr[T any](v T) *T { return &v }

const (
	hour = time.Hour
	day  = 24 * time.Hour
	week = 7 * day
)

// mustDate parses an RFC 3339 time.
func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkErr fails unless err matches want: nil wants nil; otherwise
// errors.Is must hold and the text must be want's text.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("err = %v, want nil", err)
	case want != nil && err == nil:
		t.Fatalf("err = nil, want %v", want)
	case want != nil && (err.Error() != want.Error()):
		t.Fatalf("err = %q, want %q", err, want)
	case want != nil && !errors.Is(err, want) && !errors.Is(err, sentinelOf(want)):
		t.Fatalf("errors.Is(%v, %v) = false", err, want)
	}
}

func sentinelOf(err error) error {
	switch err.(type) {
	case *meta.DatabaseNotFoundError:
		return meta.ErrDatabaseNotFound
	case *meta.RetentionPolicyNotFoundError:
		return meta.ErrRetentionPolicyNotFound
	case *meta.InvalidSubscriptionURLError:
		return meta.ErrInvalidSubscriptionURL
	}
	return err
}

// newData returns Data with database db0 whose default policy is autogen.
func newData(t *testing.T) *meta.Data {
	t.Helper()
	d := &meta.Data{}
	if err := d.CreateDatabaseWithRetentionPolicy("db0", &meta.RetentionPolicySpec{}); err != nil {
		t.Fatal(err)
	}
	return d
}

// fullData returns Data in which every field of every type is set, for the
// clone and codec tests.
func fullData(t testing.TB) *meta.Data {
	t0 := mustDate(t, "2024-01-01T00:00:00Z")
	return &meta.Data{
		Version:         7,
		MaxShardGroupID: 12,
		MaxShardID:      34,
		Databases: []meta.DatabaseInfo{{
			Name:                   "db0",
			DefaultRetentionPolicy: "rp0",
			RetentionPolicies: []meta.RetentionPolicyInfo{{
				Name:               "rp0",
				ReplicaN:           2,
				Duration:           30 * day,
				ShardGroupDuration: day,
				FutureWriteLimit:   hour,
				PastWriteLimit:     2 * hour,
				ShardGroups: []meta.ShardGroupInfo{{
					ID:          12,
					StartTime:   t0,
					EndTime:     t0.Add(day),
					DeletedAt:   t0.Add(3 * day),
					TruncatedAt: t0.Add(hour),
					Shards:      []meta.ShardInfo{{ID: 34, Owners: []uint64{1, 2}}},
				}},
				Subscriptions: []meta.SubscriptionInfo{{
					Name: "sub0", Mode: "ANY", Destinations: []string{"udp://h:9000"},
				}},
			}},
			ContinuousQueries: []meta.ContinuousQueryInfo{{Name: "cq0", Query: "SELECT 1"}},
		}},
		Users: []meta.UserInfo{{
			Name: "u0", Hash: "$2a$", Admin: true,
			Privileges: map[string]meta.Privilege{"db0": meta.ReadPrivilege},
		}},
	}
}
