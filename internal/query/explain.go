package query

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/influxql"

	"github.com/stratadb/strata/internal/models"
)

// EXPLAIN and EXPLAIN ANALYZE answer with the shapes 1.x prints, filled with
// Strata's own stages.
//
// EXPLAIN plans the statement (subqueries included, without running them)
// and prints one block per read of a source measurement, as 1.x prints one
// per iterator it would create:
//
//	EXPRESSION: mean(v::float)         the call the read feeds (<nil> for raw rows)
//	AUXILIARY FIELDS: h::tag, v::float the other values read with each point, if any
//	NUMBER OF SHARDS: 1
//	NUMBER OF SERIES: 3
//	BLOCK STATISTICS: true             whole blocks may be answered from their statistics
//
// 1.x's CACHED VALUES, NUMBER OF FILES, NUMBER OF BLOCKS and SIZE OF BLOCKS
// are storage estimates Strata does not make; EXPLAIN ANALYZE counts what
// was actually read. Blocks are separated by an empty row.
//
// EXPLAIN ANALYZE runs the statement (reading everything, writing nothing
// for INTO) and prints a tree:
//
//	.
//	└── select
//	    ├── execution_time, planning_time, total_time
//	    └── build_cursor                     one per statement, subqueries nested
//	        ├── labels: statement            the statement as planned
//	        ├── output_series, rows          what it produced
//	        ├── iterator_scanner             one per call (or the raw rows)
//	        │   ├── labels: expr (or auxiliary_fields)
//	        │   └── points                   the points it produced
//	        ├── create_iterator              one per shard read
//	        │   ├── labels: measurement, shard_id
//	        │   ├── series                   series read
//	        │   ├── cursors                  field cursors opened
//	        │   ├── <type>_blocks_decoded    batches of decoded values, per type
//	        │   ├── <type>_blocks_from_statistics
//	        │   └── <type>_points            points read
//	        └── build_cursor                 a subquery
//
// Times are Go durations and vary from run to run.

// readStats counts what a query reads, per shard of each measurement.
type readStats struct {
	mu     sync.Mutex // guards shards
	shards map[shardKey]*shardStats
}

type shardKey struct {
	measurement string
	shard       uint64
}

type shardStats struct {
	series  map[uint64]struct{}
	cursors int64
	blocks  [models.Boolean + 1]int64
	stats   [models.Boolean + 1]int64
	points  [models.Boolean + 1]int64
}

func newReadStats() *readStats { return &readStats{shards: map[shardKey]*shardStats{}} }

func (r *readStats) get(name string, shard uint64) *shardStats {
	k := shardKey{name, shard}
	s := r.shards[k]
	if s == nil {
		s = &shardStats{series: map[uint64]struct{}{}}
		r.shards[k] = s
	}
	return s
}

// cursor counts a cursor opened on a series; r may be nil.
func (r *readStats) cursor(name string, shard, series uint64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	s := r.get(name, shard)
	s.cursors++
	s.series[series] = struct{}{}
	r.mu.Unlock()
}

// batch counts a batch read.
func (r *readStats) batch(name string, shard uint64, typ models.FieldType, fromStats bool, points int) {
	if r == nil || !typ.Valid() {
		return
	}
	r.mu.Lock()
	s := r.get(name, shard)
	if fromStats {
		s.stats[typ]++
	} else {
		s.blocks[typ]++
	}
	s.points[typ] += int64(points)
	r.mu.Unlock()
}

// explainInfo is what EXPLAIN collects about one statement (and its
// subqueries, nested).
type explainInfo struct {
	planOnly bool // plan, do not run (EXPLAIN without ANALYZE)

	p        *plan
	sets     []*tagSet
	stats    *readStats
	planning time.Duration
	running  time.Duration
	rows     int64
	points   []int64 // per output stream
	subs     []*explainInfo
}

// Explain answers EXPLAIN [ANALYZE] with one Result (see above). Errors of
// the statement are reported in the Result, as 1.x does; Explain returns an
// error only when emit does.
func (e *Engine) Explain(ctx context.Context, stmt *influxql.ExplainStatement, opts ExecutionOptions, emit func(*Result) error) error {
	if TaskFromContext(ctx) == nil {
		qctx, _, detach, err := e.registry.Attach(ctx, stmt.String(), opts.Database)
		if err != nil {
			return emit(&Result{Err: err})
		}
		defer detach()
		ctx = qctx
	}
	if err := authorize(stmt.Statement, opts); err != nil {
		return emit(&Result{Err: err})
	}
	start := time.Now()
	info := &explainInfo{planOnly: !stmt.Analyze}
	c, err := compile(stmt.Statement, e.opts.Now())
	if err == nil {
		c.explain = info
		err = e.explainRun(ctx, c, opts, info)
	}
	if err != nil {
		return emit(&Result{Err: err})
	}
	if !stmt.Analyze {
		var lines []string
		planText(info, &lines)
		rows := make([][]any, 0, len(lines))
		for _, l := range lines {
			rows = append(rows, []any{l})
		}
		if len(rows) == 0 {
			rows = append(rows, []any{""})
		}
		return emit(&Result{Series: []*Row{{Columns: []string{"QUERY PLAN"}, Values: rows}}})
	}
	total := time.Since(start)
	root := &explainNode{name: "select"}
	root.add("execution_time", info.running.String())
	root.add("planning_time", info.planning.String())
	root.add("total_time", total.String())
	root.kids = append(root.kids, cursorNode(info))
	var b strings.Builder
	b.WriteString(".\n")
	root.render(&b, "", true)
	var rows [][]any
	for _, l := range strings.Split(b.String(), "\n") {
		rows = append(rows, []any{l})
	}
	return emit(&Result{Series: []*Row{{Columns: []string{"EXPLAIN ANALYZE"}, Values: rows}}})
}

