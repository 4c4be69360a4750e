package query

import "math"

// HOLT_WINTERS forecasts a series with the damped Holt-Winters method
// (additive trend, multiplicative season), as InfluxDB 1.x does:
//
//  1. The input points (one per GROUP BY time bucket) are placed on a
//     regular grid of the interval, times rounded to the nearest multiple;
//     a later point in a taken slot is dropped and empty slots are NaN.
//  2. Initial level, trend and season are estimated from the first two
//     seasons (or the first two points without a season).
//  3. alpha, beta, gamma and phi are fitted by minimising the sum of squared
//     errors of the one-step forecasts with Nelder-Mead, started from every
//     point of a small grid (0.3 and 0.7 for each parameter); the best fit
//     wins. As in 1.x, evaluating a candidate clamps it into [0, 1] and
//     updates its seasonal factors in place.
//  4. The fitted model forecasts h intervals after the last point;
//     holt_winters_with_fit also returns the fitted values from the first
//     point on.
//
// Nothing is returned for fewer than two points, fewer points than a season
// or a grid that does not advance (descending input).
type holtWintersT struct {
	h, m     int
	seasonal bool
	withFit  bool
	interval int64

	times  []int64
	values []float64
	y      []float64
	buf    []float64   // the forecasts of sse, reused
	stop   func() bool // reports a cancelled query; the fit takes a while
}

// setStop implements stoppable.
func (hw *holtWintersT) setStop(stop func() bool) { hw.stop = stop }

func newHoltWinters(h, m int, withFit bool, interval int64) *holtWintersT {
	return &holtWintersT{h: h, m: m, seasonal: m >= 2, withFit: withFit, interval: interval}
}

func (hw *holtWintersT) add(out []aggPoint, t int64, v any) []aggPoint {
	if x, ok := toFloatOK(v); ok {
		hw.times = append(hw.times, t)
		hw.values = append(hw.values, x)
	}
	return out
}

// round rounds t to the nearest multiple of the interval (halves down).
func (hw *holtWintersT) round(t int64) int64 {
	if t%hw.interval > hw.interval/2 {
		return (t/hw.interval + 1) * hw.interval
	}
	return (t / hw.interval) * hw.interval
}

func (hw *holtWintersT) flush(out []aggPoint) []aggPoint {
	n := len(hw.times)
	if n < 2 || (hw.seasonal && n < hw.m) || hw.h <= 0 || hw.interval <= 0 {
		return out
	}
	start, stop := hw.round(hw.times[0]), hw.round(hw.times[n-1])
	if (stop-start)/hw.interval <= 0 {
		return out
	}
	hw.y = append(hw.y[:0], hw.values[0])
	slot := start
	for i := 1; i < n; i++ {
		r := hw.round(hw.times[i])
		if r <= slot {
			continue
		}
		for slot += hw.interval; slot != r; slot += hw.interval {
			hw.y = append(hw.y, math.NaN())
		}
		hw.y = append(hw.y, hw.values[i])
	}
	if hw.seasonal && len(hw.y) < hw.m {
		// Points that share a slot were dropped: fewer slots than a
		// season (1.x would index past its data here).
		return out
	}
	params := hw.initialParams()
	best, bestSSE := []float64(nil), math.Inf(1)
	for alpha := 0.3; alpha < 1.0; alpha += 0.4 {
		for beta := 0.3; beta < 1.0; beta += 0.4 {
			for gamma := 0.3; gamma < 1.0; gamma += 0.4 {
				for phi := 0.3; phi < 1.0; phi += 0.4 {
					if hw.stop != nil && hw.stop() {
						return out
					}
					params[0], params[1], params[2], params[3] = alpha, beta, gamma, phi
					sse, p := nelderMead(hw.sse, params, 1e-4, 1, hw.stop)
					if sse < bestSSE || best == nil {
						bestSSE, best = sse, p
					}
				}
			}
		}
	}
	forecast := hw.forecast(hw.h, best)
	if hw.withFit {
		first := hw.times[0]
		for i, v := range forecast {
			if !math.IsNaN(v) {
				out = append(out, aggPoint{t: first + hw.interval*int64(i), v: v})
			}
		}
		return out
	}
	last := hw.times[n-1]
	for i, v := range forecast[len(hw.y):] {
		if !math.IsNaN(v) {
			out = append(out, aggPoint{t: last + hw.interval*int64(i+1), v: v})
		}
	}
	return out
}

