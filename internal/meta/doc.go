// Package meta is Strata's meta store: databases, retention policies, shard
// groups and shards, continuous queries, subscriptions, users and their
// privileges.
//
// # Data and mutations
//
// Data is a plain value. Its mutations (CreateDatabase, CreateShardGroup,
// SetPrivilege, ...) validate their arguments, return InfluxDB 1.x's errors
// with 1.x's wording (errors.go), and change the receiver only when they
// succeed. Mutations that need the current time have an ...At variant that
// takes it, so that a replicated log can apply them deterministically.
// Repeating a create with the same settings, or dropping something absent,
// is not an error where 1.x says so (databases, retention policies,
// continuous queries, shards).
//
// Data.CreateDatabase creates a bare database, as 1.x's Data does: the
// autogen policy comes from Store.CreateDatabase (when
// Options.RetentionAutoCreate is set) or from
// CreateDatabaseWithRetentionPolicy.
//
// # Shard groups
//
// A policy's shard groups cover disjoint windows [StartTime, EndTime). A
// new group starts at the write's time truncated to the policy's shard-group
// duration, as Go's time.Truncate does (relative to the zero time, so 1-day
// groups start at midnight UTC and 7-day groups on Mondays, matching 1.x),
// and is trimmed to stay clear of the live groups around it (after ALTER
// RETENTION POLICY ... SHARD DURATION, windows no longer line up). Deleted
// groups keep DeletedAt and are skipped by every lookup until
// PruneShardGroups forgets them.
//
// # Store
//
// Store publishes one immutable *Data at a time. Readers take it without a
// lock; Apply serialises writers: clone, mutate, encode, write meta.db with
// vfs.WriteFileAtomic (temp file, fsync, rename, fsync of the directory),
// publish, and close the channel Changed returned. A kill at any moment
// leaves the old or the new file; a failed write leaves memory and disk as
// they were. A change that changes nothing is not written and does not bump
// Version. The file format is in docs/format/meta.md.
//
// Passwords are bcrypt hashes; Authenticate caches a salted SHA-256 of the
// last verified password per user so that repeat requests skip bcrypt.
package meta
