package query

import "math"

// The technical-analysis transformations. Their algorithms (warm-up rules,
// default hold periods, which outputs are dropped) follow InfluxDB 1.x's
// documentation and its observable results, so that every value matches to
// the last bit:
//
//   - EXPONENTIAL_MOVING_AVERAGE: alpha = 2/(period+1). The first value is
//     the input itself; until period values were seen, the "exponential"
//     warm-up uses alpha = 2/(count+1) (count including the new value) and
//     the "simple" warm-up the plain average.
//   - DOUBLE_ and TRIPLE_EXPONENTIAL_MOVING_AVERAGE chain two or three such
//     averages (2·e1 − e2; 3·e1 − 3·e2 + e3); with the simple warm-up a
//     chained average starts only once the one before it is warm.
//   - TRIPLE_EXPONENTIAL_DERIVATIVE is the percent rate of change of the
//     triple-smoothed average; infinite results are dropped.
//   - RELATIVE_STRENGTH_INDEX smooths gains and losses (against the previous
//     value, the first one against 0) with averages over period+1 values
//     whose alpha after the warm-up is 1/period.
//   - CHANDE_MOMENTUM_OSCILLATOR: by default ("none") the sum of gains and
//     losses over the last period−1 differences; with a warm-up type, gains
//     and losses smoothed like RSI over period+1 values.
//   - KAUFMANS_EFFICIENCY_RATIO: |change over period| / sum of |changes|
//     (0 when either is 0); KAUFMANS_ADAPTIVE_MOVING_AVERAGE smooths with
//     (ER·(2/3 − 2/31) + 2/31)²; infinite results are dropped.
//
// A hold period of −1 means the algorithm's own warm-up length. Values are
// emitted once more points than the hold period were seen.

// taAlg is one technical-analysis algorithm.
type taAlg interface {
	add(v float64) float64
	warmCount() int
}

// taT adapts an algorithm to a transformer with the hold period rule.
type taT struct {
	alg      taAlg
	hold     int
	count    int
	dropInfs bool
}

func newTA(s *tfSpec) transformer {
	var alg taAlg
	switch s.fn {
	case "exponential_moving_average":
		alg = newEMA(s.n, s.warm)
	case "double_exponential_moving_average":
		alg = &demaAlg{e1: *newEMA(s.n, s.warm), e2: *newEMA(s.n, s.warm)}
	case "triple_exponential_moving_average":
		alg = &temaAlg{e1: *newEMA(s.n, s.warm), e2: *newEMA(s.n, s.warm), e3: *newEMA(s.n, s.warm)}
	case "triple_exponential_derivative":
		alg = &trixAlg{e1: *newEMA(s.n, s.warm), e2: *newEMA(s.n, s.warm), e3: *newEMA(s.n, s.warm)}
	case "relative_strength_index":
		alg = newRSI(s.n, s.warm)
	case "chande_momentum_oscillator":
		if s.warm == warmupNone {
			alg = newCMO(s.n)
		} else {
			alg = newCMOS(s.n, s.warm)
		}
	case "kaufmans_efficiency_ratio":
		alg = newKER(s.n)
	case "kaufmans_adaptive_moving_average":
		alg = &kamaAlg{ker: *newKER(s.n)}
	default:
		panic("BUG: unknown transformation " + s.fn)
	}
	hold := s.hold
	if hold == -1 {
		hold = alg.warmCount()
	}
	t := &taT{alg: alg, hold: hold}
	switch s.fn {
	case "triple_exponential_derivative", "kaufmans_efficiency_ratio", "kaufmans_adaptive_moving_average":
		t.dropInfs = true
	}
	return t
}

func (t *taT) add(out []aggPoint, ts int64, v any) []aggPoint {
	x, ok := toFloatOK(v)
	if !ok {
		return out
	}
	r := t.alg.add(x)
	t.count++
	if t.count <= t.hold || (t.dropInfs && math.IsInf(r, 0)) {
		return out
	}
	return append(out, aggPoint{t: ts, v: r})
}

