package meta

import (
	"errors"
	"fmt"
)

// Errors whose text InfluxDB 1.x users see (in /query results and in the
// CLI). The wording is 1.x's, pinned by TestErrorTexts; do not edit it.

// Store lifecycle.
var (
	// ErrStoreClosed is returned by Apply and the other mutating methods
	// after Close.
	ErrStoreClosed = errors.New("meta store closed")
)

// Databases.
var (
	// ErrDatabaseNameRequired is returned when creating a database without
	// a name.
	ErrDatabaseNameRequired = errors.New("database name required")

	// ErrDatabaseNotFound matches (errors.Is) every *DatabaseNotFoundError.
	ErrDatabaseNotFound = errors.New("database not found")

	// ErrNameTooLong is returned for a database or retention policy name
	// longer than MaxNameLen bytes: the name becomes a directory name.
	ErrNameTooLong = errors.New("name too long")

	// ErrInvalidName is returned for a database or retention policy name
	// that cannot be a directory name (empty, ".", "..", a slash, a
	// non-printable character).
	ErrInvalidName = errors.New("invalid name")
)

// Retention policies.
var (
	// ErrRetentionPolicyExists is returned when creating a retention policy
	// whose name is taken by a policy with other settings.
	ErrRetentionPolicyExists = errors.New("retention policy already exists")

	// ErrRetentionPolicyNotFound matches (errors.Is) every
	// *RetentionPolicyNotFoundError.
	ErrRetentionPolicyNotFound = errors.New("retention policy not found")

	// ErrRetentionPolicyRequired is returned when a nil policy spec is
	// passed.
	ErrRetentionPolicyRequired = errors.New("retention policy required")

	// ErrRetentionPolicyNameRequired is returned when creating a policy
	// without a name.
	ErrRetentionPolicyNameRequired = errors.New("retention policy name required")

	// ErrRetentionPolicyNameExists is returned when renaming a policy to
	// the name of another policy of the same database.
	ErrRetentionPolicyNameExists = errors.New("retention policy name already exists")

	// ErrRetentionPolicyDurationTooLow is returned for a duration below
	// MinRetentionPolicyDuration (other than 0, which means infinite).
	ErrRetentionPolicyDurationTooLow = fmt.Errorf("retention policy duration must be at least %s", MinRetentionPolicyDuration)

	// ErrRetentionPolicyConflict is returned when CREATE DATABASE ... WITH
	// or CREATE RETENTION POLICY ... DEFAULT disagrees with what exists.
	ErrRetentionPolicyConflict = errors.New("retention policy conflicts with an existing policy")

	// ErrIncompatibleDurations is returned when a policy's duration is
	// shorter than its shard-group duration.
	ErrIncompatibleDurations = errors.New("retention policy duration must be greater than the shard duration")

	// ErrReplicationFactorTooLow is returned for a replication factor < 1.
	ErrReplicationFactorTooLow = errors.New("replication factor must be greater than 0")
)

// Shard groups.
var (
	// ErrShardGroupNotFound is returned when deleting a shard group that
	// does not exist.
	ErrShardGroupNotFound = errors.New("shard group not found")

	// ErrTimeOutOfRange is returned when asked for a shard group at a time
	// that a nanosecond int64 cannot hold.
	ErrTimeOutOfRange = errors.New("time outside range")
)

// Continuous queries.
var (
	// ErrContinuousQueryExists is returned when creating a continuous query
	// whose name is taken by a different query.
	ErrContinuousQueryExists = errors.New("continuous query already exists")

	// ErrContinuousQueryNotFound is 1.x's error for a missing continuous
	// query. DropContinuousQuery does not return it: dropping is idempotent
	// in 1.x (since 1.3); it is kept for callers that look a query up.
	ErrContinuousQueryNotFound = errors.New("continuous query not found")
)

// Subscriptions.
var (
	// ErrSubscriptionExists is returned when creating a subscription whose
	// name is taken.
	ErrSubscriptionExists = errors.New("subscription already exists")

	// ErrSubscriptionNotFound is returned when dropping a subscription that
	// does not exist.
	ErrSubscriptionNotFound = errors.New("subscription not found")

	// ErrInvalidSubscriptionURL matches (errors.Is) every
	// *InvalidSubscriptionURLError.
	ErrInvalidSubscriptionURL = errors.New("invalid subscription URL")
)

// Users.
var (
	// ErrUserExists is returned when creating a user that exists (with
	// another password or admin flag).
	ErrUserExists = errors.New("user already exists")

	// ErrUserNotFound is returned when changing a user that does not exist.
	ErrUserNotFound = errors.New("user not found")

	// ErrUsernameRequired is returned when creating a user without a name.
	ErrUsernameRequired = errors.New("username required")

	// ErrAuthenticate is returned by Authenticate for an unknown user and
	// for a wrong password alike, so that a caller cannot tell which.
	ErrAuthenticate = errors.New("authentication failed")

	// ErrInvalidPrivilege is returned for a Privilege outside the four
	// known values.
	ErrInvalidPrivilege = errors.New("invalid privilege")
)

// Persistence.
var (
	// ErrCorrupt matches (errors.Is) every *CorruptError.
	ErrCorrupt = errors.New("corrupt meta file")
)

// DatabaseNotFoundError names the database an operation needed. Its text
// is 1.x's influxdb.ErrDatabaseNotFound ("database not found: db0"); note
// that /write quotes the name, which is httpd's business.
type DatabaseNotFoundError struct{ Name string }

func (e *DatabaseNotFoundError) Error() string { return "database not found: " + e.Name }

// Is makes errors.Is(err, ErrDatabaseNotFound) true.
func (e *DatabaseNotFoundError) Is(target error) bool { return target == ErrDatabaseNotFound }

// RetentionPolicyNotFoundError names the retention policy an operation
// needed ("retention policy not found: rp0", 1.x's text).
type RetentionPolicyNotFoundError struct{ Name string }

func (e *RetentionPolicyNotFoundError) Error() string {
	return "retention policy not found: " + e.Name
}

// Is makes errors.Is(err, ErrRetentionPolicyNotFound) true.
func (e *RetentionPolicyNotFoundError) Is(target error) bool {
	return target == ErrRetentionPolicyNotFound
}

// InvalidSubscriptionURLError names a destination that is not
// udp://, http:// or https:// with a host and port.
type InvalidSubscriptionURLError struct{ URL string }

func (e *InvalidSubscriptionURLError) Error() string { return "invalid subscription URL: " + e.URL }

// Is makes errors.Is(err, ErrInvalidSubscriptionURL) true.
func (e *InvalidSubscriptionURLError) Is(target error) bool {
	return target == ErrInvalidSubscriptionURL
}

// CorruptError reports a meta file that cannot be decoded: where, and why.
// Path is empty when the bytes did not come from a file.
type CorruptError struct {
	Path   string
	Offset int
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("corrupt meta data at offset %d: %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("corrupt meta file %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