// explainRun plans a compiled statement and, unless only planning, runs
// it, discarding its rows.
func (e *Engine) explainRun(ctx context.Context, c *compiled, opts ExecutionOptions, info *explainInfo) error {
	t0 := time.Now()
	p, sets, err := e.prepareCompiled(ctx, c, opts)
	info.planning = time.Since(t0)
	if err != nil {
		return err
	}
	info.p, info.sets = p, sets
	if info.planOnly {
		return nil
	}
	info.stats = newReadStats()
	p.stats = info.stats
	if p.agg != nil {
		p.outPoints = make([]atomic.Int64, len(p.agg.outs))
	}
	t1 := time.Now()
	em := newEmitter(p.columns, 0, 0, func(r *Result) error { return nil })
	em.count = &info.rows
	err = e.execute(ctx, p, sets, em)
	info.running = time.Since(t1)
	if p.agg != nil {
		info.points = p.outPointsSnapshot()
	}
	return err
}

// planText appends the QUERY PLAN lines of a statement and its subqueries.
func planText(info *explainInfo, lines *[]string) {
	p := info.p
	if p == nil {
		return
	}
	var exprs []string
	var aux []string
	pushdown := false
	if p.raw != nil {
		exprs = []string{"<nil>"}
		aux = auxNames(p.stmt)
	} else {
		ap := p.agg
		for _, op := range ap.outs {
			var s string
			if op.call >= 0 {
				s = p.callText(op.call)
			} else if op.col >= 0 {
				s = (&influxql.VarRef{Val: p.cols[op.col].name, Type: toDataType(p.cols[op.col].typ)}).String()
			}
			if s != "" && !slices.Contains(exprs, s) {
				exprs = append(exprs, s)
			}
		}
		for _, a := range ap.aux {
			if a.col >= 0 {
				aux = append(aux, (&influxql.VarRef{Val: p.cols[a.col].name, Type: toDataType(p.cols[a.col].typ)}).String())
			} else if a.tag != "" {
				aux = append(aux, (&influxql.VarRef{Val: a.tag, Type: influxql.Tag}).String())
			}
		}
		sort.Strings(aux)
		for _, cp := range ap.calls {
			pushdown = pushdown || (cp.stats && ap.columnar && !p.noPushdown)
		}
	}
	for _, expr := range exprs {
		for _, src := range p.sources {
			if src.virtual != nil || len(src.shards) == 0 {
				continue // 1.x creates no iterator where no shard holds the measurement
			}
			if len(*lines) > 0 {
				*lines = append(*lines, "")
			}
			*lines = append(*lines, "EXPRESSION: "+expr)
			if len(aux) > 0 {
				*lines = append(*lines, "AUXILIARY FIELDS: "+strings.Join(aux, ", "))
			}
			*lines = append(*lines,
				fmt.Sprintf("NUMBER OF SHARDS: %d", len(src.shards)),
				fmt.Sprintf("NUMBER OF SERIES: %d", countSeries(info.sets, src)),
				fmt.Sprintf("BLOCK STATISTICS: %t", pushdown && expr != "<nil>"))
		}
	}
	for _, sub := range info.subs {
		planText(sub, lines)
	}
}

