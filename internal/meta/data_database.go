package meta

import "time"

// RetentionPolicySpec is a retention policy as a statement asks for it:
// nil or zero fields take the defaults (replication 1, infinite duration,
// shard-group duration derived from the duration, no write limits).
type RetentionPolicySpec struct {
	Name               string
	ReplicaN           *int
	Duration           *time.Duration
	ShardGroupDuration time.Duration
	FutureWriteLimit   *time.Duration
	PastWriteLimit     *time.Duration
}

// RetentionPolicyUpdate lists the fields ALTER RETENTION POLICY changes;
// nil fields stay as they are.
type RetentionPolicyUpdate struct {
	Name               *string
	Duration           *time.Duration
	ReplicaN           *int
	ShardGroupDuration *time.Duration
	FutureWriteLimit   *time.Duration
	PastWriteLimit     *time.Duration
}

// DefaultRetentionPolicyInfo returns the policy created with each database:
// autogen, replication 1, infinite, 7-day shard groups.
func DefaultRetentionPolicyInfo() *RetentionPolicyInfo {
	return &RetentionPolicyInfo{
		Name:               DefaultRetentionPolicyName,
		ReplicaN:           DefaultRetentionPolicyReplicaN,
		Duration:           DefaultRetentionPolicyDuration,
		ShardGroupDuration: ShardGroupDurationFor(DefaultRetentionPolicyDuration),
	}
}

// NewRetentionPolicyInfo returns the policy the spec describes, with the
// defaults filled in and the shard-group duration normalised.
func (s *RetentionPolicySpec) NewRetentionPolicyInfo() *RetentionPolicyInfo {
	rp := DefaultRetentionPolicyInfo()
	if s.Name != "" {
		rp.Name = s.Name
	}
	if s.ReplicaN != nil {
		rp.ReplicaN = *s.ReplicaN
	}
	if s.Duration != nil {
		rp.Duration = *s.Duration
	}
	if s.FutureWriteLimit != nil {
		rp.FutureWriteLimit = *s.FutureWriteLimit
	}
	if s.PastWriteLimit != nil {
		rp.PastWriteLimit = *s.PastWriteLimit
	}
	rp.ShardGroupDuration = NormalisedShardDuration(s.ShardGroupDuration, rp.Duration)
	return rp
}

// Matches reports whether rpi already is what the spec asks for (fields the
// spec leaves unset match anything), which makes CREATE DATABASE ... WITH
// idempotent.
func (s *RetentionPolicySpec) Matches(rpi *RetentionPolicyInfo) bool {
	switch {
	case rpi == nil:
		return false
	case s.Name != "" && s.Name != rpi.Name:
		return false
	case s.Duration != nil && *s.Duration != rpi.Duration:
		return false
	case s.ReplicaN != nil && *s.ReplicaN != rpi.ReplicaN:
		return false
	case s.FutureWriteLimit != nil && *s.FutureWriteLimit != rpi.FutureWriteLimit:
		return false
	case s.PastWriteLimit != nil && *s.PastWriteLimit != rpi.PastWriteLimit:
		return false
	}
	// Normalise with the existing policy's duration: the two durations are
	// equal if we got here with one set, and the existing one is what a
	// derived shard-group duration came from.
	return NormalisedShardDuration(s.ShardGroupDuration, rpi.Duration) == rpi.ShardGroupDuration
}

// ShardGroupDurationFor returns the default shard-group duration of a
// policy lasting d: under 2 days → 1 h; up to 6 months → 1 day; longer or
// infinite (0) → 7 days.
func ShardGroupDurationFor(d time.Duration) time.Duration {
	switch {
	case d >= 180*24*time.Hour || d == 0:
		return 7 * 24 * time.Hour
	case d >= 2*24*time.Hour:
		return 24 * time.Hour
	}
	return time.Hour
}

// NormalisedShardDuration returns the shard-group duration a policy of
// duration d gets when sgd is asked for: the default for 0, and at least
// MinRetentionPolicyDuration otherwise.
func NormalisedShardDuration(sgd, d time.Duration) time.Duration {
	if sgd == 0 {
		return ShardGroupDurationFor(d)
	}
	if sgd < MinRetentionPolicyDuration {
		return ShardGroupDurationFor(MinRetentionPolicyDuration)
	}
	return sgd
}

