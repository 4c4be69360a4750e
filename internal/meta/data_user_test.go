package meta_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadb/strata/internal/meta"
)

func TestUsers(t *testing.T) {
	d := newData(t)
	checkErr(t, d.CreateUser("", "h", false), meta.ErrUsernameRequired)
	checkErr(t, d.CreateUser("alice", "h1", false), nil)
	checkErr(t, d.CreateUser("alice", "h1", false), meta.ErrUserExists)
	if d.AdminUserExists() {
		t.Fatal("admin exists before any admin")
	}
	checkErr(t, d.CreateUser("root", "h2", true), nil)
	if !d.AdminUserExists() {
		t.Fatal("no admin after creating one")
	}
	checkErr(t, d.SetAdminPrivilege("root", false), nil)
	if d.AdminUserExists() {
		t.Fatal("admin exists after revoking")
	}
	checkErr(t, d.SetAdminPrivilege("nobody", true), meta.ErrUserNotFound)
	checkErr(t, d.SetAdminPrivilege("alice", true), nil)
	if !d.AdminUserExists() {
		t.Fatal("no admin after granting")
	}

	checkErr(t, d.UpdateUser("alice", "h9"), nil)
	if d.User("alice").Hash != "h9" {
		t.Fatalf("hash = %q", d.User("alice").Hash)
	}
	checkErr(t, d.UpdateUser("nobody", "h"), meta.ErrUserNotFound)

	checkErr(t, d.DropUser("alice"), nil)
	checkErr(t, d.DropUser("alice"), meta.ErrUserNotFound)
	if d.User("alice") != nil || d.AdminUserExists() {
		t.Fatal("dropped user remains")
	}
}

func TestPrivileges(t *testing.T) {
	d := newData(t)
	checkErr(t, d.CreateUser("u", "h", false), nil)
	checkErr(t, d.SetPrivilege("nobody", "db0", meta.ReadPrivilege), meta.ErrUserNotFound)
	checkErr(t, d.SetPrivilege("u", "nodb", meta.ReadPrivilege), &meta.DatabaseNotFoundError{Name: "nodb"})
	checkErr(t, d.SetPrivilege("u", "db0", meta.Privilege(9)), meta.ErrInvalidPrivilege)

	p, err := d.UserPrivilege("u", "db0")
	if err != nil || p != meta.NoPrivileges {
		t.Fatalf("privilege before grant = %v, %v", p, err)
	}
	checkErr(t, d.SetPrivilege("u", "db0", meta.WritePrivilege), nil)
	u := d.User("u")
	tests := []struct {
		p    meta.Privilege
		db   string
		want bool
	}{
		{meta.WritePrivilege, "db0", true},
		{meta.ReadPrivilege, "db0", false},
		{meta.AllPrivileges, "db0", false},
		{meta.NoPrivileges, "db0", true},
		{meta.WritePrivilege, "db1", false},
	}
	for _, tt := range tests {
		if got := u.AuthorizeDatabase(tt.p, tt.db); got != tt.want {
			t.Errorf("AuthorizeDatabase(%v, %s) = %v", tt.p, tt.db, got)
		}
	}
	checkErr(t, d.SetPrivilege("u", "db0", meta.AllPrivileges), nil)
	if u := d.User("u"); !u.AuthorizeDatabase(meta.ReadPrivilege, "db0") || !u.AuthorizeDatabase(meta.WritePrivilege, "db0") {
		t.Fatal("ALL does not cover READ and WRITE")
	}
	checkErr(t, d.SetPrivilege("u", "db0", meta.NoPrivileges), nil) // REVOKE ALL
	if u := d.User("u"); u.AuthorizeDatabase(meta.ReadPrivilege, "db0") {
		t.Fatal("revoked privilege still held")
	}
	if _, err := d.UserPrivilege("nobody", "db0"); err != meta.ErrUserNotFound {
		t.Fatalf("UserPrivilege(nobody) err = %v", err)
	}
	admin := &meta.UserInfo{Name: "a", Admin: true}
	if !admin.AuthorizeDatabase(meta.AllPrivileges, "any") {
		t.Fatal("admin not authorized")
	}
}

