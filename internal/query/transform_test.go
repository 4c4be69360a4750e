package query

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratadb/strata/internal/models"
)

// tp is an input point of a transformation test.
type tp struct {
	t int64
	v any
}

// runTransform feeds points to a fresh transformer and returns what it
// emits, flush included.
func runTransform(spec *tfSpec, in []tp) []aggPoint {
	tf := newTransformer(spec)
	var out []aggPoint
	for _, p := range in {
		out = tf.add(out, p.t, p.v)
	}
	return tf.flush(out)
}

const sec = int64(time.Second)

func TestTransforms(t *testing.T) {
	asc := []tp{{0, 1.0}, {10 * sec, 3.0}, {20 * sec, 2.0}, {20 * sec, 9.0}, {40 * sec, 6.0}}
	desc := []tp{{40 * sec, 6.0}, {20 * sec, 2.0}, {10 * sec, 3.0}}
	ints := []tp{{0, int64(5)}, {1 * sec, int64(math.MinInt64)}, {2 * sec, int64(7)}}
	uints := []tp{{0, uint64(5)}, {1 * sec, uint64(3)}, {2 * sec, uint64(10)}}
	minInt, five, seven := int64(math.MinInt64), int64(5), int64(7)
	for _, tc := range []struct {
		name string
		spec tfSpec
		in   []tp
		want []aggPoint
	}{
		{"derivative per second", tfSpec{fn: "derivative", unit: sec, asc: true}, asc,
			// The second point at 20s does not count.
			[]aggPoint{{t: 10 * sec, v: 0.2}, {t: 20 * sec, v: -0.1}, {t: 40 * sec, v: 0.2}}},
		{"derivative per 10s", tfSpec{fn: "derivative", unit: 10 * sec, asc: true}, asc[:2],
			[]aggPoint{{t: 10 * sec, v: 2.0}}},
		{"non-negative derivative", tfSpec{fn: "non_negative_derivative", unit: sec, asc: true}, asc,
			[]aggPoint{{t: 10 * sec, v: 0.2}, {t: 40 * sec, v: 0.2}}},
		{"derivative descending", tfSpec{fn: "derivative", unit: sec}, desc,
			[]aggPoint{{t: 20 * sec, v: -0.2}, {t: 10 * sec, v: 0.1}}},
		{"derivative of integers wraps", tfSpec{fn: "derivative", unit: sec, asc: true}, ints,
			[]aggPoint{{t: 1 * sec, v: float64(minInt - five)}, {t: 2 * sec, v: float64(seven - minInt)}}},
		{"derivative of unsigned keeps the sign", tfSpec{fn: "derivative", unit: sec, asc: true}, uints,
			[]aggPoint{{t: 1 * sec, v: -2.0}, {t: 2 * sec, v: 7.0}}},
		{"difference", tfSpec{fn: "difference"}, asc,
			[]aggPoint{{t: 10 * sec, v: 2.0}, {t: 20 * sec, v: -1.0}, {t: 40 * sec, v: 4.0}}},
		{"non-negative difference", tfSpec{fn: "non_negative_difference"}, asc,
			[]aggPoint{{t: 10 * sec, v: 2.0}, {t: 40 * sec, v: 4.0}}},
		{"difference of unsigned wraps", tfSpec{fn: "difference"}, uints,
			[]aggPoint{{t: 1 * sec, v: uint64(math.MaxUint64 - 1)}, {t: 2 * sec, v: uint64(7)}}},
		{"non-negative difference of unsigned", tfSpec{fn: "non_negative_difference"}, uints,
			[]aggPoint{{t: 2 * sec, v: uint64(7)}}},
		{"cumulative sum counts every point", tfSpec{fn: "cumulative_sum"}, asc,
			[]aggPoint{{t: 0, v: 1.0}, {t: 10 * sec, v: 4.0}, {t: 20 * sec, v: 6.0}, {t: 20 * sec, v: 15.0}, {t: 40 * sec, v: 21.0}}},
		{"cumulative sum of integers", tfSpec{fn: "cumulative_sum"}, ints[:1],
			[]aggPoint{{t: 0, v: int64(5)}}},
		{"moving average", tfSpec{fn: "moving_average", n: 2, in: models.Float}, asc,
			[]aggPoint{{t: 10 * sec, v: 2.0}, {t: 20 * sec, v: 2.5}, {t: 20 * sec, v: 5.5}, {t: 40 * sec, v: 7.5}}},
		{"moving average of integers", tfSpec{fn: "moving_average", n: 3, in: models.Integer},
			[]tp{{0, int64(1)}, {1, int64(2)}, {2, int64(4)}, {3, int64(8)}},
			[]aggPoint{{t: 2, v: 7.0 / 3}, {t: 3, v: 14.0 / 3}}},
		{"moving average window too long", tfSpec{fn: "moving_average", n: 9, in: models.Float}, asc, nil},
		{"elapsed counts points at the same time", tfSpec{fn: "elapsed", unit: sec}, asc,
			[]aggPoint{{t: 10 * sec, v: int64(10)}, {t: 20 * sec, v: int64(10)}, {t: 20 * sec, v: int64(0)}, {t: 40 * sec, v: int64(20)}}},
		{"elapsed descending", tfSpec{fn: "elapsed", unit: 1}, desc,
			[]aggPoint{{t: 20 * sec, v: -20 * sec}, {t: 10 * sec, v: -10 * sec}}},
		{"one point", tfSpec{fn: "derivative", unit: sec, asc: true}, asc[:1], nil},
		{"no points", tfSpec{fn: "exponential_moving_average", n: 2, hold: -1}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runTransform(&tc.spec, tc.in)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(aggPoint{}), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Fatalf("(-want +got)\n%s", diff)
			}
		})
	}
}

