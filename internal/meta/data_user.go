package meta

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// CreateUser adds a user with an already computed password hash.
func (d *Data) CreateUser(name, hash string, admin bool) error {
	if name == "" {
		return ErrUsernameRequired
	}
	if d.User(name) != nil {
		return ErrUserExists
	}
	d.Users = append(d.Users, UserInfo{Name: name, Hash: hash, Admin: admin})
	return nil
}

// UpdateUser replaces a user's password hash.
func (d *Data) UpdateUser(name, hash string) error {
	u := d.User(name)
	if u == nil {
		return ErrUserNotFound
	}
	u.Hash = hash
	return nil
}

// DropUser removes a user.
func (d *Data) DropUser(name string) error {
	for i := range d.Users {
		if d.Users[i].Name == name {
			d.Users = append(d.Users[:i], d.Users[i+1:]...)
			return nil
		}
	}
	return ErrUserNotFound
}

// SetPrivilege sets a user's privilege on a database (GRANT/REVOKE);
// NoPrivileges is stored as such, as 1.x does.
func (d *Data) SetPrivilege(user, db string, p Privilege) error {
	if !p.Valid() {
		return ErrInvalidPrivilege
	}
	u := d.User(user)
	if u == nil {
		return ErrUserNotFound
	}
	if d.Database(db) == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	if u.Privileges == nil {
		u.Privileges = make(map[string]Privilege)
	}
	u.Privileges[db] = p
	return nil
}

// SetAdminPrivilege grants or revokes admin rights.
func (d *Data) SetAdminPrivilege(user string, admin bool) error {
	u := d.User(user)
	if u == nil {
		return ErrUserNotFound
	}
	u.Admin = admin
	return nil
}

// UserPrivilege returns a user's privilege on a database (NoPrivileges when
// none was granted).
func (d *Data) UserPrivilege(user, db string) (Privilege, error) {
	u := d.User(user)
	if u == nil {
		return NoPrivileges, ErrUserNotFound
	}
	return u.Privileges[db], nil
}

// CreateContinuousQuery adds a continuous query to db. Creating it again
// with the same text (compared case-insensitively, as 1.x does) is not an
// error; the same name with another text is.
func (d *Data) CreateContinuousQuery(db, name, query string) error {
	di := d.Database(db)
	if di == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	if cq := di.ContinuousQuery(name); cq != nil {
		if strings.EqualFold(cq.Query, query) {
			return nil
		}
		return ErrContinuousQueryExists
	}
	di.ContinuousQueries = append(di.ContinuousQueries, ContinuousQueryInfo{Name: name, Query: query})
	return nil
}

// DropContinuousQuery removes a continuous query. A missing database or
// query is not an error (1.x since 1.3), so a drop can be repeated.
func (d *Data) DropContinuousQuery(db, name string) error {
	di := d.Database(db)
	if di == nil {
		return nil
	}
	for i := range di.ContinuousQueries {
		if di.ContinuousQueries[i].Name == name {
			di.ContinuousQueries = append(di.ContinuousQueries[:i], di.ContinuousQueries[i+1:]...)
			return nil
		}
	}
	return nil
}

// validateSubscriptionURL accepts udp://, http:// and https:// URLs with a
// host:port, as 1.x does.
func validateSubscriptionURL(dest string) error {
	u, err := url.Parse(dest)
	if err != nil {
		return &InvalidSubscriptionURLError{URL: dest}
	}
	if u.Scheme != "udp" && u.Scheme != "http" && u.Scheme != "https" {
		return &InvalidSubscriptionURLError{URL: dest}
	}
	if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
		return &InvalidSubscriptionURLError{URL: dest}
	}
	return nil
}

// CreateSubscription adds a subscription to db.rp. The destinations are
// checked first, as in 1.x.
func (d *Data) CreateSubscription(db, rp, name, mode string, dest []string) error {
	for _, u := range dest {
		if err := validateSubscriptionURL(u); err != nil {
			return err
		}
	}
	rpi, err := d.RetentionPolicy(db, rp)
	if err != nil {
		return err
	}
	for i := range rpi.Subscriptions {
		if rpi.Subscriptions[i].Name == name {
			return ErrSubscriptionExists
		}
	}
	rpi.Subscriptions = append(rpi.Subscriptions, SubscriptionInfo{
		Name: name, Mode: mode, Destinations: slices.Clone(dest),
	})
	return nil
}

// DropSubscription removes a subscription of db.rp.
func (d *Data) DropSubscription(db, rp, name string) error {
	rpi, err := d.RetentionPolicy(db, rp)
	if err != nil {
		return err
	}
	for i := range rpi.Subscriptions {
		if rpi.Subscriptions[i].Name == name {
			rpi.Subscriptions = append(rpi.Subscriptions[:i], rpi.Subscriptions[i+1:]...)
			return nil
		}
	}
	return ErrSubscriptionNotFound
}
