package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratadb/strata/e2e/harness"
)

// TestMetaKill9DuringChangesKeepsAcknowledgedState streams meta changes
// (databases, retention policies, users, grants, passwords, drops, and
// writes, which create shard groups) into stratad from two clients while
// kill -9 hits it at a random moment, several times. A change is
// acknowledged when its request answered 200 with no error (204 for a
// write). After each restart the server's state must be exactly the model
// of the acknowledged changes, plus, for each client, possibly the one
// change that was in flight when the server died. At the end every
// acknowledged point of a live database is stored, nothing of a dropped
// one is, and `strata inspect verify` passes.
func TestMetaKill9DuringChangesKeepsAcknowledgedState(t *testing.T) {
	t.Parallel()
	rounds := 3
	if testing.Short() {
		rounds = 2
	}
	cfg := authConfig("")
	rng := rand.New(rand.NewPCG(11, 23))
	model := newMetaModel()
	dir := t.TempDir()
	s := harness.Start(t, harness.Options{Dir: dir, Config: cfg})
	bootstrapAdmin(t, s)
	mustAdmin(t, s, "SHOW USERS") // pays the admin's bcrypt check before the clock starts
	streams := []*metaStream{{name: "a", rng: rand.New(rand.NewPCG(1, 2))}, {name: "b", rng: rand.New(rand.NewPCG(3, 4))}}

	acked := 0
	for round := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var progress atomic.Int64
		for _, st := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st.run(ctx, s, model, &progress)
			}()
		}
		// Kill at a random moment once a random number of changes went
		// through (bcrypt makes a fixed delay a poor measure of progress
		// on a busy machine), or after a bound.
		target := int64(10 + rng.IntN(30))
		for deadline := time.Now().Add(20 * time.Second); progress.Load() < target && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		s.Kill()
		cancel()
		wg.Wait()
		for _, st := range streams {
			if st.err != "" {
				t.Fatalf("round %d, stream %s: %s", round, st.name, st.err)
			}
			acked += st.acked
			t.Logf("round %d, stream %s: %d changes acknowledged, in doubt: %s", round, st.name, st.acked, st.doubt)
			st.acked = 0
		}
		s = s.Restart(harness.Options{Config: cfg})
		model.reconcile(t, s, streams)
	}
	if acked == 0 {
		t.Fatal("no change was acknowledged: the test proved nothing")
	}

	// The server answers normally.
	mustAdmin(t, s, "CREATE DATABASE probe; CREATE RETENTION POLICY p ON probe DURATION 2h REPLICATION 1 DEFAULT")
	wantStatus(t, "probe write", writeAs(t, s, adminCred(), "probe", "probe v=1"), http.StatusNoContent)
	mustAdmin(t, s, "DROP DATABASE probe")
	model.check(t, s)
	// Password hashes survived the crashes, SET PASSWORD's included. A
	// few users only: each login pays a bcrypt comparison.
	for range 2 {
		model.checkPassword(t, s, rng)
	}
	s.Stop()

	model.checkPoints(t, harness.Export(t, dir))
	out, errOut, err := harness.RunStrata(t, "inspect", "verify",
		"-dir", filepath.Join(dir, "data"), "-wal-dir", filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatalf("strata inspect verify after the crashes: %v\n%s\n%s", err, out, errOut)
	}
	t.Logf("%d meta changes acknowledged over %d kill -9 rounds, all present", acked, rounds)
}

// rpModel is one retention policy as SHOW RETENTION POLICIES lists it.
type rpModel struct {
	duration string
	def      bool
}

// metaState is the part of meta the streams change, plus the points
// written.
type metaState struct {
	dbs     map[string]map[string]rpModel // database → policy
	users   map[string]string             // user → password
	grants  map[string]map[string]int     // user → database → privilege bits (1 READ, 2 WRITE)
	points  map[string]string             // acknowledged line → "db/rp" it went to
	maybe   map[string]string             // line of a write in doubt → "db/rp"
	dropped map[string]bool               // dropped "db" and "db/rp"
	// pwDoubt holds the new password of a SET PASSWORD that was in
	// doubt: SHOW cannot tell whether it ran, a login can.
	pwDoubt map[string]string
}

