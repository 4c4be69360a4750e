// Package wal is the write-ahead log of one shard: a directory of numbered
// segment files (_00001.wal, _00002.wal, …) holding framed, checksummed,
// optionally s2-compressed records. The storage engine serialises its own
// write and delete records; the WAL stores them as opaque payloads with a
// one-byte type and never interprets them. The byte layout is in
// docs/format/wal.md.
//
// # Life cycle
//
// Open lists the segments but reads none. Replay must come next: it reads
// every segment in order, hands each intact record to the caller, and
// repairs a torn tail of the last segment by truncating it. Only then does
// Write accept records (ErrNotReplayed before), and Replay is refused once
// a Write has been made. Writes never append to a segment that existed
// before Open: the first commit creates a new segment.
//
// # Group commit
//
// Write frames and compresses its record in the caller's goroutine, appends
// it to the pending batch and waits. One committer goroutine, owned by the
// WAL and stopped by Close, takes the whole batch, writes it with a single
// write call and fsyncs once; every writer of the batch gets that shared
// result. With Options.FsyncDelay > 0 the committer waits that long after
// the first record of a batch arrives, to gather more writers per fsync
// ([data] wal-fsync-delay). A batch never spans segments: the committer
// rotates before a batch that would push a non-empty segment past
// Options.SegmentSize, so a segment exceeds it only when one batch alone
// does.
//
// # Durability rules
//
//   - Write returns nil only after its record, and the directory entry of
//     its segment, are durable (fsync of the file, fsync of the directory
//     when the segment was created). A crash at any point loses no record
//     whose Write returned nil.
//   - Records that were written but not acknowledged (the process died
//     before the fsync returned, or the caller's context ended first) may
//     or may not be replayed after a crash.
//   - A failed batch (failed write or fsync) is never replayed as if
//     acknowledged: the committer truncates the segment back to the last
//     acknowledged offset and fsyncs that truncation before it acknowledges
//     anything else. Until the repair succeeds every later batch fails with
//     the repair's error, so nothing lands behind an unrepaired tail. The
//     repair reopens the file, so a file descriptor whose fsync failed is
//     never trusted again. If the process dies before the repair succeeds,
//     the failed bytes are a torn tail of the last segment, which Replay
//     truncates, or complete records that were never acknowledged — which
//     the rule above allows.
//   - Once the fault clears the WAL keeps working; nothing needs reopening.
//   - A context cancelled while Write waits makes Write return ctx.Err(),
//     but the record stays in its batch and may still become durable and be
//     replayed. The caller must treat it as "unknown", like a timeout.
//
// # Replay and repair
//
// A torn or corrupt tail of the last segment — a short header, a record
// running past the end of the file, an impossible length, a bad checksum,
// or a header of zero bytes left by a crash during creation — is truncated
// away; the segment, offset and number of bytes dropped are logged and
// returned in ReplayStats. The same damage in any other segment is a
// *CorruptionError carrying the segment path and offset, and replay stops
// there without changing any file. Damage no crash can cause is never
// repaired, even at the tail: a record whose checksum matches but whose
// payload does not decode, a segment of a newer format version, or a file
// that starts with foreign bytes (an InfluxDB 1.x WAL segment has the same
// name pattern and must not be destroyed).
//
// # Offline reading
//
// Scan and VerifySegment read segments without a WAL and without changing
// anything, for inspection tools; they report a torn tail as corruption
// instead of repairing it.
//
// # Concurrency
//
// Write, Rotate, Remove, Segments, Size and Statistics may be called
// concurrently. Rotate and Remove wait for a commit in progress; Segments,
// Size and Statistics never wait for I/O.
package wal
