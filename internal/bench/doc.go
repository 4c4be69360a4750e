// Package bench is the load generator and measuring side of `strata bench`:
// a deterministic data set modelled on the TSBS "cpu-only" use case, an
// HTTP writer that sends it to any InfluxDB 1.x compatible server, the
// TSBS-style query set run with the same seeded windows against every
// server, and the report that turns the recorded figures of two servers
// into one comparison table (docs/benchmarks.md).
//
// # Data set
//
// Each simulated host has ten tags drawn once from fixed value sets
// (hostname, region, datacenter, rack, os, arch, team, service,
// service_version, service_environment) and one measurement, cpu, with the
// ten fields usage_user … usage_guest_nice. Every field is a random walk
// clamped to 0..100: integers by default (the storage targets are stated
// per integer value), floats with Dataset.Float. One point per host every
// Interval; the points are emitted in time order across hosts (all hosts
// at t0, then all hosts at t0+10s, …), as TSBS does.
//
// Everything random comes from a per-host splitmix64 stream derived from
// the seed and the host number, so a host's tags and values do not depend
// on how many hosts the set has (the first 100 hosts of a 4,000-host set
// are the 100-host set), and the same seed gives the same bytes on every
// run and every machine: the generator uses no math/rand state and no
// floating-point operation whose rounding the compiler may change.
//
// # Queries
//
// The query types are TSBS's, expressed in InfluxQL (see QueryTypes). Their
// host and time-window parameters come from a stream seeded by the seed and
// the type name, so every server gets the same statements in the same
// order. Each result is reduced to a row count and a hash of its canonical
// form (names, tags, columns and values; numbers rounded to ten significant
// digits so that summation order does not matter), so a wrong answer shows
// as well as a slow one.
//
// # Measuring
//
// The writer never retries: every non-2xx response and every transport
// error is counted by status, with the first body of each, and reported.
// Latencies are kept whole (a run has at most a few thousand batches) and
// summarised by nearest-rank percentiles.
package bench