// ramp is 1…15…1, the series the reference values below were computed
// for (TA-Lib's).
var ramp = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}

func TestTechnicalAnalysis(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec tfSpec
		want []float64
	}{
		// The first value is held for the warm-up, then the average runs.
		{"ema exponential", tfSpec{fn: "exponential_moving_average", n: 2, hold: 0, warm: warmupEMA},
			[]float64{1, 5.0 / 3, 23.0 / 9}},
		{"ema simple", tfSpec{fn: "exponential_moving_average", n: 3, hold: 0, warm: warmupSMA},
			[]float64{1, 1.5, 2, 3}},
		{"cmo", tfSpec{fn: "chande_momentum_oscillator", n: 10, hold: 10, warm: warmupNone},
			[]float64{100, 100, 100, 100, 100, 80, 60, 40, 20, 0, -20, -40, -60, -80, -100, -100, -100, -100, -100}},
		{"cmo smoothed", tfSpec{fn: "chande_momentum_oscillator", n: 10, hold: 10, warm: warmupSMA},
			[]float64{100, 100, 100, 100, 100, 80, 61.999999999999986, 45.79999999999999, 31.22, 18.097999999999992, 6.288199999999988,
				-4.340620000000012, -13.906558000000008, -22.515902200000014, -30.264311980000013, -37.23788078200001,
				-43.51409270380002, -49.16268343342002, -54.24641509007802}},
		{"kama", tfSpec{fn: "kaufmans_adaptive_moving_average", n: 10, hold: 10},
			[]float64{10.444444444444445, 11.135802469135802, 11.964334705075446, 12.869074836153025, 13.81615268675168,
				13.871008014588556, 13.71308456353558, 13.553331356741122, 13.46599437575161, 13.4515677602438,
				13.29930139347417, 12.805116570729284, 11.752584300922967, 10.036160535131103, 7.797866963961725,
				6.109926091089847, 4.727736717272138, 3.5154092873734104, 2.3974496040963396}},
		{"trix", tfSpec{fn: "triple_exponential_derivative", n: 4, hold: 10, warm: warmupSMA},
			[]float64{18.181818181818187, 15.384615384615374, 13.33333333333333, 11.764705882352944, 10.526315789473696,
				8.304761904761904, 5.641927541329594, 3.0392222148232007, 0.7160675740302658, -1.2848911076603242,
				-2.9999661985600667, -4.493448741755901, -5.836238000516913, -7.099092024379772, -8.352897627933453,
				-9.673028502435233, -11.147601363985949, -12.891818138458877, -15.074463280730022}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ramp
			if len(tc.want) < 5 {
				in = ramp[:len(tc.want)]
			}
			var pts []tp
			for i, v := range in {
				pts = append(pts, tp{int64(i), v})
			}
			var got []float64
			for _, p := range runTransform(&tc.spec, pts) {
				got = append(got, p.v.(float64))
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-7)); diff != "" {
				t.Fatalf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestTechnicalAnalysisDefaults(t *testing.T) {
	// With the default hold period (-1) each algorithm starts emitting
	// after its own warm-up.
	for _, tc := range []struct {
		fn    string
		warm  int
		first int // index of the first point emitted
	}{
		{"exponential_moving_average", warmupEMA, 4},
		{"exponential_moving_average", warmupSMA, 4},
		{"double_exponential_moving_average", warmupEMA, 4},
		{"double_exponential_moving_average", warmupSMA, 8},
		{"triple_exponential_moving_average", warmupSMA, 12},
		{"triple_exponential_derivative", warmupEMA, 5},
		{"triple_exponential_derivative", warmupSMA, 13},
		{"relative_strength_index", warmupEMA, 5},
		{"chande_momentum_oscillator", warmupNone, 4},
		{"chande_momentum_oscillator", warmupEMA, 5},
		{"kaufmans_efficiency_ratio", 0, 5},
		{"kaufmans_adaptive_moving_average", 0, 5},
	} {
		var pts []tp
		for i, v := range ramp {
			pts = append(pts, tp{int64(i), v})
		}
		out := runTransform(&tfSpec{fn: tc.fn, n: 5, hold: -1, warm: tc.warm}, pts)
		if len(out) == 0 || out[0].t != int64(tc.first) {
			t.Errorf("%s warm-up %d: first point %v, want index %d", tc.fn, tc.warm, out, tc.first)
		}
	}
}

func TestNelderMead(t *testing.T) {
	// Rosenbrock's function has its minimum 0 at (1, 1).
	f := func(x []float64) float64 {
		return 100*(x[1]-x[0]*x[0])*(x[1]-x[0]*x[0]) + (1-x[0])*(1-x[0])
	}
	minimum, at := nelderMead(f, []float64{-1.2, 1}, 1e-10, 1, nil)
	if minimum > 1e-6 || math.Abs(at[0]-1) > 1e-2 || math.Abs(at[1]-1) > 1e-2 {
		t.Fatalf("minimum %g at %v", minimum, at)
	}
}

func TestHoltWinters(t *testing.T) {
	const iv = 10 * sec
	// A straight line is forecast to continue (about) straight.
	var line []tp
	for i := range 12 {
		line = append(line, tp{int64(i) * iv, float64(10 + 2*i)})
	}
	out := runTransform(&tfSpec{fn: "holt_winters", n: 3, every: iv}, line)
	if len(out) != 3 {
		t.Fatalf("forecast %v", out)
	}
	for i, p := range out {
		if want := int64(12+i) * iv; p.t != want {
			t.Errorf("point %d at %d, want %d", i, p.t, want)
		}
		if v, want := p.v.(float64), float64(10+2*(12+i)); math.Abs(v-want) > 3 {
			t.Errorf("point %d = %g, want about %g", i, v, want)
		}
	}
	// With the fit, every input slot comes first.
	fit := runTransform(&tfSpec{fn: "holt_winters_with_fit", n: 2, withFit: true, every: iv}, line)
	if len(fit) != 14 || fit[0].t != 0 {
		t.Fatalf("fit %v", fit)
	}
	// Too few points, a season longer than the data, points going
	// backwards: nothing.
	for _, tc := range []struct {
		spec tfSpec
		in   []tp
	}{
		{tfSpec{fn: "holt_winters", n: 2, every: iv}, line[:1]},
		{tfSpec{fn: "holt_winters", n: 2, season: 20, every: iv}, line},
		{tfSpec{fn: "holt_winters", n: 2, every: iv}, []tp{{2 * iv, 1.0}, {iv, 2.0}, {0, 3.0}}},
	} {
		if out := runTransform(&tc.spec, tc.in); len(out) != 0 {
			t.Errorf("%+v: %v", tc.spec, out)
		}
	}
}

func TestMathFunctions(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []any
		want any
	}{
		{"abs", []any{-2.5}, 2.5},
		{"abs", []any{int64(-5)}, int64(-5)}, // 1.x returns integers unchanged
		{"round", []any{-2.5}, -3.0},
		{"round", []any{2.4}, 2.0},
		{"floor", []any{uint64(3)}, uint64(3)},
		{"sqrt", []any{int64(4)}, 2.0},
		{"sqrt", []any{"x"}, nil},
		{"pow", []any{int64(2), 3.0}, 8.0},
		{"log", []any{8.0, 2.0}, 3.0},
		{"atan2", []any{true, 1.0}, nil},
	} {
		got, ok := callMath(tc.name, tc.args)
		if !ok || !cmp.Equal(got, tc.want, cmpopts.EquateApprox(0, 1e-12)) {
			t.Errorf("%s%v = %v, %v; want %v", tc.name, tc.args, got, ok, tc.want)
		}
	}
	if _, ok := callMath("mean", []any{1.0}); ok {
		t.Error("mean is no math function")
	}
	if _, ok := callMath("log", []any{1.0}); ok {
		t.Error("log of one argument evaluates")
	}
	if v := nanToNull(math.Sqrt(-1)); v != nil {
		t.Errorf("NaN = %v, want null", v)
	}
}

// FuzzTransform feeds arbitrary values and times to every transformation:
// no panic, points only at input times (holt-winters excepted), never
// more points than inputs (holt-winters: at most inputs + horizon).
func FuzzTransform(f *testing.F) {
	f.Add([]byte{1, 2, 3, 250, 0, 7, 7, 9}, uint8(0), uint8(2), int8(-1), uint8(0), true)
	f.Add([]byte{0, 0, 0, 0}, uint8(9), uint8(1), int8(0), uint8(2), false)
	f.Add([]byte{255, 128, 3, 3, 3, 200, 1}, uint8(16), uint8(3), int8(2), uint8(1), true)
	fns := []string{"derivative", "non_negative_derivative", "difference", "non_negative_difference",
		"moving_average", "cumulative_sum", "elapsed", "exponential_moving_average",
		"double_exponential_moving_average", "triple_exponential_moving_average", "relative_strength_index",
		"triple_exponential_derivative", "kaufmans_efficiency_ratio", "kaufmans_adaptive_moving_average",
		"chande_momentum_oscillator", "holt_winters", "holt_winters_with_fit"}
	f.Fuzz(func(t *testing.T, data []byte, fn, n uint8, hold int8, warm uint8, asc bool) {
		name := fns[int(fn)%len(fns)]
		spec := &tfSpec{fn: name, n: 1 + int(n)%20, hold: max(-1, int(hold)), warm: int(warm) % 3, asc: asc,
			unit: sec, every: sec, season: int(n) % 4, withFit: name == "holt_winters_with_fit", in: models.Float}
		if name == "moving_average" && spec.n < 2 {
			spec.n = 2
		}
		if spec.warm == warmupNone && name != "chande_momentum_oscillator" {
			spec.warm = warmupEMA
		}
		if name == "elapsed" {
			spec.unit = 1
		}
		var in []tp
		times := map[int64]bool{}
		ts := int64(0)
		for i := 0; i+1 < len(data) && len(in) < 200; i += 2 {
			step := int64(data[i]%4) * sec
			if !asc {
				step = -step
			}
			ts += step
			v := float64(int8(data[i+1])) / 3
			if data[i+1] == 255 {
				v = math.Inf(1)
			}
			in = append(in, tp{ts, v})
			times[ts] = true
		}
		out := runTransform(spec, in)
		limit := len(in)
		if (name == "holt_winters" || name == "holt_winters_with_fit") && len(in) > 0 {
			// One point per interval of the grid, and the horizon.
			limit = int(abs64(in[len(in)-1].t-in[0].t)/spec.every) + 2 + spec.n
		}
		if len(out) > limit {
			t.Fatalf("%s: %d points from %d", name, len(out), len(in))
		}
		for _, p := range out {
			if !times[p.t] && name != "holt_winters" && name != "holt_winters_with_fit" {
				t.Fatalf("%s: point at %d, not an input time", name, p.t)
			}
		}
	})
}

// BenchmarkTransformers runs each transformation over 100,000 points,
// without storage.
func BenchmarkTransformers(b *testing.B) {
	const n = 100_000
	in := make([]tp, n)
	for i := range in {
		in[i] = tp{int64(i) * sec, float64(i%1000) + 0.5}
	}
	for _, spec := range []tfSpec{
		{fn: "derivative", unit: sec, asc: true},
		{fn: "difference"},
		{fn: "moving_average", n: 10, in: models.Float},
		{fn: "cumulative_sum"},
		{fn: "elapsed", unit: 1},
		{fn: "exponential_moving_average", n: 10, hold: -1},
		{fn: "triple_exponential_derivative", n: 10, hold: -1},
		{fn: "relative_strength_index", n: 14, hold: -1},
		{fn: "chande_momentum_oscillator", n: 14, hold: -1, warm: warmupNone},
		{fn: "kaufmans_adaptive_moving_average", n: 10, hold: -1},
	} {
		b.Run(spec.fn, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(n * 16)
			out := make([]aggPoint, 0, n)
			for b.Loop() {
				tf := newTransformer(&spec)
				out = out[:0]
				for _, p := range in {
					out = tf.add(out, p.t, p.v)
				}
			}
		})
	}
	b.Run("holt_winters_1000", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(1000 * 16)
		for b.Loop() {
			tf := newTransformer(&tfSpec{fn: "holt_winters", n: 10, season: 4, every: sec})
			for _, p := range in[:1000] {
				tf.add(nil, p.t, p.v)
			}
			tf.flush(nil)
		}
	})
}
