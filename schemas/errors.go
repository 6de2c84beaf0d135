package schemas

import (
	"errors"
	"net/http"
)

// Code is a machine-readable error code carried in a failure body's "error".
type Code string

// The error codes of the REST error table (README, openapi.json).
const (
	CodeBadRequest      Code = "bad_request"
	CodeInvalidDatabase Code = "invalid_database"
	CodeQueryNotFound   Code = "query_not_found"
	CodeBadParams       Code = "bad_params"
	CodeUnauthorized    Code = "unauthorized"
	CodeForbidden       Code = "forbidden"
	CodeMethod          Code = "method_not_allowed"
	CodeTooLarge        Code = "too_large"
	CodeTooMany         Code = "too_many"
	CodeQueueFull       Code = "queue_full"
	CodeDatabaseError   Code = "database_error"
	// CodeIdempotencyMismatch: a request id (Idempotency-Key) already
	// used for a write with another body (ref or params).
	CodeIdempotencyMismatch Code = "idempotency_mismatch"
	CodeTimeout             Code = "timeout"
	CodeUnavailable         Code = "unavailable"
	CodeNotFound            Code = "not_found"
	CodeInternal            Code = "internal"
)

// Status is the HTTP status a code is answered with. This table is the one
// place where errors become statuses.
func (c Code) Status() int {
	switch c {
	case "":
		return http.StatusOK
	case CodeBadRequest, CodeInvalidDatabase, CodeBadParams:
		return http.StatusBadRequest
	case CodeQueryNotFound:
		// Hydrogen answers an unknown ref with 200 and success:false.
		return http.StatusOK
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeMethod:
		return http.StatusMethodNotAllowed
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeTooMany, CodeQueueFull:
		return http.StatusTooManyRequests
	case CodeDatabaseError, CodeIdempotencyMismatch:
		return http.StatusUnprocessableEntity
	case CodeTimeout:
		return http.StatusRequestTimeout
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// Error is an error with a contract code and a message safe to show to the
// client (no credentials, no internal addresses).
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs and errors.Is; never shown to clients
}

// Errorf returns an *Error with the given code and message.
func Errorf(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return string(e.Code) + ": " + e.Err.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrX) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels to test with errors.Is: they match any *Error with that code.
var (
	ErrBadRequest          = &Error{Code: CodeBadRequest}
	ErrInvalidDatabase     = &Error{Code: CodeInvalidDatabase}
	ErrQueryNotFound       = &Error{Code: CodeQueryNotFound}
	ErrBadParams           = &Error{Code: CodeBadParams}
	ErrUnauthorized        = &Error{Code: CodeUnauthorized}
	ErrForbidden           = &Error{Code: CodeForbidden}
	ErrTooMany             = &Error{Code: CodeTooMany}
	ErrQueueFull           = &Error{Code: CodeQueueFull}
	ErrDatabase            = &Error{Code: CodeDatabaseError}
	ErrIdempotencyMismatch = &Error{Code: CodeIdempotencyMismatch}
	ErrTimeout             = &Error{Code: CodeTimeout}
	ErrUnavailable         = &Error{Code: CodeUnavailable}
)

// Coder is implemented by errors that know their contract code (such as
// *Error and engines' *DatabaseError).
type Coder interface{ ErrorCode() Code }

// ErrorCode implements Coder.
func (e *Error) ErrorCode() Code { return e.Code }

// CodeOf classifies err: the code of the first Coder in its chain, else
// internal.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return CodeInternal
}
