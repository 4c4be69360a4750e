package meta_test

import (
	"errors"
	"testing"

	"github.com/stratadb/strata/internal/meta"
)

// TestErrorTexts pins the texts InfluxDB 1.x users see (services/meta/
// errors.go and influxdb.ErrDatabaseNotFound/ErrRetentionPolicyNotFound in
// 1.x). Changing one breaks clients that match on them.
func TestErrorTexts(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{meta.ErrDatabaseNameRequired, "database name required"},
		{meta.ErrNameTooLong, "name too long"},
		{meta.ErrInvalidName, "invalid name"},
		{&meta.DatabaseNotFoundError{Name: "db0"}, "database not found: db0"},
		{meta.ErrRetentionPolicyExists, "retention policy already exists"},
		{&meta.RetentionPolicyNotFoundError{Name: "rp0"}, "retention policy not found: rp0"},
		{meta.ErrRetentionPolicyRequired, "retention policy required"},
		{meta.ErrRetentionPolicyNameRequired, "retention policy name required"},
		{meta.ErrRetentionPolicyNameExists, "retention policy name already exists"},
		{meta.ErrRetentionPolicyDurationTooLow, "retention policy duration must be at least 1h0m0s"},
		{meta.ErrRetentionPolicyConflict, "retention policy conflicts with an existing policy"},
		{meta.ErrIncompatibleDurations, "retention policy duration must be greater than the shard duration"},
		{meta.ErrReplicationFactorTooLow, "replication factor must be greater than 0"},
		{meta.ErrShardGroupNotFound, "shard group not found"},
		{meta.ErrContinuousQueryExists, "continuous query already exists"},
		{meta.ErrContinuousQueryNotFound, "continuous query not found"},
		{meta.ErrSubscriptionExists, "subscription already exists"},
		{meta.ErrSubscriptionNotFound, "subscription not found"},
		{&meta.InvalidSubscriptionURLError{URL: "ftp://h:1"}, "invalid subscription URL: ftp://h:1"},
		{meta.ErrUserExists, "user already exists"},
		{meta.ErrUserNotFound, "user not found"},
		{meta.ErrUsernameRequired, "username required"},
		{meta.ErrAuthenticate, "authentication failed"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("error text = %q, want %q", got, tt.want)
		}
	}
}

func TestTypedErrorsMatchSentinels(t *testing.T) {
	tests := []struct {
		err      error
		sentinel error
	}{
		{&meta.DatabaseNotFoundError{Name: "x"}, meta.ErrDatabaseNotFound},
		{&meta.RetentionPolicyNotFoundError{Name: "x"}, meta.ErrRetentionPolicyNotFound},
		{&meta.InvalidSubscriptionURLError{URL: "x"}, meta.ErrInvalidSubscriptionURL},
		{&meta.CorruptError{Path: "p", Offset: 3, Reason: "r"}, meta.ErrCorrupt},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.sentinel) {
			t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.sentinel)
		}
		if errors.Is(tt.err, meta.ErrUserNotFound) {
			t.Errorf("errors.Is(%v, ErrUserNotFound) = true", tt.err)
		}
	}
	ce := &meta.CorruptError{Path: "/d/meta.db", Offset: 12, Reason: "checksum mismatch"}
	if got, want := ce.Error(), "corrupt meta file /d/meta.db at offset 12: checksum mismatch"; got != want {
		t.Fatalf("CorruptError = %q, want %q", got, want)
	}
}

func TestPrivilegeString(t *testing.T) {
	for p, want := range map[meta.Privilege]string{
		meta.NoPrivileges: "NO PRIVILEGES", meta.ReadPrivilege: "READ",
		meta.WritePrivilege: "WRITE", meta.AllPrivileges: "ALL PRIVILEGES", 7: "UNKNOWN",
	} {
		if got := p.String(); got != want {
			t.Errorf("Privilege(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}
