package sqlite

import (
	"errors"
	"strconv"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// SQLite primary result codes dqm distinguishes (the low byte of an
// extended code).
const (
	codeBusy      = 5
	codeLocked    = 6
	codeInterrupt = 9
	codeIOErr     = 10
	codeCorrupt   = 11
	codeCantOpen  = 14
	codeNotADB    = 26
)

// classifyCode maps a SQLite result code to a contract code: busy and
// locked are retryable, an interrupt is a timeout, I/O and open failures
// mean the connection must be replaced, everything else (syntax,
// constraint, mismatch) is the statement's fault.
func classifyCode(code int, msg string, err error) *engines.DatabaseError {
	e := &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: "SQLITE_" + strconv.Itoa(code), Message: msg, Err: err}
	switch code & 0xff {
	case codeBusy, codeLocked:
		e.Retryable = true
	case codeInterrupt:
		e.Code = schemas.CodeTimeout
	case codeIOErr, codeCorrupt, codeCantOpen, codeNotADB:
		e.Code = schemas.CodeUnavailable
		e.Err = errors.Join(engines.ErrConnLost, err)
	}
	return e
}