// initialParams returns [alpha, beta, gamma, phi, level, trend, seasons...]
// with the initial level, trend and seasonal factors filled in.
func (hw *holtWintersT) initialParams() []float64 {
	y, m := hw.y, hw.m
	var l0, b0 float64
	if hw.seasonal {
		for i := 0; i < m; i++ {
			if !math.IsNaN(y[i]) {
				l0 += (1 / float64(m)) * y[i]
			}
		}
		for i := 0; i < m && m+i < len(y); i++ {
			if !math.IsNaN(y[i]) && !math.IsNaN(y[m+i]) {
				b0 += 1 / float64(m*m) * (y[m+i] - y[i])
			}
		}
	} else {
		l0 = 0.5 * y[0]
		if !math.IsNaN(y[1]) {
			b0 = 0.5 * (y[1] - y[0])
		}
	}
	params := make([]float64, 6)
	params[4], params[5] = l0, b0
	if hw.seasonal {
		for i := 0; i < m; i++ {
			s := 0.0
			if !math.IsNaN(y[i]) {
				s = y[i] / l0
			}
			params = append(params, s)
		}
	}
	return params
}

// forecast runs the model over the data and h steps beyond. It clamps the
// smoothing parameters in params and rotates the seasonal factors in place.
func (hw *holtWintersT) forecast(h int, params []float64) []float64 {
	return hw.forecastInto(make([]float64, len(hw.y)+h), params)
}

// forecastInto is forecast writing into out, of length len(y)+h.
func (hw *holtWintersT) forecastInto(out []float64, params []float64) []float64 {
	for i := 0; i < 4; i++ {
		if params[i] > 1 {
			params[i] = 1
		}
		if params[i] < 0 {
			params[i] = 0
		}
	}
	alpha, beta, gamma, phi := params[0], params[1], params[2], params[3]
	yT := hw.y[0]
	phiH := phi
	lT, bT := params[4], params[5]
	var seasons []float64
	var m, so int
	if hw.seasonal {
		seasons = params[6:]
		m = len(seasons)
		if m == 1 {
			seasons[0] = 1
		}
		so = m - 1
	}
	out[0] = yT
	stm, stmh := 1.0, 1.0
	for t := 1; t < len(out); t++ {
		if hw.seasonal {
			hm := t % m
			stm = seasons[(t-m+so)%m]
			stmh = seasons[(t-m+hm+so)%m]
		}
		lTp, bTp := lT, bT
		lT = alpha*(yT/stm) + (1-alpha)*(lTp+phi*bTp)
		bT = beta*(lT-lTp) + (1-beta)*phi*bTp
		sT := gamma*(yT/(lTp+phi*bTp)) + (1-gamma)*stm
		yT = (lT + phiH*bT) * stmh
		phiH += math.Pow(phi, float64(t))
		if hw.seasonal {
			seasons[(t+so)%m] = sT
			so++
		}
		out[t] = yT
	}
	return out
}

// sse is the sum of squared errors of the one-step forecasts over the known
// values; a NaN forecast of a known value is infinitely bad.
func (hw *holtWintersT) sse(params []float64) float64 {
	if cap(hw.buf) < len(hw.y) {
		hw.buf = make([]float64, len(hw.y))
	}
	sse := 0.0
	for i, f := range hw.forecastInto(hw.buf[:len(hw.y)], params) {
		if math.IsNaN(hw.y[i]) {
			continue
		}
		if math.IsNaN(f) {
			return math.Inf(1)
		}
		d := f - hw.y[i]
		sse += d * d
	}
	return sse
}

