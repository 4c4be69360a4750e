// Package config reads, checks and writes Strata's configuration, which is
// an InfluxDB 1.x influxdb.conf: the same TOML sections, keys, defaults and
// INFLUXDB_<SECTION>_<KEY> environment overrides, so that an existing file
// (including the one Debian's influxdb package installs) works unchanged.
//
// # Where a value comes from
//
// Load builds a Config in four steps, later steps winning:
//
//  1. NewConfig: InfluxDB 1.x's defaults, except the three directories,
//     which default to $HOME/.strata/meta, $HOME/.strata/data and
//     $HOME/.strata/wal (1.x used $HOME/.influxdb). A file that does not
//     name a directory gets these defaults too.
//  2. the file, if a path is given;
//  3. the environment: INFLUXDB_<SECTION>_<KEY>, then STRATA_<SECTION>_<KEY>
//     (so STRATA_ wins when both are set). SECTION and KEY are upper-cased
//     and '-' becomes '_': INFLUXDB_HTTP_BIND_ADDRESS, INFLUXDB_DATA_WAL_DIR,
//     INFLUXDB_SHARD_PRECREATION_ENABLED; top-level keys have no section:
//     INFLUXDB_REPORTING_DISABLED. An empty value is ignored, as in 1.x;
//  4. Validate.
//
// # The one table of keys
//
// Every key Strata knows is one entry in the table in fields.go: its
// section, its name, the Config field it sets and the comment WriteTOML
// prints above it. Decoding, environment overrides, Validate's error
// locations and WriteTOML all walk that table, so a key cannot be readable
// but not writable, or settable from the file but not from the environment.
// The toml struct tags on Config mirror the table (a test checks that) for
// readers and for tools that encode a Config with BurntSushi/toml directly.
//
// # What is not an error
//
// Sections of 1.x that Strata does not implement ([[graphite]],
// [[collectd]], [[opentsdb]], [[udp]], [ifql], ...) and unknown sections are
// accepted with one warning each; an unknown key inside a known section is
// accepted with a warning naming file, line and key. Settings that 1.x has
// but Strata has no use for (tsm-use-madv-willneed, ...) are warned about in
// the same way. index-version accepts "inmem" and "tsi1" silently: Strata
// has one index.
//
// # What is an error
//
// TOML syntax errors, a value of the wrong type, a bad duration or size, a
// bind address that does not parse, a negative limit and the other checks of
// Validate. Every such error is an *Error that names where the bad value came
// from: "file:line: [section] key: problem" for the file, or the environment
// variable for an override. Load reports all problems it finds, not just the
// first, joined with errors.Join.
package config
