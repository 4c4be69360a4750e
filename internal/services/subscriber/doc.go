// Package subscriber forwards every accepted write to the destinations of
// the subscriptions on its database and retention policy (CREATE
// SUBSCRIPTION name ON db.rp DESTINATIONS ALL|ANY 'udp://h:p',
// 'http://h:p', 'https://h:p'), as InfluxDB 1.x's subscriber service does
// for Kapacitor and the like.
//
// # The write path
//
// Service.ForwardPoints is the hook the points writer calls after a
// successful write (the PointsSink interface). It never blocks on a
// destination: it looks the db/rp up in an immutable routing table (one
// atomic load and a map lookup; nothing is allocated when no subscription
// matches), encodes the points once as line protocol — synchronously,
// because the points borrow the request's buffer — and offers the encoded
// batch to each destination's queue without waiting. A queue that is full
// (Config.WriteBufferSize writes or Config.WriteBufferBytes bytes) drops
// the batch and counts it.
//
// # Destinations
//
// Each destination has its own bounded queue served by
// Config.WriteConcurrency writers, so that a slow destination delays and
// drops only its own writes. With ALL every destination gets every batch;
// with ANY each batch goes to one destination, round robin (a destination
// whose queue is full is skipped), and a write that fails is retried on
// the other destinations in turn, as 1.x's balance writer does.
//
//   - udp://host:port: lines are packed into datagrams of at most
//     Config.UDPPayloadSize bytes, never splitting a line (1.x sends one
//     datagram per point); a longer line goes alone.
//   - http(s)://host:port[/path]: POST path/write?db=…&rp=… with the
//     batch's line protocol (nanosecond timestamps) as the body, like 1.x's
//     client; user:password in the URL become basic auth. Any status
//     other than 2xx is a failure.
//
// # Following meta
//
// A goroutine waits on meta's change notification and rebuilds the
// routing table: new subscriptions start, dropped ones stop (their
// in-flight writes are cancelled and what is still queued is counted as
// dropped), and a subscription whose mode or destinations changed is
// restarted. A subscription with a destination that cannot be set up is
// skipped and counted in createFailures.
//
// # Statistics
//
// "subscriber" with 1.x's values createFailures, pointsWritten and
// writeFailures (which, as in 1.x, counts writes dropped on a full queue
// as well as failed ones), plus Strata's writesDropped and pointsDropped;
// and one "subscriber" statistic per destination, tagged database,
// retention_policy, name, mode and destination, with pointsWritten and
// writeFailures (failed writes only), writesDropped, pointsDropped, and
// the gauges queueLength and queueBytes.
package subscriber
