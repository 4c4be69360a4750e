package meta

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

const (
	// DefaultRetentionPolicyName is the policy created with each database
	// when retention-autocreate is on.
	DefaultRetentionPolicyName = "autogen"

	// DefaultRetentionPolicyReplicaN is the replication factor of a policy
	// that does not name one.
	DefaultRetentionPolicyReplicaN = 1

	// DefaultRetentionPolicyDuration is the duration of a policy that does
	// not name one: 0, which means infinite.
	DefaultRetentionPolicyDuration = time.Duration(0)

	// MinRetentionPolicyDuration is the shortest finite policy duration,
	// and the shortest shard-group duration (shorter ones are raised to it).
	MinRetentionPolicyDuration = time.Hour

	// MaxNameLen is the longest database or retention policy name in bytes;
	// names become directory names on disk.
	MaxNameLen = 255
)

// minTime and maxTime bound shard-group times to what an int64 of
// nanoseconds can hold, so that every group survives encoding.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// Data is the whole meta state: a plain value. Mutations are methods that
// validate their input and change the receiver only when they return nil;
// a Store applies them to a clone and installs the clone, so a value that
// was ever published is never written again.
type Data struct {
	// Version is bumped by the Store for every applied change; mutations
	// leave it alone.
	Version   uint64
	Databases []DatabaseInfo
	Users     []UserInfo

	// MaxShardGroupID and MaxShardID are the last ids handed out; ids are
	// never reused, even after a drop.
	MaxShardGroupID uint64
	MaxShardID      uint64
}

// DatabaseInfo describes a database.
type DatabaseInfo struct {
	Name                   string
	DefaultRetentionPolicy string
	RetentionPolicies      []RetentionPolicyInfo
	ContinuousQueries      []ContinuousQueryInfo
}

// RetentionPolicyInfo describes a retention policy. ShardGroups are kept
// sorted by (end, start) time, as 1.x keeps them; deleted groups stay in the
// list (with DeletedAt set) until PruneShardGroups removes them.
type RetentionPolicyInfo struct {
	Name     string
	ReplicaN int
	// Duration is how long data is kept; 0 means forever.
	Duration           time.Duration
	ShardGroupDuration time.Duration
	// FutureWriteLimit and PastWriteLimit reject points further than this
	// from now (0 = no limit), as 1.x's FUTURE LIMIT and PAST LIMIT.
	FutureWriteLimit time.Duration
	PastWriteLimit   time.Duration
	ShardGroups      []ShardGroupInfo
	Subscriptions    []SubscriptionInfo
}

// ShardGroupInfo describes the shards that hold one time window
// [StartTime, EndTime) of a retention policy.
type ShardGroupInfo struct {
	ID        uint64
	StartTime time.Time
	EndTime   time.Time
	// DeletedAt is set when the group was dropped; lookups skip it, and the
	// storage layer may remove its shards.
	DeletedAt time.Time
	// TruncatedAt, when set, ends the group early for writes.
	TruncatedAt time.Time
	Shards      []ShardInfo
}

// ShardInfo describes one shard.
type ShardInfo struct {
	ID uint64
	// Owners are the ids of the data nodes holding the shard; empty on a
	// single node.
	Owners []uint64
}

// ContinuousQueryInfo is a continuous query as it was created.
type ContinuousQueryInfo struct {
	Name  string
	Query string
}

// SubscriptionInfo is a subscription of a retention policy.
type SubscriptionInfo struct {
	Name         string
	Mode         string // "ALL" or "ANY"
	Destinations []string
}

// UserInfo is a user: its bcrypt hash, admin flag and per-database
// privileges.
type UserInfo struct {
	Name       string
	Hash       string
	Admin      bool
	Privileges map[string]Privilege
}

// Privilege is a user's right on a database. The numbering is InfluxQL's.
type Privilege int

// The privileges, in influxql.Privilege's order.
const (
	NoPrivileges Privilege = iota
	ReadPrivilege
	WritePrivilege
	AllPrivileges
)

// String returns the text SHOW GRANTS prints.
func (p Privilege) String() string {
	switch p {
	case NoPrivileges:
		return "NO PRIVILEGES"
	case ReadPrivilege:
		return "READ"
	case WritePrivilege:
		return "WRITE"
	case AllPrivileges:
		return "ALL PRIVILEGES"
	}
	return "UNKNOWN"
}

// Valid reports whether p is one of the four privileges.
func (p Privilege) Valid() bool { return p >= NoPrivileges && p <= AllPrivileges }

// Clone returns a deep copy of d: no slice or map is shared.
func (d *Data) Clone() *Data {
	other := *d
	if d.Databases != nil {
		other.Databases = make([]DatabaseInfo, len(d.Databases))
		for i := range d.Databases {
			other.Databases[i] = d.Databases[i].clone()
		}
	}
	if d.Users != nil {
		other.Users = make([]UserInfo, len(d.Users))
		for i := range d.Users {
			other.Users[i] = d.Users[i].clone()
		}
	}
	return &other
}