func TestContinuousQueries(t *testing.T) {
	d := newData(t)
	const q = `CREATE CONTINUOUS QUERY cq0 ON db0 BEGIN SELECT count(v) INTO m2 FROM m GROUP BY time(1h) END`
	checkErr(t, d.CreateContinuousQuery("nodb", "cq0", q), &meta.DatabaseNotFoundError{Name: "nodb"})
	checkErr(t, d.CreateContinuousQuery("db0", "cq0", q), nil)
	// Same text, other case: idempotent, as in 1.x.
	checkErr(t, d.CreateContinuousQuery("db0", "cq0", "create continuous query CQ0 on DB0 begin select COUNT(v) into m2 from m group by time(1h) end"), nil)
	checkErr(t, d.CreateContinuousQuery("db0", "cq0", "SELECT other"), meta.ErrContinuousQueryExists)
	want := []meta.ContinuousQueryInfo{{Name: "cq0", Query: q}}
	if diff := cmp.Diff(want, d.Database("db0").ContinuousQueries); diff != "" {
		t.Fatalf("queries (-want +got):\n%s", diff)
	}
	checkErr(t, d.DropContinuousQuery("db0", "cq0"), nil)
	checkErr(t, d.DropContinuousQuery("db0", "cq0"), nil)  // absent: not an error (1.x)
	checkErr(t, d.DropContinuousQuery("nodb", "cq0"), nil) // likewise
	if len(d.Database("db0").ContinuousQueries) != 0 {
		t.Fatal("query not dropped")
	}
}

func TestSubscriptions(t *testing.T) {
	tests := []struct {
		name string
		db   string
		rp   string
		sub  string
		dest []string
		want error
	}{
		{"udp", "db0", "autogen", "s0", []string{"udp://h:9000"}, nil},
		{"http and https", "db0", "autogen", "s1", []string{"http://h:80", "https://[::1]:443"}, nil},
		{"exists", "db0", "autogen", "s", []string{"udp://h:1"}, meta.ErrSubscriptionExists},
		{"bad scheme", "db0", "autogen", "s2", []string{"ftp://h:21"}, &meta.InvalidSubscriptionURLError{URL: "ftp://h:21"}},
		{"no port", "db0", "autogen", "s2", []string{"http://h"}, &meta.InvalidSubscriptionURLError{URL: "http://h"}},
		{"empty port", "db0", "autogen", "s2", []string{"http://h:"}, &meta.InvalidSubscriptionURLError{URL: "http://h:"}},
		{"unparsable", "db0", "autogen", "s2", []string{"http://%zz"}, &meta.InvalidSubscriptionURLError{URL: "http://%zz"}},
		{"bad url before missing db", "nodb", "autogen", "s2", []string{"x"}, &meta.InvalidSubscriptionURLError{URL: "x"}},
		{"no database", "nodb", "autogen", "s2", []string{"udp://h:1"}, &meta.DatabaseNotFoundError{Name: "nodb"}},
		{"no policy", "db0", "nope", "s2", []string{"udp://h:1"}, &meta.RetentionPolicyNotFoundError{Name: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newData(t)
			checkErr(t, d.CreateSubscription("db0", "autogen", "s", "ALL", []string{"udp://x:1"}), nil)
			dest := append([]string(nil), tt.dest...)
			checkErr(t, d.CreateSubscription(tt.db, tt.rp, tt.sub, "ANY", dest), tt.want)
			if tt.want != nil {
				return
			}
			dest[0] = "changed" // the caller's slice is not kept
			subs := d.Database("db0").RetentionPolicy("autogen").Subscriptions
			want := []meta.SubscriptionInfo{
				{Name: "s", Mode: "ALL", Destinations: []string{"udp://x:1"}},
				{Name: tt.sub, Mode: "ANY", Destinations: tt.dest},
			}
			if diff := cmp.Diff(want, subs); diff != "" {
				t.Fatalf("subscriptions (-want +got):\n%s", diff)
			}
		})
	}
	d := newData(t)
	checkErr(t, d.CreateSubscription("db0", "autogen", "s", "ALL", []string{"udp://x:1"}), nil)
	checkErr(t, d.DropSubscription("db0", "autogen", "nope"), meta.ErrSubscriptionNotFound)
	checkErr(t, d.DropSubscription("db0", "nope", "s"), &meta.RetentionPolicyNotFoundError{Name: "nope"})
	checkErr(t, d.DropSubscription("nodb", "autogen", "s"), &meta.DatabaseNotFoundError{Name: "nodb"})
	checkErr(t, d.DropSubscription("db0", "autogen", "s"), nil)
	if len(d.Database("db0").RetentionPolicy("autogen").Subscriptions) != 0 {
		t.Fatal("subscription not dropped")
	}
}
