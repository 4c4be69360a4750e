package meta_test

import (
	"errors"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/internal/meta"
	"github.com/stratadb/strata/internal/vfs"
)

func TestAuthenticate(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if err := s.CreateUser("alice", "pw1", false); err != nil {
		t.Fatal(err)
	}
	u := s.Data().User("alice")
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte("pw1")) != nil {
		t.Fatal("stored hash is not a bcrypt hash of the password")
	}
	if cost, _ := bcrypt.Cost([]byte(u.Hash)); cost != bcrypt.MinCost {
		t.Fatalf("bcrypt cost = %d, want the configured %d", cost, bcrypt.MinCost)
	}

	tests := []struct {
		name, user, pw string
		ok             bool
	}{
		{"uncached ok", "alice", "pw1", true},
		{"cached ok", "alice", "pw1", true},
		{"cached wrong", "alice", "pw2", false},
		{"cached empty", "alice", "", false},
		{"cached prefix", "alice", "pw", false},
		{"unknown user", "bob", "pw1", false},
		{"still ok", "alice", "pw1", true},
	}
	for _, tt := range tests {
		got, err := s.Authenticate(tt.user, tt.pw)
		if tt.ok {
			if err != nil || got == nil || got.Name != tt.user {
				t.Fatalf("%s: Authenticate = %v, %v", tt.name, got, err)
			}
			continue
		}
		if !errors.Is(err, meta.ErrAuthenticate) || got != nil {
			t.Fatalf("%s: Authenticate = %v, %v, want ErrAuthenticate", tt.name, got, err)
		}
	}

	// A wrong password before any success goes through bcrypt and fails.
	if err := s.CreateUser("carol", "pw", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("carol", "nope"); !errors.Is(err, meta.ErrAuthenticate) {
		t.Fatalf("uncached wrong password: %v", err)
	}
}

// TestAuthenticateCacheInvalidation changes a password, through the store
// and behind its back, and checks that the old password stops working at
// once even though it is cached.
func TestAuthenticateCacheInvalidation(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if err := s.CreateUser("alice", "old", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("alice", "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword("alice", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("alice", "old"); !errors.Is(err, meta.ErrAuthenticate) {
		t.Fatalf("old password after SetPassword: %v", err)
	}
	if _, err := s.Authenticate("alice", "new"); err != nil {
		t.Fatalf("new password: %v", err)
	}

	// Behind the store's back: a raw hash change through Apply (as a
	// restore or a replicated change would do).
	hash, _ := bcrypt.GenerateFromPassword([]byte("third"), bcrypt.MinCost)
	if err := s.Apply(func(d *meta.Data) error { return d.UpdateUser("alice", string(hash)) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("alice", "new"); !errors.Is(err, meta.ErrAuthenticate) {
		t.Fatalf("cached password after a hash change: %v", err)
	}
	if _, err := s.Authenticate("alice", "third"); err != nil {
		t.Fatalf("third password: %v", err)
	}

	// Dropped and re-created with another password.
	if err := s.Apply(func(d *meta.Data) error { return d.DropUser("alice") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("alice", "third"); !errors.Is(err, meta.ErrAuthenticate) {
		t.Fatalf("dropped user authenticated: %v", err)
	}
	if err := s.CreateUser("alice", "fourth", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("alice", "third"); !errors.Is(err, meta.ErrAuthenticate) {
		t.Fatalf("re-created user accepted the old password: %v", err)
	}
}

func TestStoreUserMutations(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if err := s.CreateUser("", "pw", false); !errors.Is(err, meta.ErrUsernameRequired) {
		t.Fatalf("empty name: %v", err)
	}
	if err := s.CreateUser("u", "pw", false); err != nil {
		t.Fatal(err)
	}
	v := s.Data().Version
	// 1.x: creating the same user again is fine only with the same password
	// and admin flag.
	if err := s.CreateUser("u", "pw", false); err != nil || s.Data().Version != v {
		t.Fatalf("same user again: %v (version %d → %d)", err, v, s.Data().Version)
	}
	if err := s.CreateUser("u", "other", false); !errors.Is(err, meta.ErrUserExists) {
		t.Fatalf("other password: %v", err)
	}
	if err := s.CreateUser("u", "pw", true); !errors.Is(err, meta.ErrUserExists) {
		t.Fatalf("other admin flag: %v", err)
	}
	if err := s.SetPassword("nobody", "pw"); !errors.Is(err, meta.ErrUserNotFound) {
		t.Fatalf("SetPassword(nobody): %v", err)
	}
	long := make([]byte, 80)
	for i := range long {
		long[i] = 'x'
	}
	if err := s.CreateUser("v", string(long), false); err == nil {
		t.Fatal("bcrypt accepted an 80-byte password")
	}
}

func TestAuthenticateConcurrent(t *testing.T) {
	s := openStore(t, vfs.OS{}, t.TempDir())
	if err := s.CreateUser("alice", "pw", false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				pw := "pw"
				if (i+j)%3 == 0 {
					pw = "wrong"
				}
				_, err := s.Authenticate("alice", pw)
				if (pw == "pw") != (err == nil) {
					t.Errorf("Authenticate(%q) = %v", pw, err)
				}
				if j == 10 && i == 0 {
					if err := s.SetPassword("alice", "pw"); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}
