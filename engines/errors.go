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

// Classify is the frame of an engine's error classification: nil stays
// nil, an error already classified (a *DatabaseError in its chain) is
// returned as it is, and known, the engine's reading of its driver's
// errors, classifies the rest; an error known does not recognise (nil) is
// a database_error carrying the driver's message.
func Classify(err error, known func(error) *DatabaseError) error {
	if err == nil {
		return nil
	}
	var de *DatabaseError
	if errors.As(err, &de) {
		return err
	}
	if e := known(err); e != nil {
		return e
	}
	return &DatabaseError{Code: schemas.CodeDatabaseError, Message: err.Error(), Err: err}
}

// Timeout is the error of statements stopped at their deadline (timeout);
// causes are what the context and the driver said.
func Timeout(causes ...error) *DatabaseError {
	e := &DatabaseError{Code: schemas.CodeTimeout, Message: "statement timed out", Err: errors.Join(causes...)}
	if len(causes) == 1 {
		e.Err = causes[0]
	}
	return e
}

// Lost is the error of a connection that is gone (unavailable): it wraps
// ErrConnLost and cause, so the caller reconnects.
func Lost(cause error) *DatabaseError {
	return &DatabaseError{Code: schemas.CodeUnavailable, Message: ErrConnLost.Error(), Err: errors.Join(ErrConnLost, cause)}
}