func (di DatabaseInfo) clone() DatabaseInfo {
	other := di
	if di.RetentionPolicies != nil {
		other.RetentionPolicies = make([]RetentionPolicyInfo, len(di.RetentionPolicies))
		for i := range di.RetentionPolicies {
			other.RetentionPolicies[i] = di.RetentionPolicies[i].clone()
		}
	}
	other.ContinuousQueries = slices.Clone(di.ContinuousQueries)
	return other
}

func (rpi RetentionPolicyInfo) clone() RetentionPolicyInfo {
	other := rpi
	if rpi.ShardGroups != nil {
		other.ShardGroups = make([]ShardGroupInfo, len(rpi.ShardGroups))
		for i := range rpi.ShardGroups {
			other.ShardGroups[i] = rpi.ShardGroups[i].clone()
		}
	}
	if rpi.Subscriptions != nil {
		other.Subscriptions = make([]SubscriptionInfo, len(rpi.Subscriptions))
		for i := range rpi.Subscriptions {
			s := rpi.Subscriptions[i]
			s.Destinations = slices.Clone(s.Destinations)
			other.Subscriptions[i] = s
		}
	}
	return other
}

func (sgi ShardGroupInfo) clone() ShardGroupInfo {
	other := sgi
	if sgi.Shards != nil {
		other.Shards = make([]ShardInfo, len(sgi.Shards))
		for i := range sgi.Shards {
			other.Shards[i] = ShardInfo{ID: sgi.Shards[i].ID, Owners: slices.Clone(sgi.Shards[i].Owners)}
		}
	}
	return other
}

func (ui UserInfo) clone() UserInfo {
	other := ui
	if ui.Privileges != nil {
		other.Privileges = make(map[string]Privilege, len(ui.Privileges))
		for k, v := range ui.Privileges {
			other.Privileges[k] = v
		}
	}
	return other
}

// Database returns the named database, or nil.
func (d *Data) Database(name string) *DatabaseInfo {
	for i := range d.Databases {
		if d.Databases[i].Name == name {
			return &d.Databases[i]
		}
	}
	return nil
}

// RetentionPolicy returns a policy of db; an empty name means the
// database's default policy. The error is a *DatabaseNotFoundError or a
// *RetentionPolicyNotFoundError.
func (d *Data) RetentionPolicy(db, name string) (*RetentionPolicyInfo, error) {
	di := d.Database(db)
	if di == nil {
		return nil, &DatabaseNotFoundError{Name: db}
	}
	rpi := di.RetentionPolicy(name)
	if rpi == nil {
		if name == "" {
			name = di.DefaultRetentionPolicy
		}
		return nil, &RetentionPolicyNotFoundError{Name: name}
	}
	return rpi, nil
}

// RetentionPolicy returns the named policy, the default one for "", or
// nil.
func (di *DatabaseInfo) RetentionPolicy(name string) *RetentionPolicyInfo {
	if name == "" {
		if di.DefaultRetentionPolicy == "" {
			return nil
		}
		name = di.DefaultRetentionPolicy
	}
	for i := range di.RetentionPolicies {
		if di.RetentionPolicies[i].Name == name {
			return &di.RetentionPolicies[i]
		}
	}
	return nil
}

// ContinuousQuery returns the named continuous query, or nil.
func (di *DatabaseInfo) ContinuousQuery(name string) *ContinuousQueryInfo {
	for i := range di.ContinuousQueries {
		if di.ContinuousQueries[i].Name == name {
			return &di.ContinuousQueries[i]
		}
	}
	return nil
}

// User returns the named user, or nil.
func (d *Data) User(name string) *UserInfo {
	for i := range d.Users {
		if d.Users[i].Name == name {
			return &d.Users[i]
		}
	}
	return nil
}

// AdminUserExists reports whether at least one user is an admin (1.x lets
// every request through while none is, so that the first one can be
// created).
func (d *Data) AdminUserExists() bool {
	for i := range d.Users {
		if d.Users[i].Admin {
			return true
		}
	}
	return false
}

// AuthorizeDatabase reports whether the user holds p on db: admins hold
// everything, ALL covers READ and WRITE, and NoPrivileges is always held.
func (ui *UserInfo) AuthorizeDatabase(p Privilege, db string) bool {
	if ui.Admin || p == NoPrivileges {
		return true
	}
	got, ok := ui.Privileges[db]
	return ok && (got == p || got == AllPrivileges)
}

// ValidName reports whether name can be a database or retention policy
// name: it becomes a directory name, so it must be non-empty, printable,
// not "." or "..", and free of slashes (1.x's meta.ValidName).
func ValidName(name string) bool {
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

func validateName(name string) error {
	if len(name) > MaxNameLen {
		return ErrNameTooLong
	}
	if !ValidName(name) {
		return ErrInvalidName
	}
	return nil
}