func (m *metaState) clone() *metaState {
	c := &metaState{
		dbs:     map[string]map[string]rpModel{},
		users:   maps.Clone(m.users),
		grants:  map[string]map[string]int{},
		points:  maps.Clone(m.points),
		maybe:   maps.Clone(m.maybe),
		dropped: maps.Clone(m.dropped),
		pwDoubt: maps.Clone(m.pwDoubt),
	}
	for k, v := range m.dbs {
		c.dbs[k] = maps.Clone(v)
	}
	for k, v := range m.grants {
		c.grants[k] = maps.Clone(v)
	}
	return c
}

// lines renders the state as SHOW statements would, one sorted line per
// fact.
func (m *metaState) lines() []string {
	var out []string
	for db, rps := range m.dbs {
		out = append(out, "database "+db)
		for name, rp := range rps {
			out = append(out, fmt.Sprintf("policy %s.%s %s default=%v", db, name, rp.duration, rp.def))
		}
	}
	for u := range m.users {
		out = append(out, fmt.Sprintf("user %s admin=%v", u, u == authAdmin))
		for db, p := range m.grants[u] {
			out = append(out, fmt.Sprintf("grant %s %s %s", u, db, privilegeName(p)))
		}
	}
	slices.Sort(out)
	return out
}

func privilegeName(p int) string {
	return [...]string{"NO PRIVILEGES", "READ", "WRITE", "ALL PRIVILEGES"}[p]
}

// metaModel is the state the acknowledged changes leave, shared by the
// streams (which touch disjoint names).
type metaModel struct {
	mu sync.Mutex // guards st
	st *metaState
}

func newMetaModel() *metaModel {
	return &metaModel{st: &metaState{
		dbs:     map[string]map[string]rpModel{},
		users:   map[string]string{authAdmin: authAdminPass},
		grants:  map[string]map[string]int{},
		points:  map[string]string{},
		maybe:   map[string]string{},
		dropped: map[string]bool{},
		pwDoubt: map[string]string{},
	}}
}

// metaOp is one change: a statement, or a write when line is set.
type metaOp struct {
	q      string
	db     string
	line   string
	pwUser string // SET PASSWORD: the user
	pwNew  string // and the new password
	loc    string // a write: "db/rp" it goes to
	apply  func(*metaState)
}

func (op *metaOp) String() string {
	if op == nil {
		return "none"
	}
	if op.line != "" {
		return "write " + op.line
	}
	return op.q
}

// metaStream is one client sending changes one at a time.
type metaStream struct {
	name  string
	rng   *rand.Rand
	n     int     // names made so far
	acked int     // changes acknowledged this round
	doubt *metaOp // the change in flight when the server died
	err   string  // an unexpected answer
}

func (st *metaStream) newName(kind string) string {
	st.n++
	return fmt.Sprintf("%s_%s%d", st.name, kind, st.n)
}

func (st *metaStream) own(names []string) []string {
	var mine []string
	for _, n := range names {
		if strings.HasPrefix(n, st.name+"_") {
			mine = append(mine, n)
		}
	}
	slices.Sort(mine)
	return mine
}

func (st *metaStream) pick(names []string) string { return names[st.rng.IntN(len(names))] }

