// The result types that flow from the executor to the HTTP response
// encoders; they mirror the JSON shape InfluxDB 1.x clients parse.

package query

// Row is one series of a result: a name, its tags, column names and rows of
// values. Values are int64, uint64, float64, string, bool, nil, or a
// time.Time / int64 timestamp in the "time" column as the encoder chooses.
type Row struct {
	Name    string            `json:"name,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns,omitempty"`
	Values  [][]any           `json:"values,omitempty"`
	// Partial is set on a chunk when more rows of the same series follow.
	Partial bool `json:"partial,omitempty"`
}

// Message is an informational message attached to a result (1.x uses it
// for deprecation warnings).
type Message struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

// Result is the answer to one statement (or one chunk of it).
type Result struct {
	StatementID int
	Series      []*Row
	Messages    []*Message
	// Partial is set on a chunk when more chunks of the same statement follow.
	Partial bool
	// Err is the statement's error; it is sent as HTTP 200 with an "error"
	// key in the result, as 1.x does.
	Err error
}
