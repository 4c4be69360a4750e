package meta

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// authCache remembers, per user, a fast salted hash of the last password
// that bcrypt verified, so that a client sending the same credentials with
// every request pays bcrypt once, not per request (1.x does the same).
type authCache struct {
	mu sync.Mutex // guards m
	m  map[string]authEntry
}

// authEntry is valid only while the user's bcrypt hash is still bhash: a
// password change (from this store, a restore or a replicated change)
// invalidates it without anyone having to remember to.
type authEntry struct {
	bhash string
	salt  [32]byte
	sum   [sha256.Size]byte
}

func saltedSum(salt *[32]byte, password string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(salt[:])
	h.Write([]byte(password))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func (c *authCache) get(name string) (authEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[name]
	return e, ok
}

func (c *authCache) put(name string, e authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[name] = e
}

func (c *authCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
}

// Authenticate returns the user whose name and password match. It returns
// ErrAuthenticate for an unknown user and for a wrong password alike.
//
// The first success costs a bcrypt comparison and caches SHA-256(random
// salt ‖ password) for the user's current hash; later calls compare against
// that in constant time. A password that differs from the cached one is
// rejected without bcrypt: the cache holds the one password bcrypt
// accepted for this exact hash, so a mismatch is known to be wrong. Nothing
// is ever accepted without a verified match. The result is read-only.
func (s *Store) Authenticate(name, password string) (*UserInfo, error) {
	u := s.Data().User(name)
	if u == nil {
		s.auth.forget(name)
		return nil, ErrAuthenticate
	}
	if e, ok := s.auth.get(name); ok && e.bhash == u.Hash {
		sum := saltedSum(&e.salt, password)
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			return u, nil
		}
		return nil, ErrAuthenticate
	}
	if err := bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)); err != nil {
		return nil, ErrAuthenticate
	}
	e := authEntry{bhash: u.Hash}
	rand.Read(e.salt[:]) // never fails (crypto/rand since Go 1.24)
	e.sum = saltedSum(&e.salt, password)
	s.auth.put(name, e)
	return u, nil
}

// CreateUser creates a user with a bcrypt hash of password. Creating a user
// that exists with the same password and admin flag is not an error (1.x);
// otherwise it is ErrUserExists.
func (s *Store) CreateUser(name, password string, admin bool) error {
	if name == "" {
		return ErrUsernameRequired
	}
	if u := s.Data().User(name); u != nil {
		if u.Admin == admin && bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) == nil {
			return nil
		}
		return ErrUserExists
	}
	// Hash outside Apply: bcrypt takes tens of milliseconds and Apply is
	// serialised.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.BcryptCost)
	if err != nil {
		return err
	}
	return s.Apply(func(d *Data) error { return d.CreateUser(name, string(hash), admin) })
}

// SetPassword replaces a user's password (SET PASSWORD FOR).
func (s *Store) SetPassword(name, password string) error {
	if s.Data().User(name) == nil {
		return ErrUserNotFound
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.BcryptCost)
	if err != nil {
		return err
	}
	if err := s.Apply(func(d *Data) error { return d.UpdateUser(name, string(hash)) }); err != nil {
		return err
	}
	s.auth.forget(name)
	return nil
}
