package httpd

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stratadb/strata/internal/query"
)

// credentials are what a request presented: a user and password, or a
// bearer token.
type credentials struct {
	bearer   bool
	username string
	password string
	token    string
}

// parseCredentials finds the request's credentials in 1.x's order:
//  1. the u and p URL parameters (both non-empty);
//  2. "Authorization: Bearer <JWT>" or "Authorization: Token user:pass"
//     (the v2-compatible form), scheme and value separated by one space;
//  3. "Authorization: Basic …".
func parseCredentials(r *http.Request, params url.Values) (credentials, error) {
	if u, p := params.Get("u"), params.Get("p"); u != "" && p != "" {
		return credentials{username: u, password: p}, nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return credentials{}, ErrNoCredentials
	}
	if scheme, value, ok := strings.Cut(auth, " "); ok && !strings.Contains(value, " ") {
		switch scheme {
		case "Bearer":
			return credentials{bearer: true, token: value}, nil
		case "Token":
			if u, p, ok := strings.Cut(value, ":"); ok {
				return credentials{username: u, password: p}, nil
			}
		}
	}
	if u, p, ok := r.BasicAuth(); ok {
		return credentials{username: u, password: p}, nil
	}
	return credentials{}, ErrNoCredentials
}

// authenticate returns the request's user. It returns a nil user when auth
// is disabled, and while no admin user exists: that bootstrap rule lets the
// first admin be created, and the executor decides what an anonymous
// caller may do meanwhile.
func (h *Handler) authenticate(req *request) (query.User, error) {
	if !h.opts.AuthEnabled {
		return nil, nil
	}
	if h.users == nil {
		return nil, ErrAuthWithoutUserStore
	}
	if !h.users.AdminUserExists() {
		return nil, nil
	}
	creds, err := parseCredentials(req.Request, req.params)
	if err != nil {
		return nil, unauthorized(err)
	}
	if creds.bearer {
		return h.authenticateToken(creds.token)
	}
	if creds.username == "" {
		return nil, unauthorized(ErrUsernameRequired)
	}
	user, err := h.users.Authenticate(creds.username, creds.password)
	if err != nil || user == nil {
		// The store's error is not passed on: it could tell an unknown
		// user from a wrong password.
		return nil, unauthorized(ErrAuthenticationFailed)
	}
	return user, nil
}

// authenticateToken verifies a JWT signed with the shared secret (HMAC
// only) that carries an exp claim and the name of an existing user.
func (h *Handler) authenticateToken(raw string) (query.User, error) {
	if h.opts.SharedSecret == "" {
		return nil, unauthorized(ErrBearerAuthDisabled)
	}
	keyFunc := func(t *jwt.Token) (any, error) {
		// Refusing any other method stops a token signed with "none", or
		// with an RSA public key used as an HMAC secret, from passing.
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, fmt.Errorf("unexpected signing method: %v", t.Header["alg"])
		}
		return []byte(h.opts.SharedSecret), nil
	}
	claims := jwt.MapClaims{}
	token, err := jwt.ParseWithClaims(raw, claims, keyFunc, jwt.WithTimeFunc(h.now))
	if err != nil {
		return nil, unauthorized(err)
	}
	if !token.Valid {
		return nil, unauthorized(ErrTokenInvalid)
	}
	// The parser checks exp only when present; 1.x requires it.
	if exp, ok := claims["exp"].(float64); !ok || exp <= 0 {
		return nil, unauthorized(ErrTokenExpirationRequired)
	}
	username, ok := claims["username"].(string)
	if !ok {
		return nil, unauthorized(ErrTokenUsernameType)
	}
	if username == "" {
		return nil, unauthorized(ErrTokenUsernameMissing)
	}
	user, err := h.users.LookupUser(username)
	if err != nil {
		return nil, unauthorized(err)
	}
	if user == nil {
		return nil, unauthorized(ErrUserNotFound)
	}
	return user, nil
}

// authorizeWrite checks that the request's user may write to db, with
// 1.x's texts.
func (h *Handler) authorizeWrite(req *request, db string) error {
	if !h.opts.AuthEnabled {
		return nil
	}
	if req.user == nil {
		return forbidden(fmt.Errorf("user is required to write to database %q", db))
	}
	if !req.user.CanWrite(db) {
		return forbidden(fmt.Errorf("%q user is not authorized to write to database %q", req.user.Name(), db))
	}
	return nil
}
