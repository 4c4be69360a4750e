package query

// User is the authenticated caller of a statement, as the executor needs it
// for authorization. A nil User means authentication is off.
type User interface {
	Name() string
	IsAdmin() bool
	// CanRead and CanWrite report the user's privilege on a database
	// (admins can do everything).
	CanRead(db string) bool
	CanWrite(db string) bool
}

// ExecutionOptions are the per-request settings of a /query call.
type ExecutionOptions struct {
	// Database and RetentionPolicy are the defaults from the db and rp
	// parameters.
	Database        string
	RetentionPolicy string
	// ChunkSize > 0 asks for a series to be split into results of at most
	// that many rows, each marked Partial but the last.
	ChunkSize int
	// ReadOnly is set for GET requests: statements that change state are
	// refused, as in 1.x.
	ReadOnly bool
	// User is nil when authentication is disabled.
	User User
	// MaxRowLimit truncates non-chunked results and marks them Partial
	// ([http] max-row-limit; 0 = unlimited).
	MaxRowLimit int
}
