package query

import "maps"

// emitter turns the rows of output series into Results, as 1.x sends them.
//
// Without chunking every series goes into one Result. With a chunk size,
// each Result holds one Row of at most chunkSize values: a series longer
// than that is split over several Results with Row.Partial set on all but
// its last piece, and every Result but the statement's last has Partial
// set. Because "last" is only known when the next one exists, one Result
// is held back.
type emitter struct {
	chunkSize int
	maxRows   int // stop after this many rows (0: no limit)
	columns   []string
	send      func(*Result) error

	whole   *Result // the single Result without chunking
	pending *Result // chunked: the Result not yet sent
	row     *Row    // the row being filled
	rows    int     // rows so far, for maxRows
	sendErr error   // the first error of send: the receiver is gone

	name string
	tags map[string]string

	count *int64 // counts the rows added (EXPLAIN ANALYZE); may be nil
}

func newEmitter(columns []string, chunkSize, maxRows int, send func(*Result) error) *emitter {
	e := &emitter{chunkSize: chunkSize, maxRows: maxRows, columns: columns, send: send}
	if chunkSize <= 0 {
		e.whole = &Result{}
	}
	return e
}

// begin starts an output series; its row is created with its first value.
func (e *emitter) begin(name string, tags map[string]string) {
	e.name, e.tags = name, tags
	e.row = nil
}

// full reports whether the row limit has been reached.
func (e *emitter) full() bool { return e.maxRows > 0 && e.rows >= e.maxRows }

// add appends one row of values (time first) to the current series.
func (e *emitter) add(values []any) error {
	e.rows++
	if e.count != nil {
		*e.count++
	}
	if e.row == nil {
		e.newRow()
		e.row.Values = append(e.row.Values, values)
		return e.sendErr
	}
	if e.chunkSize > 0 && len(e.row.Values) >= e.chunkSize {
		e.row.Partial = true
		e.newRow()
	}
	e.row.Values = append(e.row.Values, values)
	return e.sendErr
}

func (e *emitter) newRow() {
	var tags map[string]string
	if len(e.tags) > 0 {
		tags = maps.Clone(e.tags)
	}
	e.row = &Row{Name: e.name, Tags: tags, Columns: e.columns}
	if e.chunkSize > 0 {
		e.row.Values = make([][]any, 0, min(e.chunkSize, 64))
	}
	if e.whole != nil {
		e.whole.Series = append(e.whole.Series, e.row)
		return
	}
	e.queue(&Result{Series: []*Row{e.row}})
}

// queue holds r back and sends the Result held before it.
func (e *emitter) queue(r *Result) {
	if e.pending != nil {
		e.pending.Partial = true
		if err := e.send(e.pending); err != nil && e.sendErr == nil {
			e.sendErr = err
		}
	}
	e.pending = r
}

// finish sends what is left, ending with err as the statement's error if
// it is not nil.
func (e *emitter) finish(err error) error {
	if e.sendErr != nil {
		return e.sendErr
	}
	if e.whole != nil {
		if err != nil {
			return e.send(&Result{Err: err})
		}
		return e.send(e.whole)
	}
	if err != nil {
		if e.pending != nil {
			e.pending.Partial = true
			if serr := e.send(e.pending); serr != nil {
				return serr
			}
		}
		return e.send(&Result{Err: err})
	}
	if e.pending == nil {
		return e.send(&Result{})
	}
	return e.send(e.pending)
}
