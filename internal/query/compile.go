package query

import (
	"strings"
	"time"

	"github.com/influxdata/influxql"
)

// compiled is a SELECT that passed validation, with the facts execution
// needs. Validation follows InfluxDB 1.x's rules in the same order, so that
// an invalid statement gets the same error text.
type compiled struct {
	stmt *influxql.SelectStatement // a clone: DISTINCT rewritten, time fields removed

	cond       influxql.Expr // the WHERE clause without its time conditions
	tmin, tmax int64         // time range, both inclusive
	interval   int64         // GROUP BY time interval in ns, 0 without
	ivOffset   int64         // GROUP BY time offset in ns, in [0, interval)
	ascending  bool
	loc        *time.Location // tz(), nil for UTC
	now        time.Time
	text       string // the statement as written, for sample()'s seed

	// inherited is set on a subquery that takes its interval from the
	// query around it: then a transformation of a raw field is allowed.
	inherited bool
	fill      influxql.FillOption // FILL, none for a subquery's fill(null)

	calls         []*influxql.Call // every function call, transformations and nested calls included
	onlySelectors bool
	hasDistinct   bool
	topBottom     string
	hasAux        bool
	timeName      string

	subs []*compiled // the compiled subqueries, in source order

	// Set on a subquery by the statement around it (see subquery.go).
	extraDims             []string // outer GROUP BY tags, grouped by too
	slimitAdd, soffsetAdd int      // outer SLIMIT and SOFFSET, added
	slimitDims            []string // the tags SLIMIT groups output series by
	mapMin, mapMax        int64    // the range the outer statement reads: shards outside it are not read

	explain *explainInfo // set while EXPLAIN plans or analyzes the statement
}

// compile validates stmt and extracts its time range, interval and calls.
func compile(stmt *influxql.SelectStatement, now time.Time) (*compiled, error) {
	return compileWith(stmt.Clone(), now, nil)
}

// compileWith compiles stmt (which it owns) as a subquery of parent, or as
// a statement of its own when parent is nil. As in 1.x, the fields of the
// outer statement are validated before its subqueries are compiled.
func compileWith(stmt *influxql.SelectStatement, now time.Time, parent *compiled) (*compiled, error) {
	c := &compiled{
		stmt:          stmt,
		text:          stmt.String(),
		mapMin:        influxql.MinTime,
		mapMax:        influxql.MaxTime,
		onlySelectors: true,
		timeName:      "time",
		ascending:     stmt.TimeAscending(),
		loc:           stmt.Location,
		now:           now,
		fill:          stmt.Fill,
	}
	if err := c.preprocess(now); err != nil {
		return nil, err
	}
	if parent != nil {
		if err := c.inherit(parent); err != nil {
			return nil, err
		}
	}
	if err := c.compileFields(); err != nil {
		return nil, err
	}
	if err := c.validateFields(); err != nil {
		return nil, err
	}
	for _, src := range c.stmt.Sources {
		if sq, ok := src.(*influxql.SubQuery); ok {
			sub, err := compileWith(sq.Statement, now, c)
			if err != nil {
				return nil, err
			}
			c.subs = append(c.subs, sub)
		}
	}
	c.stmt.TimeAlias = c.timeName
	c.stmt.RewriteDistinct()
	c.stmt.RewriteTimeFields()
	c.stmt.TimeAlias = c.timeName
	c.stmt.RewriteRegexConditions()
	return c, nil
}

// inherit applies the rules of a subquery: the same direction as the outer
// query, the intersection of the time ranges, fill(null) as fill(none) for
// aggregates, and the outer interval when the subquery has none.
func (c *compiled) inherit(parent *compiled) error {
	if len(c.stmt.SortFields) != 0 && c.ascending != parent.ascending {
		return invalidf("subqueries must be ordered in the same direction as the query itself")
	}
	c.ascending = parent.ascending
	c.tmin = max(c.tmin, parent.tmin)
	c.tmax = min(c.tmax, parent.tmax)
	if c.interval > 0 && c.fill == influxql.NullFill {
		c.fill = influxql.NoFill
	}
	if parent.interval > 0 && c.interval == 0 {
		c.interval, c.ivOffset, c.inherited = parent.interval, parent.ivOffset, true
		if c.loc == nil {
			c.loc = parent.loc
		}
	}
	return nil
}

// preprocess extracts the time range and the interval.
func (c *compiled) preprocess(now time.Time) error {
	valuer := influxql.NowValuer{Now: now, Location: c.loc}
	cond, tr, err := influxql.ConditionExpr(c.stmt.Condition, &valuer)
	if err != nil {
		return err
	}
	if err := validateCondition(cond); err != nil {
		return err
	}
	c.cond = cond
	if err := c.compileDimensions(now); err != nil {
		return err
	}
	c.tmin = tr.MinTimeNano()
	switch {
	case !tr.Max.IsZero():
		c.tmax = tr.Max.UnixNano()
	case c.interval > 0:
		// 1.x ends GROUP BY time queries without an upper bound at now().
		c.tmax = now.UnixNano()
	default:
		c.tmax = influxql.MaxTime
	}
	return nil
}

