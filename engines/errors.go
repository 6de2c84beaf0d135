package engines

import (
	"errors"

	"github.com/dqmhq/dqm/schemas"
)

// ErrConnLost means the connection is gone: the caller reconnects and the
// request is answered 503 unavailable. Engines wrap it in a DatabaseError.
var ErrConnLost = errors.New("database connection lost")

// DatabaseError is an error the database (or the driver talking to it)
// returned, classified into a contract code.
type DatabaseError struct {
	Code      schemas.Code // database_error, timeout or unavailable
	SQLState  string       // the engine's SQLSTATE or error number, if any
	Message   string       // the engine's message, safe for clients
	Retryable bool         // deadlock or serialization failure: retry once
	Err       error        // the driver's error
}

func (e *DatabaseError) Error() string {
	if e.SQLState != "" {
		return e.Message + " (" + e.SQLState + ")"
	}
	return e.Message
}

func (e *DatabaseError) Unwrap() error { return e.Err }

// ErrorCode implements schemas.Coder.
func (e *DatabaseError) ErrorCode() schemas.Code { return e.Code }

// ClientMessage is what the reply's message says.
func (e *DatabaseError) ClientMessage() string { return e.Error() }

// IsConnLost reports whether err means the connection must be replaced.
func IsConnLost(err error) bool { return errors.Is(err, ErrConnLost) }

// IsRetryable reports whether err is a deadlock or serialization failure
// that a retry of the whole statement list may clear.
func IsRetryable(err error) bool {
	var de *DatabaseError
	return errors.As(err, &de) && de.Retryable
}