// auxNames returns the fields and tags a raw statement reads, as 1.x lists
// its auxiliary fields.
func auxNames(stmt *influxql.SelectStatement) []string {
	var out []string
	influxql.WalkFunc(stmt.Fields, func(n influxql.Node) {
		if ref, ok := n.(*influxql.VarRef); ok && ref.Type != influxql.Unknown {
			if s := ref.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	})
	sort.Strings(out)
	return out
}

// callText is a call as 1.x's plans show it: with its argument's type.
func (p *plan) callText(k int) string {
	ap := p.agg
	key := ap.callKeys[k]
	expr, err := influxql.ParseExpr(key)
	if err != nil {
		return key
	}
	influxql.WalkFunc(expr, func(n influxql.Node) {
		if ref, ok := n.(*influxql.VarRef); ok && ref.Type == influxql.Unknown {
			for _, c := range p.cols {
				if c.name == ref.Val {
					ref.Type = toDataType(c.typ)
				}
			}
		}
	})
	return expr.String()
}

// countSeries counts the series of a source among the tag sets.
func countSeries(sets []*tagSet, src *source) int {
	n := 0
	for _, ts := range sets {
		for _, s := range ts.series {
			if s.src == src {
				n++
			}
		}
	}
	return n
}

// cursorNode is the build_cursor node of a statement.
func cursorNode(info *explainInfo) *explainNode {
	n := &explainNode{name: "build_cursor"}
	p := info.p
	if p == nil {
		return n
	}
	n.label("statement", shownStatement(info).String())
	n.add("output_series", fmt.Sprint(len(info.sets)))
	n.add("rows", fmt.Sprint(info.rows))
	if p.raw != nil {
		sc := &explainNode{name: "iterator_scanner"}
		sc.label("auxiliary_fields", strings.Join(auxNames(p.stmt), ", "))
		sc.add("points", fmt.Sprint(info.rows))
		n.kids = append(n.kids, sc)
	} else {
		for j, op := range p.agg.outs {
			sc := &explainNode{name: "iterator_scanner"}
			sc.label("expr", outText(p, j, op))
			if j < len(info.points) {
				sc.add("points", fmt.Sprint(info.points[j]))
			}
			n.kids = append(n.kids, sc)
		}
	}
	if info.stats != nil {
		keys := make([]shardKey, 0, len(info.stats.shards))
		for k := range info.stats.shards {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b shardKey) int {
			if c := strings.Compare(a.measurement, b.measurement); c != 0 {
				return c
			}
			return int(a.shard) - int(b.shard)
		})
		for _, k := range keys {
			st := info.stats.shards[k]
			ci := &explainNode{name: "create_iterator"}
			ci.label("measurement", k.measurement)
			ci.label("shard_id", fmt.Sprint(k.shard))
			ci.add("series", fmt.Sprint(len(st.series)))
			ci.add("cursors", fmt.Sprint(st.cursors))
			for t := models.Float; t <= models.Boolean; t++ {
				ci.add(t.String()+"_blocks_decoded", fmt.Sprint(st.blocks[t]))
				ci.add(t.String()+"_blocks_from_statistics", fmt.Sprint(st.stats[t]))
				ci.add(t.String()+"_points", fmt.Sprint(st.points[t]))
			}
			n.kids = append(n.kids, ci)
		}
	}
	for _, sub := range info.subs {
		n.kids = append(n.kids, cursorNode(sub))
	}
	return n
}

// shownStatement is a statement as 1.x shows it in EXPLAIN ANALYZE:
// planned (wildcards expanded, types and databases filled in), its time
// range taken out of the condition, its subqueries shown the same way.
func shownStatement(info *explainInfo) *influxql.SelectStatement {
	p := info.p
	shown := p.stmt.Clone()
	shown.Condition = p.c.cond
	if len(p.c.subs) == 0 {
		return shown
	}
	shown.Sources = nil
	nsub := 0
	for _, src := range p.c.stmt.Sources {
		if _, ok := src.(*influxql.SubQuery); ok {
			if nsub < len(info.subs) && info.subs[nsub].p != nil {
				shown.Sources = append(shown.Sources, &influxql.SubQuery{Statement: shownStatement(info.subs[nsub])})
			}
			nsub++
			continue
		}
		shown.Sources = append(shown.Sources, src)
	}
	return shown
}

// outText is an output stream as the statement writes it.
func outText(p *plan, j int, op *outPlan) string {
	if j < len(p.agg.outKeys) {
		if expr, err := influxql.ParseExpr(p.agg.outKeys[j]); err == nil {
			return expr.String()
		}
		return p.agg.outKeys[j]
	}
	return ""
}

// explainNode is a node of EXPLAIN ANALYZE's tree.
type explainNode struct {
	name   string
	labels [][2]string
	values [][2]string
	kids   []*explainNode
}

func (n *explainNode) label(k, v string) { n.labels = append(n.labels, [2]string{k, v}) }
func (n *explainNode) add(k, v string)   { n.values = append(n.values, [2]string{k, v}) }

// render writes the node and its children with box-drawing branches, as
// 1.x's tree.
func (n *explainNode) render(b *strings.Builder, prefix string, last bool) {
	branch, cont := "├── ", "│   "
	if last {
		branch, cont = "└── ", "    "
	}
	b.WriteString(prefix + branch + n.name + "\n")
	prefix += cont
	type item struct {
		text string
		node *explainNode
	}
	var items []item
	if len(n.labels) > 0 {
		ln := &explainNode{name: "labels"}
		for _, l := range n.labels {
			ln.kids = append(ln.kids, &explainNode{name: l[0] + ": " + l[1]})
		}
		items = append(items, item{node: ln})
	}
	for _, v := range n.values {
		items = append(items, item{text: v[0] + ": " + v[1]})
	}
	for _, k := range n.kids {
		items = append(items, item{node: k})
	}
	for i, it := range items {
		isLast := i == len(items)-1
		if it.node != nil {
			it.node.render(b, prefix, isLast)
			continue
		}
		if isLast {
			b.WriteString(prefix + "└── " + it.text + "\n")
		} else {
			b.WriteString(prefix + "├── " + it.text + "\n")
		}
	}
}