// CreateDatabase creates a database without any retention policy; it does
// nothing if the database exists. Like 1.x's Data.CreateDatabase it does not
// create autogen: Store.CreateDatabase does that (when retention-autocreate
// is on), and callers of Apply that want it call CreateRetentionPolicy
// with DefaultRetentionPolicyInfo's spec, or use
// CreateDatabaseWithRetentionPolicy.
func (d *Data) CreateDatabase(name string) error {
	if name == "" {
		return ErrDatabaseNameRequired
	}
	if err := validateName(name); err != nil {
		return err
	}
	if d.Database(name) != nil {
		return nil
	}
	d.Databases = append(d.Databases, DatabaseInfo{Name: name})
	return nil
}

// CreateDatabaseWithRetentionPolicy creates a database whose default policy
// is the spec's (autogen when the spec has no name). It is idempotent only
// when the database exists and its default policy already matches the
// spec; otherwise an existing database gives ErrRetentionPolicyConflict,
// as 1.x's CREATE DATABASE ... WITH does.
func (d *Data) CreateDatabaseWithRetentionPolicy(name string, spec *RetentionPolicySpec) error {
	if spec == nil {
		return ErrRetentionPolicyRequired
	}
	if spec.Duration != nil && *spec.Duration < MinRetentionPolicyDuration && *spec.Duration != 0 {
		return ErrRetentionPolicyDurationTooLow
	}
	if name == "" {
		return ErrDatabaseNameRequired
	}
	if err := validateName(name); err != nil {
		return err
	}
	rpi := spec.NewRetentionPolicyInfo()
	if err := validateNewPolicy(rpi); err != nil {
		return err
	}

	di := d.Database(name)
	if di == nil || len(di.RetentionPolicies) == 0 {
		if di == nil {
			d.Databases = append(d.Databases, DatabaseInfo{Name: name})
			di = &d.Databases[len(d.Databases)-1]
		}
		di.RetentionPolicies = append(di.RetentionPolicies, *rpi)
		di.DefaultRetentionPolicy = rpi.Name
		return nil
	}
	// The database has policies: only the exact same default policy is an
	// idempotent repeat. A matching but non-default policy is a conflict
	// too, because this statement creates default policies only.
	if !spec.Matches(di.RetentionPolicy(rpi.Name)) || di.DefaultRetentionPolicy != rpi.Name {
		return ErrRetentionPolicyConflict
	}
	return nil
}

// DropDatabase removes a database and every privilege on it. Dropping a
// database that does not exist is not an error (1.x).
func (d *Data) DropDatabase(name string) error {
	for i := range d.Databases {
		if d.Databases[i].Name == name {
			d.Databases = append(d.Databases[:i], d.Databases[i+1:]...)
			for j := range d.Users {
				delete(d.Users[j].Privileges, name)
			}
			return nil
		}
	}
	return nil
}

// validateNewPolicy checks a policy built from a spec, in 1.x's order.
// It normalises the shard-group duration in place.
func validateNewPolicy(rpi *RetentionPolicyInfo) error {
	switch {
	case rpi.Name == "":
		return ErrRetentionPolicyNameRequired
	case len(rpi.Name) > MaxNameLen:
		return ErrNameTooLong
	case !ValidName(rpi.Name):
		return ErrInvalidName
	case rpi.ReplicaN < 1:
		return ErrReplicationFactorTooLow
	case rpi.Duration != 0 && rpi.Duration < MinRetentionPolicyDuration:
		return ErrRetentionPolicyDurationTooLow
	}
	rpi.ShardGroupDuration = NormalisedShardDuration(rpi.ShardGroupDuration, rpi.Duration)
	if rpi.Duration > 0 && rpi.Duration < rpi.ShardGroupDuration {
		return ErrIncompatibleDurations
	}
	return nil
}

// CreateRetentionPolicy adds a policy to db, and makes it the default when
// makeDefault is set. Repeating a create with the same settings is not an
// error; the same name with other settings is ErrRetentionPolicyExists, and
// asking to make an existing non-default policy the default is
// ErrRetentionPolicyConflict.
func (d *Data) CreateRetentionPolicy(db string, spec *RetentionPolicySpec, makeDefault bool) error {
	if spec == nil {
		return ErrRetentionPolicyRequired
	}
	if spec.Duration != nil && *spec.Duration < MinRetentionPolicyDuration && *spec.Duration != 0 {
		return ErrRetentionPolicyDurationTooLow
	}
	rpi := spec.NewRetentionPolicyInfo()
	if spec.Name == "" {
		// NewRetentionPolicyInfo fills in autogen; creating a policy
		// requires a name.
		rpi.Name = ""
	}
	return d.createRetentionPolicy(db, rpi, makeDefault)
}