// validateCondition rejects calls other than math functions in the WHERE
// clause, and math functions with the wrong number of arguments. As in
// 1.x, log() counts as a function of one argument here (so log(v, 2) is
// refused in a condition, and log(v) matches nothing).
func validateCondition(expr influxql.Expr) error {
	switch expr := expr.(type) {
	case *influxql.BinaryExpr:
		if err := validateCondition(expr.LHS); err != nil {
			return err
		}
		return validateCondition(expr.RHS)
	case *influxql.ParenExpr:
		return validateCondition(expr.Expr)
	case *influxql.Call:
		if !isMathFunction(expr.Name) {
			return invalidf("invalid function call in condition: %s", expr)
		}
		want := 1
		if expr.Name == "atan2" || expr.Name == "pow" {
			want = 2
		}
		if got := len(expr.Args); got != want {
			return invalidf("invalid number of arguments for %s, expected %d, got %d", expr.Name, want, got)
		}
		for _, arg := range expr.Args {
			if err := validateCondition(arg); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *compiled) compileDimensions(now time.Time) error {
	for _, d := range c.stmt.Dimensions {
		expr := influxql.Reduce(d.Expr, nil)
		switch expr := expr.(type) {
		case *influxql.VarRef:
			if strings.EqualFold(expr.Val, "time") {
				return invalidf("time() is a function and expects at least one argument")
			}
		case *influxql.Call:
			if expr.Name != "time" {
				return invalidf("only time() calls allowed in dimensions")
			}
			if n := len(expr.Args); n < 1 || n > 2 {
				return invalidf("time dimension expected 1 or 2 arguments")
			}
			lit, ok := expr.Args[0].(*influxql.DurationLiteral)
			if !ok {
				return invalidf("time dimension must have duration argument")
			}
			if c.interval != 0 {
				return invalidf("multiple time dimensions not allowed")
			}
			// time(0s) is no interval at all, as in 1.x.
			c.interval = int64(lit.Val)
			if c.interval > 0 && len(expr.Args) == 2 {
				off, err := c.intervalOffset(expr, now)
				if err != nil {
					return err
				}
				c.ivOffset = off
			}
		case *influxql.Wildcard, *influxql.RegexLiteral:
		default:
			return invalidf("only time and tag dimensions allowed")
		}
		d.Expr = expr
	}
	return nil
}

// intervalOffset evaluates the offset argument of time(interval, offset).
func (c *compiled) intervalOffset(call *influxql.Call, now time.Time) (int64, error) {
	iv := time.Duration(c.interval)
	var off time.Duration
	switch lit := call.Args[1].(type) {
	case *influxql.DurationLiteral:
		off = lit.Val % iv
	case *influxql.TimeLiteral:
		off = lit.Val.Sub(lit.Val.Truncate(iv))
	case *influxql.Call:
		if lit.Name != "now" {
			return 0, invalidf("time dimension offset function must be now()")
		} else if len(lit.Args) != 0 {
			return 0, invalidf("time dimension offset now() function requires no arguments")
		}
		off = now.Sub(now.Truncate(iv))
		call.Args[1] = &influxql.DurationLiteral{Val: off}
	case *influxql.StringLiteral:
		if !lit.IsTimeLiteral() {
			return 0, invalidf("time dimension offset must be duration or now()")
		}
		t, err := lit.ToTimeLiteral(c.loc)
		if err != nil {
			return 0, err
		}
		off = t.Val.Sub(t.Val.Truncate(iv))
	default:
		return 0, invalidf("time dimension offset must be duration or now()")
	}
	if off < 0 {
		off += iv
	}
	return int64(off), nil
}

func (c *compiled) compileFields() error {
	for _, f := range c.stmt.Fields {
		if ref, ok := f.Expr.(*influxql.VarRef); ok && ref.Val == "time" {
			if f.Alias != "" {
				c.timeName = f.Alias
			}
			continue
		}
		f.Expr = influxql.Reduce(f.Expr, mathValuer{})
		fc := fieldCompiler{c: c, allowWildcard: true}
		if err := fc.expr(f.Expr); err != nil {
			return err
		}
	}
	return nil
}

// fieldCompiler validates one SELECT field.
type fieldCompiler struct {
	c             *compiled
	allowWildcard bool
}

func (fc *fieldCompiler) expr(expr influxql.Expr) error {
	c := fc.c
	switch expr := expr.(type) {
	case *influxql.VarRef:
		c.hasAux = true
		return nil
	case *influxql.Wildcard:
		c.hasAux = true
		if !fc.allowWildcard {
			return invalidf("unable to use wildcard in a binary expression")
		}
		return nil
	case *influxql.RegexLiteral:
		if !fc.allowWildcard {
			return invalidf("unable to use regex in a binary expression")
		}
		c.hasAux = true
		return nil
	case *influxql.Call:
		if isMathFunction(expr.Name) {
			return fc.math(expr)
		}
		c.calls = append(c.calls, expr)
		switch expr.Name {
		case "derivative", "non_negative_derivative", "elapsed":
			return fc.derivative(expr.Name, expr.Args)
		case "difference", "non_negative_difference", "cumulative_sum":
			return fc.difference(expr.Name, expr.Args)
		case "moving_average":
			return fc.movingAverage(expr.Args)
		case "exponential_moving_average", "double_exponential_moving_average",
			"triple_exponential_moving_average", "relative_strength_index",
			"triple_exponential_derivative":
			return fc.technical(expr.Name, expr.Args, 4, "'exponential' 'simple'")
		case "kaufmans_efficiency_ratio", "kaufmans_adaptive_moving_average":
			return fc.technical(expr.Name, expr.Args, 3, "")
		case "chande_momentum_oscillator":
			return fc.technical(expr.Name, expr.Args, 4, "'none' 'exponential' 'simple'")
		case "holt_winters", "holt_winters_with_fit":
			return fc.holtWinters(expr.Name, expr.Args)
		case "percentile":
			return fc.percentile(expr.Args)
		case "sample":
			return fc.sample(expr.Args)
		case "distinct":
			return fc.distinct(expr.Args, false)
		case "top", "bottom":
			return fc.topBottom(expr)
		case "integral":
			return fc.integral(expr.Args)
		}
		return fc.function(expr)
	case *influxql.Distinct:
		call := expr.NewCall()
		c.calls = append(c.calls, call)
		return fc.distinct(call.Args, false)
	case *influxql.BinaryExpr:
		fc.allowWildcard = false
		_, lhsLit := expr.LHS.(influxql.Literal)
		_, rhsLit := expr.RHS.(influxql.Literal)
		switch {
		case lhsLit && rhsLit:
			return invalidf("cannot perform a binary expression on two literals")
		case lhsLit:
			return fc.expr(expr.RHS)
		case rhsLit:
			return fc.expr(expr.LHS)
		}
		if err := fc.expr(expr.LHS); err != nil {
			return err
		}
		return fc.expr(expr.RHS)
	case *influxql.ParenExpr:
		return fc.expr(expr.Expr)
	case influxql.Literal:
		return invalidf("field must contain at least one variable")
	}
	return invalidf("unimplemented")
}

// symbol validates the field argument of a function.
func (fc *fieldCompiler) symbol(name string, arg influxql.Expr) error {
	switch arg.(type) {
	case *influxql.VarRef:
		return nil
	case *influxql.Wildcard:
		if !fc.allowWildcard {
			return invalidf("unsupported expression with wildcard: %s()", name)
		}
		fc.c.onlySelectors = false
		return nil
	case *influxql.RegexLiteral:
		if !fc.allowWildcard {
			return invalidf("unsupported expression with regex field: %s()", name)
		}
		fc.c.onlySelectors = false
		return nil
	}
	return invalidf("expected field argument in %s()", name)
}

func (fc *fieldCompiler) function(call *influxql.Call) error {
	switch call.Name {
	case "max", "min", "first", "last":
	case "count", "sum", "mean", "median", "mode", "stddev", "spread":
		fc.c.onlySelectors = false
	default:
		return invalidf("undefined function %s()", call.Name)
	}
	if got := len(call.Args); got != 1 {
		return invalidf("invalid number of arguments for %s, expected %d, got %d", call.Name, 1, got)
	}
	if call.Name == "count" {
		switch arg := call.Args[0].(type) {
		case *influxql.Call:
			if arg.Name == "distinct" {
				return fc.distinct(arg.Args, true)
			}
		case *influxql.Distinct:
			return fc.distinct(arg.NewCall().Args, true)
		}
	}
	return fc.symbol(call.Name, call.Args[0])
}

func (fc *fieldCompiler) percentile(args []influxql.Expr) error {
	if got := len(args); got != 2 {
		return invalidf("invalid number of arguments for percentile, expected %d, got %d", 2, got)
	}
	switch args[1].(type) {
	case *influxql.IntegerLiteral, *influxql.NumberLiteral:
	default:
		return invalidf("expected float argument in percentile()")
	}
	return fc.symbol("percentile", args[0])
}

func (fc *fieldCompiler) sample(args []influxql.Expr) error {
	if got := len(args); got != 2 {
		return invalidf("invalid number of arguments for sample, expected %d, got %d", 2, got)
	}
	n, ok := args[1].(*influxql.IntegerLiteral)
	if !ok {
		return invalidf("expected integer argument in sample()")
	}
	if n.Val <= 0 {
		return invalidf("sample window must be greater than 1, got %d", n.Val)
	}
	return fc.symbol("sample", args[0])
}

func (fc *fieldCompiler) integral(args []influxql.Expr) error {
	if got := len(args); got < 1 || got > 2 {
		return invalidf("invalid number of arguments for integral, expected at least %d but no more than %d, got %d", 1, 2, got)
	}
	if len(args) == 2 {
		d, ok := args[1].(*influxql.DurationLiteral)
		if !ok {
			return invalidf("second argument must be a duration")
		}
		if d.Val <= 0 {
			return invalidf("duration argument must be positive, got %s", influxql.FormatDuration(d.Val))
		}
	}
	fc.c.onlySelectors = false
	return fc.symbol("integral", args[0])
}

func (fc *fieldCompiler) distinct(args []influxql.Expr, nested bool) error {
	if len(args) == 0 {
		return invalidf("distinct function requires at least one argument")
	} else if len(args) != 1 {
		return invalidf("distinct function can only have one argument")
	}
	if _, ok := args[0].(*influxql.VarRef); !ok {
		return invalidf("expected field argument in distinct()")
	}
	if !nested {
		fc.c.hasDistinct = true
	}
	fc.c.onlySelectors = false
	return nil
}

func (fc *fieldCompiler) topBottom(call *influxql.Call) error {
	c := fc.c
	if c.topBottom != "" {
		return invalidf("selector function %s() cannot be combined with other functions", c.topBottom)
	}
	if got := len(call.Args); got < 2 {
		return invalidf("invalid number of arguments for %s, expected at least %d, got %d", call.Name, 2, got)
	}
	last := call.Args[len(call.Args)-1]
	limit, ok := last.(*influxql.IntegerLiteral)
	switch {
	case !ok:
		return invalidf("expected integer as last argument in %s(), found %s", call.Name, last)
	case limit.Val <= 0:
		return invalidf("limit (%d) in %s function must be at least 1", limit.Val, call.Name)
	case c.stmt.Limit > 0 && int(limit.Val) > c.stmt.Limit:
		return invalidf("limit (%d) in %s function can not be larger than the LIMIT (%d) in the select statement",
			limit.Val, call.Name, c.stmt.Limit)
	}
	if _, ok := call.Args[0].(*influxql.VarRef); !ok {
		return invalidf("expected first argument to be a field in %s(), found %s", call.Name, call.Args[0])
	}
	for _, arg := range call.Args[1 : len(call.Args)-1] {
		if _, ok := arg.(*influxql.VarRef); !ok {
			return invalidf("only fields or tags are allowed in %s(), found %s", call.Name, arg)
		}
		c.hasAux = true
	}
	c.topBottom = call.Name
	return nil
}

// validateFields checks that the fields go together, as 1.x does.
func (c *compiled) validateFields() error {
	nfields := 0
	for _, f := range c.stmt.Fields {
		if ref, ok := f.Expr.(*influxql.VarRef); ok && ref.Val == "time" {
			continue
		}
		nfields++
	}
	if nfields == 0 {
		return invalidf("at least 1 non-time field must be queried")
	}
	switch {
	case len(c.calls) > 1 && c.topBottom != "":
		return invalidf("selector function %s() cannot be combined with other functions", c.topBottom)
	case len(c.calls) == 0:
		switch c.stmt.Fill {
		case influxql.NoFill:
			return invalidf("fill(none) must be used with a function")
		case influxql.LinearFill:
			return invalidf("fill(linear) must be used with a function")
		}
		if c.interval > 0 && !c.inherited {
			return invalidf("GROUP BY requires at least one aggregate function")
		}
	}
	if c.hasDistinct && (len(c.calls) != 1 || c.hasAux) {
		return invalidf("aggregate function distinct() cannot be combined with other functions or fields")
	}
	if c.hasAux && len(c.calls) > 0 {
		if !c.onlySelectors {
			return invalidf("mixing aggregate and non-aggregate queries is not supported")
		} else if len(c.calls) > 1 {
			return invalidf("mixing multiple selector functions with tags or fields is not supported")
		}
	}
	return nil
}

// systemSourceError is 1.x's error for a system measurement in FROM.
func systemSourceError(name string) error {
	command := "the appropriate meta command"
	switch name {
	case "_fieldKeys":
		command = "SHOW FIELD KEYS"
	case "_measurements":
		command = "SHOW MEASUREMENTS"
	case "_series":
		command = "SHOW SERIES"
	case "_tagKeys":
		command = "SHOW TAG KEYS"
	case "_tags":
		command = "SHOW TAG VALUES"
	}
	return invalidf("unable to use system source '%s': use %s instead", name, command)
}