// next chooses a change that is valid in state m.
func (st *metaStream) next(m *metaState) *metaOp {
	dbs := st.own(slices.Collect(maps.Keys(m.dbs)))
	users := st.own(slices.Collect(maps.Keys(m.users)))
	for {
		switch k := st.rng.IntN(100); {
		case k < 14 || len(dbs) == 0:
			db := st.newName("db")
			return &metaOp{q: "CREATE DATABASE " + db, apply: func(m *metaState) {
				m.dbs[db] = map[string]rpModel{"autogen": {"0s", true}}
			}}
		case k < 26:
			db, rp := st.pick(dbs), st.newName("rp")
			dur := []string{"1h", "2h", "24h"}[st.rng.IntN(3)]
			def := st.rng.IntN(3) == 0
			q := fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION %s REPLICATION 1", rp, db, dur)
			if def {
				q += " DEFAULT"
			}
			return &metaOp{q: q, apply: func(m *metaState) {
				if def {
					for name, p := range m.dbs[db] {
						p.def = false
						m.dbs[db][name] = p
					}
				}
				m.dbs[db][rp] = rpModel{strings.TrimSuffix(dur, "h") + "h0m0s", def}
			}}
		case k < 32:
			db := st.pick(dbs)
			var drop []string
			for name, p := range m.dbs[db] {
				if !p.def {
					drop = append(drop, name)
				}
			}
			if len(drop) == 0 {
				continue
			}
			slices.Sort(drop)
			rp := st.pick(drop)
			return &metaOp{q: fmt.Sprintf("DROP RETENTION POLICY %s ON %s", rp, db), apply: func(m *metaState) {
				delete(m.dbs[db], rp) // and its data: a policy once default may hold points
				m.dropped[db+"/"+rp] = true
			}}
		case k < 34:
			// bcrypt makes CREATE USER the slowest change: keep it rare.
			u := st.newName("u")
			pw := "pw-" + u
			return &metaOp{q: fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s'", u, pw), apply: func(m *metaState) {
				m.users[u] = pw
			}}
		case k < 35:
			if len(users) == 0 {
				continue
			}
			u := st.pick(users)
			st.n++
			pw := fmt.Sprintf("pw-%s-%d", u, st.n)
			return &metaOp{q: fmt.Sprintf("SET PASSWORD FOR %s = '%s'", u, pw), pwUser: u, pwNew: pw, apply: func(m *metaState) {
				m.users[u] = pw
				delete(m.pwDoubt, u)
			}}
		case k < 56:
			if len(users) == 0 {
				continue
			}
			u, db := st.pick(users), st.pick(dbs)
			p := 1 + st.rng.IntN(3)
			return &metaOp{q: fmt.Sprintf("GRANT %s ON %s TO %s", []string{"", "READ", "WRITE", "ALL"}[p], db, u),
				apply: func(m *metaState) {
					if m.grants[u] == nil {
						m.grants[u] = map[string]int{}
					}
					m.grants[u][db] = p
				}}
		case k < 62:
			if len(users) == 0 {
				continue
			}
			u := st.pick(users)
			held := slices.Sorted(maps.Keys(m.grants[u]))
			if len(held) == 0 {
				continue
			}
			db := st.pick(held)
			p := 1 + st.rng.IntN(3)
			return &metaOp{q: fmt.Sprintf("REVOKE %s ON %s FROM %s", []string{"", "READ", "WRITE", "ALL"}[p], db, u),
				apply: func(m *metaState) { m.grants[u][db] &^= p }}
		case k < 67:
			db := st.pick(dbs)
			return &metaOp{q: "DROP DATABASE " + db, apply: func(m *metaState) {
				delete(m.dbs, db)
				for _, g := range m.grants {
					delete(g, db)
				}
				m.dropped[db] = true
			}}
		case k < 70:
			if len(users) == 0 {
				continue
			}
			u := st.pick(users)
			return &metaOp{q: "DROP USER " + u, apply: func(m *metaState) {
				delete(m.users, u)
				delete(m.grants, u)
				delete(m.pwDoubt, u)
			}}
		default:
			db := st.pick(dbs)
			st.n++
			line := fmt.Sprintf("m_%s,s=%s v=%di %d", db, st.name, st.n, time.Now().UnixNano())
			// The write goes to the default policy; this stream alone
			// changes this database, so it is the same when the write runs.
			loc := db + "/"
			for name, p := range m.dbs[db] {
				if p.def {
					loc += name
				}
			}
			return &metaOp{db: db, line: line, loc: loc, apply: func(m *metaState) { m.points[line] = loc }}
		}
	}
}