func (t *taT) flush(out []aggPoint) []aggPoint { return out }

// ---- EMA and its chains ----

type emaAlg struct {
	period int
	alpha  float64
	warm   int
	count  int // values seen, up to period
	last   float64
}

func newEMA(period, warm int) *emaAlg {
	return &emaAlg{period: period, alpha: 2 / float64(period+1), warm: warm}
}

func (e *emaAlg) warmed() bool   { return e.count == e.period }
func (e *emaAlg) warmCount() int { return e.period - 1 }

func (e *emaAlg) add(v float64) float64 {
	var avg float64
	switch {
	case e.count == 0:
		avg = v
	case !e.warmed() && e.warm == warmupSMA:
		avg = (e.last*float64(e.count) + v) / float64(e.count+1)
	case !e.warmed():
		a := 2 / float64(e.count+2)
		avg = (v-e.last)*a + e.last
	default:
		avg = (v-e.last)*e.alpha + e.last
	}
	e.last = avg
	if e.count < e.period {
		e.count++
	}
	return avg
}

// chained reports whether a chained average is fed by the one before it.
func chained(prev *emaAlg) bool { return prev.warmed() || prev.warm != warmupSMA }

type demaAlg struct{ e1, e2 emaAlg }

func (d *demaAlg) warmCount() int {
	if d.e1.warm != warmupSMA {
		return d.e1.warmCount()
	}
	return d.e1.warmCount() + d.e2.warmCount()
}

func (d *demaAlg) add(v float64) float64 {
	a1 := d.e1.add(v)
	a2 := a1
	if chained(&d.e1) {
		a2 = d.e2.add(a1)
	}
	return 2*a1 - a2
}

type temaAlg struct{ e1, e2, e3 emaAlg }

func (t *temaAlg) warmCount() int {
	if t.e1.warm != warmupSMA {
		return t.e1.warmCount()
	}
	return t.e1.warmCount() + t.e2.warmCount() + t.e3.warmCount()
}

func (t *temaAlg) add(v float64) float64 {
	a1 := t.e1.add(v)
	a2 := a1
	if chained(&t.e1) {
		a2 = t.e2.add(a1)
	}
	a3 := a2
	if chained(&t.e2) {
		a3 = t.e3.add(a2)
	}
	return 3*a1 - 3*a2 + a3
}

type trixAlg struct {
	e1, e2, e3 emaAlg
	last       float64
}

func (t *trixAlg) warmCount() int {
	if t.e1.warm != warmupSMA {
		return t.e1.warmCount() + 1
	}
	return t.e1.warmCount()*3 + 1
}

func (t *trixAlg) add(v float64) float64 {
	cur := t.e1.add(v)
	if chained(&t.e1) {
		cur = t.e2.add(cur)
		if chained(&t.e2) {
			cur = t.e3.add(cur)
		}
	}
	rate := ((cur / t.last) - 1) * 100
	t.last = cur
	return rate
}

// ---- RSI and the smoothed CMO ----

// gainLoss smooths gains and losses against the previous value (0 before
// the first) with two EMAs whose warm alpha is 1/period.
type gainLoss struct {
	up, down emaAlg
	lastV    float64
}

func newGainLoss(emaPeriod, alphaPeriod, warm int) gainLoss {
	e := newEMA(emaPeriod, warm)
	e.alpha = 1 / float64(alphaPeriod)
	return gainLoss{up: *e, down: *e}
}

func (g *gainLoss) add(v float64) {
	var up, down float64
	if v > g.lastV {
		up = v - g.lastV
	} else if v < g.lastV {
		down = g.lastV - v
	}
	g.up.add(up)
	g.down.add(down)
	g.lastV = v
}

type rsiAlg struct{ gainLoss }

