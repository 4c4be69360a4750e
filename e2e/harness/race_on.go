//go:build race

package harness

// raceEnabled builds stratad with the race detector when the tests run
// with it.
const raceEnabled = true