// run sends changes until ctx ends or the server stops answering; the
// change whose request failed is left in doubt.
func (st *metaStream) run(ctx context.Context, s *harness.Server, model *metaModel, progress *atomic.Int64) {
	st.doubt = nil
	for ctx.Err() == nil {
		model.mu.Lock()
		op := st.next(model.st)
		model.mu.Unlock()

		var r harness.Response
		var err error
		if op.line != "" {
			u := url.Values{"db": {op.db}}
			h := adminCred().apply(u)
			r, err = tryDo(s, http.MethodPost, "/write?"+u.Encode(), h, op.line)
		} else {
			path, h, body := queryReq(adminCred(), op.q)
			r, err = tryDo(s, http.MethodPost, path, h, body)
		}
		if err != nil {
			st.doubt = op
			if op.line != "" {
				model.mu.Lock()
				model.st.maybe[op.line] = op.loc
				model.mu.Unlock()
			}
			return
		}
		if !acknowledged(op, r) {
			st.err = fmt.Sprintf("%s: status %d: %s", op, r.Status, r.Body)
			return
		}
		model.mu.Lock()
		op.apply(model.st)
		model.mu.Unlock()
		st.acked++
		progress.Add(1)
	}
}

func acknowledged(op *metaOp, r harness.Response) bool {
	if op.line != "" {
		return r.Status == http.StatusNoContent
	}
	if r.Status != http.StatusOK {
		return false
	}
	var qr queryResults
	if json.Unmarshal([]byte(r.Body), &qr) != nil || qr.Error != "" || len(qr.Results) == 0 {
		return false
	}
	for _, res := range qr.Results {
		if res.Error != "" {
			return false
		}
	}
	return true
}