func (d *Data) createRetentionPolicy(db string, rpi *RetentionPolicyInfo, makeDefault bool) error {
	if err := validateNewPolicy(rpi); err != nil {
		return err
	}
	di := d.Database(db)
	if di == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	if rp := di.RetentionPolicy(rpi.Name); rp != nil {
		if rp.ReplicaN != rpi.ReplicaN || rp.Duration != rpi.Duration ||
			rp.ShardGroupDuration != rpi.ShardGroupDuration ||
			rp.FutureWriteLimit != rpi.FutureWriteLimit || rp.PastWriteLimit != rpi.PastWriteLimit {
			return ErrRetentionPolicyExists
		}
		if makeDefault && di.DefaultRetentionPolicy != rpi.Name {
			return ErrRetentionPolicyConflict
		}
		return nil
	}
	p := *rpi
	p.ShardGroups, p.Subscriptions = nil, nil
	di.RetentionPolicies = append(di.RetentionPolicies, p)
	if makeDefault {
		di.DefaultRetentionPolicy = rpi.Name
	}
	return nil
}

// UpdateRetentionPolicy changes a policy (ALTER RETENTION POLICY). Existing
// shard groups keep their windows; new ones use the new shard-group
// duration.
func (d *Data) UpdateRetentionPolicy(db, name string, upd *RetentionPolicyUpdate, makeDefault bool) error {
	di := d.Database(db)
	if di == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	rpi := di.RetentionPolicy(name)
	if rpi == nil || name == "" {
		return &RetentionPolicyNotFoundError{Name: name}
	}
	if upd == nil {
		upd = &RetentionPolicyUpdate{}
	}
	if upd.Name != nil && *upd.Name != name {
		if di.RetentionPolicy(*upd.Name) != nil {
			return ErrRetentionPolicyNameExists
		}
		if err := validateName(*upd.Name); err != nil {
			return err
		}
	}
	if upd.Duration != nil && *upd.Duration < MinRetentionPolicyDuration && *upd.Duration != 0 {
		return ErrRetentionPolicyDurationTooLow
	}
	if upd.ReplicaN != nil && *upd.ReplicaN < 1 {
		return ErrReplicationFactorTooLow
	}

	// The duration must not be shorter than the shard-group duration,
	// whichever of the two changes.
	duration, sgd := rpi.Duration, rpi.ShardGroupDuration
	if upd.Duration != nil {
		duration = *upd.Duration
	}
	if upd.ShardGroupDuration != nil {
		sgd = *upd.ShardGroupDuration
	}
	if duration > 0 && duration < sgd {
		return ErrIncompatibleDurations
	}

	if upd.Name != nil {
		if di.DefaultRetentionPolicy == rpi.Name {
			// Deliberately unlike 1.x, which left the default pointing at
			// the old name.
			di.DefaultRetentionPolicy = *upd.Name
		}
		rpi.Name = *upd.Name
	}
	if upd.Duration != nil {
		rpi.Duration = *upd.Duration
	}
	if upd.ReplicaN != nil {
		rpi.ReplicaN = *upd.ReplicaN
	}
	if upd.ShardGroupDuration != nil {
		rpi.ShardGroupDuration = NormalisedShardDuration(*upd.ShardGroupDuration, rpi.Duration)
	}
	if upd.FutureWriteLimit != nil {
		rpi.FutureWriteLimit = *upd.FutureWriteLimit
	}
	if upd.PastWriteLimit != nil {
		rpi.PastWriteLimit = *upd.PastWriteLimit
	}
	if makeDefault {
		di.DefaultRetentionPolicy = rpi.Name
	}
	return nil
}

// DropRetentionPolicy removes a policy and its shard groups. A missing
// database or policy is not an error (1.x). As in 1.x the database's
// default keeps naming a dropped default policy, so writes without rp fail
// with "retention policy not found" rather than go somewhere unexpected.
func (d *Data) DropRetentionPolicy(db, name string) error {
	di := d.Database(db)
	if di == nil {
		return nil
	}
	for i := range di.RetentionPolicies {
		if di.RetentionPolicies[i].Name == name {
			di.RetentionPolicies = append(di.RetentionPolicies[:i], di.RetentionPolicies[i+1:]...)
			return nil
		}
	}
	return nil
}

// SetDefaultRetentionPolicy makes an existing policy db's default.
func (d *Data) SetDefaultRetentionPolicy(db, name string) error {
	di := d.Database(db)
	if di == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	if name == "" || di.RetentionPolicy(name) == nil {
		return &RetentionPolicyNotFoundError{Name: name}
	}
	di.DefaultRetentionPolicy = name
	return nil
}
