package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Classify turns an error from pgx into an *engines.DatabaseError carrying
// a contract code; nil stays nil and an error already classified is
// returned as it is.
//
// Errors the server reports are classified by SQLSTATE: deadlocks (40P01)
// and serialization failures (40001) are database errors marked
// Retryable; query_canceled (57014) is a timeout; an administrator or crash
// shutdown (57P01–57P04), connection exceptions (class 08) and too many
// connections (53300) mean the connection is lost (unavailable, wrapping
// engines.ErrConnLost); every other class — syntax (42), constraints (23),
// data (22, division by zero among them) — is the statement's fault,
// database_error. Without a SQLSTATE, an ended context is a timeout, and a
// network failure or a closed connection is lost. The message is the
// server's (never the DSN), so it is safe to send to the client.
//
// Classify cannot see whether pgx closed the connection on the way; Conn
// adds ErrConnLost itself when it did.
func Classify(err error) error { return engines.Classify(err, classify) }

func classify(err error) *engines.DatabaseError {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return fromPgError(pgErr, err)
	case errors.Is(err, context.DeadlineExceeded):
		return engines.Timeout(err)
	case errors.Is(err, context.Canceled):
		return &engines.DatabaseError{Code: schemas.CodeTimeout, Message: "statement canceled", Err: err}
	case isLost(err):
		return engines.Lost(err)
	}
	return nil
}

func fromPgError(pgErr *pgconn.PgError, err error) *engines.DatabaseError {
	e := &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: pgErr.Code, Message: pgErr.Message, Err: err}
	switch code := pgErr.Code; {
	case code == "40001" || code == "40P01":
		e.Retryable = true
	case code == "57014":
		e.Code, e.Message = schemas.CodeTimeout, "statement timed out"
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"), code == "53300":
		e.Code, e.Err = schemas.CodeUnavailable, errors.Join(engines.ErrConnLost, err)
	}
	return e
}

// isLost reports whether err means the socket is gone: a connect failure,
// a network error, EOF mid-protocol, a connection pgx already closed, or an
// error pgx marks safe to retry because nothing reached the server.
func isLost(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err)
}

// isStalePlan reports whether a cached prepared statement was refused
// because a table it reads changed shape ("cached plan must not change
// result type"). The routine name, unlike the message, is not translated.
func isStalePlan(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "0A000" && pgErr.Routine == "RevalidateCachedQuery"
}
