package httpd

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/stratadb/strata/internal/models"
)

// maxErrorHeader bounds the X-Influxdb-Error header, as in 1.x.
const maxErrorHeader = 1024

// errorKind classifies errors whose text is built at the call site (a
// parse error, a JWT error, "user is required to write to database …")
// so that statusOf can still decide their status in one place.
type errorKind uint8

const (
	kindBadRequest   errorKind = iota + 1 // the request itself is wrong
	kindUnauthorized                      // the caller is not authenticated
	kindForbidden                         // the caller may not do this
	kindNotFound                          // what the request names does not exist
)

// kindError carries an errorKind; its text is the wrapped error's.
type kindError struct {
	kind errorKind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func badRequest(err error) error   { return &kindError{kindBadRequest, err} }
func unauthorized(err error) error { return &kindError{kindUnauthorized, err} }
func forbidden(err error) error    { return &kindError{kindForbidden, err} }
func notFound(err error) error     { return &kindError{kindNotFound, err} }

// statusOf is the one place that maps an error to its HTTP status:
//
//	400  kindBadRequest, *models.PartialWriteError, ErrDatabaseRequired,
//	     ErrMissingQuery, ErrInvalidConsistency
//	401  kindUnauthorized and the authentication sentinels
//	403  kindForbidden, ErrAdminRequired, ErrFluxDisabled, and any error
//	     with AuthorizationFailed() == true (executor, writer)
//	404  kindNotFound, *models.DatabaseNotFoundError, ErrNotFound
//	405  ErrMethodNotAllowed
//	413  ErrBodyTooLarge
//	503  ErrQueueFull, ErrEnqueueTimeout
//	500  everything else: *models.RetentionPolicyNotFoundError and
//	     models.ErrWriteTimeout included, as in 1.x
func statusOf(err error) int {
	var (
		kind    *kindError
		partial *models.PartialWriteError
		noDB    *models.DatabaseNotFoundError
		authz   authorizationError
	)
	switch {
	case errors.As(err, &kind):
		switch kind.kind {
		case kindBadRequest:
			return http.StatusBadRequest
		case kindUnauthorized:
			return http.StatusUnauthorized
		case kindForbidden:
			return http.StatusForbidden
		case kindNotFound:
			return http.StatusNotFound
		}
		panic("BUG: httpd: unknown error kind")
	case errors.As(err, &partial),
		errors.Is(err, ErrDatabaseRequired),
		errors.Is(err, ErrMissingQuery),
		errors.Is(err, ErrInvalidConsistency):
		return http.StatusBadRequest
	case errors.Is(err, ErrNoCredentials),
		errors.Is(err, ErrUsernameRequired),
		errors.Is(err, ErrAuthenticationFailed),
		errors.Is(err, ErrBearerAuthDisabled),
		errors.Is(err, ErrTokenInvalid),
		errors.Is(err, ErrTokenExpirationRequired),
		errors.Is(err, ErrTokenUsernameType),
		errors.Is(err, ErrTokenUsernameMissing),
		errors.Is(err, ErrUserNotFound):
		return http.StatusUnauthorized
	case errors.Is(err, ErrAdminRequired),
		errors.Is(err, ErrFluxDisabled),
		errors.As(err, &authz) && authz.AuthorizationFailed():
		return http.StatusForbidden
	case errors.As(err, &noDB), errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrQueueFull), errors.Is(err, ErrEnqueueTimeout):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// httpError is the one place that writes an error response: the status
// from statusOf, the body {"error":"…"} in the negotiated format, and the
// text in X-Influxdb-Error — or, for a 401, the Basic challenge instead,
// as 1.x does. Error texts never hold a password: credentials are never
// put into errors.
func (h *Handler) httpError(rw *responseWriter, req *request, err error) {
	code := statusOf(err)
	msg := err.Error()
	hdr := rw.Header()
	if code == http.StatusUnauthorized {
		h.stats.authFail.Add(1)
		hdr.Set("WWW-Authenticate", `Basic realm="`+h.realm+`"`)
	} else {
		hdr.Set("X-Influxdb-Error", errorHeader(msg))
	}
	if hdr.Get("Content-Type") == "" {
		_, ct := negotiate(req.Header["Accept"])
		hdr.Set("Content-Type", ct)
	}
	rw.gzipOK = false // error bodies are never compressed (1.x compresses only a 200)
	rw.WriteHeader(code)
	enc := newEncoder(rw.format, rw.pretty, 0)
	if _, werr := enc.encodeError(rw, msg); werr != nil {
		h.log.Debug("cannot write error response", "error", werr)
	}
}

// errorHeader cuts msg to maxErrorHeader bytes without splitting a UTF-8
// sequence, and turns line breaks (a multi-line partial write) into spaces,
// which is what net/http would send anyway.
func errorHeader(msg string) string {
	if len(msg) > maxErrorHeader {
		cut := maxErrorHeader
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	if strings.ContainsAny(msg, "\r\n") {
		msg = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
	}
	return msg
}
