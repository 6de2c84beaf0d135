package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// MySQL and MariaDB error numbers dqm treats specially. Every other server
// error (1064 syntax, 1054/1146 unknown column/table, 1062 duplicate key,
// 1451/1452 foreign key, 1048 NULL, 1365 division by zero, ...) is the
// statement's fault: database_error, 422.
const (
	erLockWaitTimeout    = 1205 // retryable: the transaction was rolled back or can be retried
	erLockDeadlock       = 1213 // retryable: the whole transaction was rolled back
	erQueryInterrupted   = 1317 // KILL QUERY: dqm's deadline backstop
	erNeedReprepare      = 1615 // a table changed under a prepared statement
	erStatementTimeout   = 1969 // MariaDB max_statement_time
	erQueryTimeout       = 3024 // MySQL max_execution_time
	erQueryTimeoutOld    = 1907 // MySQL 5.7.4–5.7.7 max_statement_time
	erConnCount          = 1040 // too many connections
	erServerShutdown     = 1053
	erAbortingConnection = 1152
	erNetReadError       = 1158
	erNetReadTimeout     = 1159
	erNetWriteError      = 1160
	erNetWriteTimeout    = 1161
	erUserConnections    = 1203 // max_user_connections
	erConnectionKilled   = 1927 // MariaDB: KILL CONNECTION
	erClientIdleTimeout  = 4031 // MySQL 8.0.24+: disconnected for inactivity
	crServerGone         = 2006 // client-side codes, as proxies relay them
	crServerLost         = 2013
)

// Classify turns an error from the driver into a *engines.DatabaseError:
// deadlocks and lock waits are retryable database errors, interrupted and
// timed-out statements are timeouts, a broken or killed connection is
// unavailable and wraps engines.ErrConnLost, and every other server error
// is a database_error carrying the server's message and SQLSTATE. A nil
// error stays nil; an error already classified is returned as is.
func Classify(err error) error { return engines.Classify(err, classify) }

func classify(err error) *engines.DatabaseError {
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me):
		return classifyServer(me, err)
	// Before connBroken: context.DeadlineExceeded is also a net.Error.
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return engines.Timeout(err)
	case connBroken(err):
		return lost(err)
	}
	return nil
}

func classifyServer(me *mysql.MySQLError, err error) *engines.DatabaseError {
	e := &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: sqlState(me), Message: me.Message, Err: err}
	switch me.Number {
	case erLockDeadlock, erLockWaitTimeout:
		e.Retryable = true
	case erStatementTimeout, erQueryTimeout, erQueryTimeoutOld, erQueryInterrupted:
		e.Code = schemas.CodeTimeout
	case erConnCount, erUserConnections:
		// The server refused a new connection: nothing to replace yet.
		e.Code = schemas.CodeUnavailable
	case erServerShutdown, erAbortingConnection, erNetReadError, erNetReadTimeout,
		erNetWriteError, erNetWriteTimeout, erConnectionKilled, erClientIdleTimeout,
		crServerGone, crServerLost:
		e.Code = schemas.CodeUnavailable
		e.Err = errors.Join(engines.ErrConnLost, err)
	}
	return e
}

// sqlState is the SQLSTATE the server sent, or the error number when it
// sent none (the driver leaves the array zero for pre-4.1 style errors).
func sqlState(me *mysql.MySQLError) string {
	if me.SQLState != [5]byte{} {
		return string(me.SQLState[:])
	}
	return strconv.Itoa(int(me.Number))
}

// connBroken reports whether err means the connection cannot be used again:
// the driver's own verdicts, a closed socket, or a network failure.
func connBroken(err error) bool {
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, mysql.ErrMalformPkt),
		errors.Is(err, mysql.ErrPktSync),
		errors.Is(err, mysql.ErrPktSyncMul),
		errors.Is(err, mysql.ErrBusyBuffer),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// lost is the error for a connection that is gone, saying why.
func lost(err error) *engines.DatabaseError {
	e := engines.Lost(err)
	e.Message += ": " + err.Error()
	return e
}