// serverLines reads the server's state with SHOW statements, rendered as
// metaState.lines does.
func serverLines(t *testing.T, s *harness.Server) []string {
	t.Helper()
	var out []string
	dbs := seriesValues(mustAdmin(t, s, "SHOW DATABASES"))
	if len(dbs) > 0 {
		var q []string
		for _, db := range dbs {
			out = append(out, "database "+db)
			q = append(q, "SHOW RETENTION POLICIES ON "+db)
		}
		qr := mustAdmin(t, s, strings.Join(q, "; "))
		for i, res := range qr.Results {
			for _, row := range res.Series {
				col := map[string]int{}
				for j, c := range row.Columns {
					col[c] = j
				}
				for _, v := range row.Values {
					out = append(out, fmt.Sprintf("policy %s.%v %v default=%v", dbs[i], v[col["name"]], v[col["duration"]], v[col["default"]]))
				}
			}
		}
	}
	users := seriesValues(mustAdmin(t, s, "SHOW USERS"))
	var q []string
	var names []string
	for _, row := range users {
		name, admin, _ := strings.Cut(row, ",")
		out = append(out, fmt.Sprintf("user %s admin=%s", name, admin))
		names = append(names, name)
		q = append(q, "SHOW GRANTS FOR "+name)
	}
	if len(q) > 0 {
		qr := mustAdmin(t, s, strings.Join(q, "; "))
		for i, res := range qr.Results {
			for _, row := range res.Series {
				for _, v := range row.Values {
					out = append(out, fmt.Sprintf("grant %s %v %v", names[i], v[0], v[1]))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// reconcile compares the restarted server with the model. Each stream may
// have had one change in flight when the server died; the server must
// match the model with some subset of those applied, which then becomes
// the model.
func (m *metaModel) reconcile(t *testing.T, s *harness.Server, streams []*metaStream) {
	t.Helper()
	got := serverLines(t, s)
	var doubts []*metaOp
	for _, st := range streams {
		// A write in doubt is already in maybe; it changes no meta fact
		// SHOW can see.
		if st.doubt != nil && st.doubt.line == "" {
			doubts = append(doubts, st.doubt)
		}
		st.doubt = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for mask := range 1 << len(doubts) {
		cand := m.st.clone()
		for i, op := range doubts {
			if mask&(1<<i) != 0 {
				op.apply(cand)
			}
		}
		if slices.Equal(cand.lines(), got) {
			for i, op := range doubts {
				if mask&(1<<i) == 0 && op.pwUser != "" {
					// Indistinguishable by SHOW: settled at the next login.
					cand.pwDoubt[op.pwUser] = op.pwNew
				}
			}
			m.st = cand
			return
		}
	}
	t.Fatalf("after kill -9 and restart the meta state is not the acknowledged one (in doubt: %v):\n%s",
		doubts, lineDiff(m.st.lines(), got))
}

// check compares the server with the model, nothing in doubt.
func (m *metaModel) check(t *testing.T, s *harness.Server) {
	t.Helper()
	got := serverLines(t, s)
	m.mu.Lock()
	want := m.st.lines()
	m.mu.Unlock()
	if !slices.Equal(want, got) {
		t.Fatalf("meta state differs from the model:\n%s", lineDiff(want, got))
	}
}

// checkPassword logs in as one of the streams' users with the password the
// model says it has: hashes survive the crashes, SET PASSWORD included.
// One user per round, since each check costs a bcrypt comparison.
func (m *metaModel) checkPassword(t *testing.T, s *harness.Server, rng *rand.Rand) {
	t.Helper()
	m.mu.Lock()
	var users []string
	for u := range m.st.users {
		if u != authAdmin {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	if len(users) == 0 {
		m.mu.Unlock()
		return
	}
	u := users[rng.IntN(len(users))]
	pws := []string{m.st.users[u]}
	if pw, ok := m.st.pwDoubt[u]; ok {
		pws = append(pws, pw)
	}
	m.mu.Unlock()
	for _, pw := range pws {
		r := queryAs(t, s, basic(u, pw), "SHOW DATABASES")
		if r.Status == http.StatusOK {
			m.mu.Lock()
			m.st.users[u] = pw
			delete(m.st.pwDoubt, u)
			m.mu.Unlock()
			return
		}
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("log in as %s after restart: status %d: %s", u, r.Status, r.Body)
		}
	}
	t.Fatalf("after restart %s cannot log in with its acknowledged password (%d candidates)", u, len(pws))
}

// checkPoints compares the exported points with the writes: every
// acknowledged point of a live policy is there, nothing of a dropped
// database or policy is, and nothing else is (a write in doubt may be).
func (m *metaModel) checkPoints(t *testing.T, exported []string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	isDropped := func(loc string) bool {
		db, _, _ := strings.Cut(loc, "/")
		return m.st.dropped[db] || m.st.dropped[loc]
	}
	got := map[string]bool{}
	for _, l := range exported {
		got[l] = true
		loc, ok := m.st.points[l]
		if !ok {
			loc, ok = m.st.maybe[l]
		}
		switch {
		case !ok:
			t.Errorf("a point nobody wrote: %s", l)
		case isDropped(loc):
			t.Errorf("a point of dropped %s survived: %s", loc, l)
		}
	}
	live, lost := 0, 0
	for l, loc := range m.st.points {
		if isDropped(loc) {
			continue
		}
		live++
		if !got[l] {
			lost++
			t.Errorf("acknowledged point in %s lost: %s", loc, l)
		}
	}
	t.Logf("%d acknowledged points in live policies, %d lost", live, lost)
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got []string) string {
	var b strings.Builder
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range want {
		w[l] = true
	}
	for _, l := range got {
		g[l] = true
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range want {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}