// nelderMead minimises f from start with the simplex method of Nelder and
// Mead in the variant published by Michael F. Hutt: a regular initial
// simplex of edge scale around start, reflection 1, expansion 2,
// contraction 0.5, shrinking towards the best vertex, at most 1000
// iterations, stopping when the standard deviation of the vertex values
// drops below epsilon, or when stop (which may be nil) reports true. f may
// modify the point it is given (holt-winters clamps it); the vertex keeps
// the modification, as in 1.x.
func nelderMead(f func([]float64) float64, start []float64, epsilon, scale float64, stop func() bool) (float64, []float64) {
	const (
		maxIterations = 1000
		alpha         = 1.0 // reflection
		beta          = 0.5 // contraction
		gamma         = 2.0 // expansion
	)
	n := len(start)
	v := make([][]float64, n+1)
	for i := range v {
		v[i] = make([]float64, n)
	}
	fv := make([]float64, n+1)
	vr := make([]float64, n)
	ve := make([]float64, n)
	vc := make([]float64, n)
	vm := make([]float64, n)

	fn := float64(n)
	pn := scale * (math.Sqrt(fn+1) - 1 + fn) / (fn * math.Sqrt(2))
	qn := scale * (math.Sqrt(fn+1) - 1) / (fn * math.Sqrt(2))
	copy(v[0], start)
	for i := 1; i <= n; i++ {
		for j := 0; j < n; j++ {
			if i-1 == j {
				v[i][j] = pn + start[j]
			} else {
				v[i][j] = qn + start[j]
			}
		}
	}
	for j := 0; j <= n; j++ {
		fv[j] = f(v[j])
	}

	for itr := 1; itr <= maxIterations; itr++ {
		if stop != nil && itr%32 == 0 && stop() {
			break
		}
		// The worst (vg), best (vs) and second worst (vh) vertices.
		vg, vs := 0, 0
		for i := 0; i <= n; i++ {
			if fv[i] > fv[vg] {
				vg = i
			}
			if fv[i] < fv[vs] {
				vs = i
			}
		}
		vh := vs
		for i := 0; i <= n; i++ {
			if fv[i] > fv[vh] && fv[i] < fv[vg] {
				vh = i
			}
		}
		// The centroid of all vertices but the worst.
		for i := 0; i < n; i++ {
			c := 0.0
			for m := 0; m <= n; m++ {
				if m != vg {
					c += v[m][i]
				}
			}
			vm[i] = c / fn
		}
		for i := 0; i < n; i++ {
			vr[i] = vm[i] + alpha*(vm[i]-v[vg][i])
		}
		fr := f(vr)
		if fr < fv[vh] && fr >= fv[vs] {
			copy(v[vg], vr)
			fv[vg] = fr
		}
		if fr < fv[vs] {
			for i := 0; i < n; i++ {
				ve[i] = vm[i] + gamma*(vr[i]-vm[i])
			}
			fe := f(ve)
			if fe < fr {
				copy(v[vg], ve)
				fv[vg] = fe
			} else {
				copy(v[vg], vr)
				fv[vg] = fr
			}
		}
		if fr >= fv[vh] {
			if fr < fv[vg] && fr >= fv[vh] {
				for i := 0; i < n; i++ {
					vc[i] = vm[i] + beta*(vr[i]-vm[i]) // outside contraction
				}
			} else {
				for i := 0; i < n; i++ {
					vc[i] = vm[i] - beta*(vm[i]-v[vg][i]) // inside contraction
				}
			}
			fc := f(vc)
			if fc < fv[vg] {
				copy(v[vg], vc)
				fv[vg] = fc
			} else {
				// Shrink every vertex halfway towards the best one.
				for row := 0; row <= n; row++ {
					if row == vs {
						continue
					}
					for i := 0; i < n; i++ {
						v[row][i] = v[vs][i] + (v[row][i]-v[vs][i])/2.0
					}
				}
				fv[vg] = f(v[vg])
				fv[vh] = f(v[vh])
			}
		}
		// Converged when the values' standard deviation is below epsilon.
		sum := 0.0
		for i := 0; i <= n; i++ {
			sum += fv[i]
		}
		avg := sum / (fn + 1)
		s := 0.0
		for i := 0; i <= n; i++ {
			s += math.Pow(fv[i]-avg, 2.0) / fn
		}
		if math.Sqrt(s) < epsilon {
			break
		}
	}
	vs := 0
	for i := 0; i <= n; i++ {
		if fv[i] < fv[vs] {
			vs = i
		}
	}
	best := make([]float64, n)
	copy(best, v[vs])
	return f(v[vs]), best
}
