// Package stats is the shape in which components report their counters:
// the same values feed /debug/vars, SHOW STATS and the _internal database,
// under 1.x's lowerCamelCase names.
package stats

// Statistic is one named set of values, such as the "httpd" statistic of
// one HTTP listener or the "shard" statistic of one shard.
type Statistic struct {
	Name   string            `json:"name"`
	Tags   map[string]string `json:"tags"`
	Values map[string]any    `json:"values"`
}

// Reporter is implemented by every component that has statistics. It is
// called concurrently with the component's work and must not block on it.
type Reporter interface {
	Statistics(tags map[string]string) []Statistic
}