func newRSI(period, warm int) *rsiAlg {
	return &rsiAlg{newGainLoss(period+1, period, warm)}
}

func (r *rsiAlg) warmCount() int { return r.up.warmCount() }

func (r *rsiAlg) add(v float64) float64 {
	r.gainLoss.add(v)
	return 100 - (100 / (1 + r.up.last/r.down.last))
}

type cmosAlg struct{ gainLoss }

func newCMOS(period, warm int) *cmosAlg {
	return &cmosAlg{newGainLoss(period+1, period, warm)}
}

func (c *cmosAlg) warmCount() int { return c.up.warmCount() }

func (c *cmosAlg) add(v float64) float64 {
	c.gainLoss.add(v)
	up, down := c.up.last, c.down.last
	return 100 * ((up - down) / (up + down))
}

// ---- CMO ----

// cmoAlg sums gains and losses over a ring of the last period−1
// differences.
type cmoAlg struct {
	prices, diffs  []float64
	sumUp, sumDown float64
	count, idx     int
	periodMinusOne int
}

func newCMO(period int) *cmoAlg {
	n := period - 1
	return &cmoAlg{prices: make([]float64, n), diffs: make([]float64, n), periodMinusOne: n}
}

func (c *cmoAlg) warmCount() int { return c.periodMinusOne }

func (c *cmoAlg) add(v float64) float64 {
	n := c.periodMinusOne
	if n == 0 {
		// A period of 1 keeps no differences: the oscillator is 0.
		return 0
	}
	oldest := c.idx + 1
	if oldest == n {
		oldest = 0
	}
	var diff float64
	if c.count != 0 {
		diff = v - c.prices[c.idx]
		if diff > 0 {
			c.sumUp += diff
		} else if diff < 0 {
			c.sumDown -= diff
		}
	}
	var out float64
	if c.sumUp != 0 || c.sumDown != 0 {
		out = 100.0 * ((c.sumUp - c.sumDown) / (c.sumUp + c.sumDown))
	}
	if d := c.diffs[oldest]; d > 0 {
		c.sumUp -= d
	} else if d < 0 {
		c.sumDown += d
	}
	c.prices[oldest], c.diffs[oldest] = v, diff
	c.idx = oldest
	if c.count != n+2 {
		c.count++
	}
	return out
}

// ---- KER and KAMA ----

// kerAlg keeps a ring of the last period prices and absolute changes.
type kerAlg struct {
	prices, diffs []float64
	noise         float64
	count, idx    int
}

func newKER(period int) *kerAlg {
	return &kerAlg{prices: make([]float64, period), diffs: make([]float64, period)}
}

func (k *kerAlg) warmCount() int { return len(k.prices) }
func (k *kerAlg) warmed() bool   { return k.count == len(k.prices)+1 }

func (k *kerAlg) add(v float64) float64 {
	n := len(k.prices)
	oldest := k.idx + 1
	if oldest >= n {
		oldest = 0
	}
	signal := math.Abs(v - k.prices[oldest])
	diff := math.Abs(v - k.prices[k.idx])
	k.noise -= k.diffs[oldest]
	k.noise += diff
	noise := k.noise
	k.idx = oldest
	k.prices[oldest], k.diffs[oldest] = v, diff
	if !k.warmed() {
		k.count++
	}
	if signal == 0 || noise == 0 {
		return 0
	}
	return signal / noise
}

type kamaAlg struct {
	ker  kerAlg
	last float64
}

func (k *kamaAlg) warmCount() int { return k.ker.warmCount() }

func (k *kamaAlg) add(v float64) float64 {
	if !k.ker.warmed() {
		// Until warm, start from the previous price.
		k.last = k.ker.prices[k.ker.idx]
	}
	er := k.ker.add(v)
	sc := math.Pow(er*(2.0/(2.0+1.0)-2.0/(30.0+1.0))+2.0/(30.0+1.0), 2)
	k.last += sc * (v - k.last)
	return k.last
}
