package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

func serverErr(n uint16, state, msg string) error {
	e := &mysql.MySQLError{Number: n, Message: msg}
	copy(e.SQLState[:], state)
	return fmt.Errorf("statement 2: %w", e)
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		name      string
		err       error
		code      schemas.Code
		state     string
		retryable bool
		connLost  bool
	}{
		{"syntax", serverErr(1064, "42000", "You have an error in your SQL syntax"), schemas.CodeDatabaseError, "42000", false, false},
		{"unknown column", serverErr(1054, "42S22", "Unknown column 'x'"), schemas.CodeDatabaseError, "42S22", false, false},
		{"unknown table", serverErr(1146, "42S02", "Table 'x' doesn't exist"), schemas.CodeDatabaseError, "42S02", false, false},
		{"duplicate key", serverErr(1062, "23000", "Duplicate entry '1' for key 'PRIMARY'"), schemas.CodeDatabaseError, "23000", false, false},
		{"fk parent", serverErr(1451, "23000", "Cannot delete or update a parent row"), schemas.CodeDatabaseError, "23000", false, false},
		{"fk child", serverErr(1452, "23000", "Cannot add or update a child row"), schemas.CodeDatabaseError, "23000", false, false},
		{"not null", serverErr(1048, "23000", "Column 'p' cannot be null"), schemas.CodeDatabaseError, "23000", false, false},
		{"division by zero", serverErr(1365, "22012", "Division by 0"), schemas.CodeDatabaseError, "22012", false, false},
		{"deadlock", serverErr(1213, "40001", "Deadlock found"), schemas.CodeDatabaseError, "40001", true, false},
		{"lock wait", serverErr(1205, "HY000", "Lock wait timeout exceeded"), schemas.CodeDatabaseError, "HY000", true, false},
		{"mariadb statement timeout", serverErr(1969, "70100", "Query execution was interrupted (max_statement_time exceeded)"), schemas.CodeTimeout, "70100", false, false},
		{"mysql statement timeout", serverErr(3024, "HY000", "Query execution was interrupted, maximum statement execution time exceeded"), schemas.CodeTimeout, "HY000", false, false},
		{"kill query", serverErr(1317, "70100", "Query execution was interrupted"), schemas.CodeTimeout, "70100", false, false},
		{"connection killed", serverErr(1927, "70100", "Connection was killed"), schemas.CodeUnavailable, "70100", false, true},
		{"server shutdown", serverErr(1053, "08S01", "Server shutdown in progress"), schemas.CodeUnavailable, "08S01", false, true},
		{"server gone", serverErr(2006, "HY000", "MySQL server has gone away"), schemas.CodeUnavailable, "HY000", false, true},
		{"server lost", serverErr(2013, "", "Lost connection to MySQL server during query"), schemas.CodeUnavailable, "2013", false, true},
		{"too many connections", serverErr(1040, "08004", "Too many connections"), schemas.CodeUnavailable, "08004", false, false},
		{"bad conn", driver.ErrBadConn, schemas.CodeUnavailable, "", false, true},
		{"invalid conn", fmt.Errorf("statement 1: %w", mysql.ErrInvalidConn), schemas.CodeUnavailable, "", false, true},
		{"eof", io.EOF, schemas.CodeUnavailable, "", false, true},
		{"net closed", net.ErrClosed, schemas.CodeUnavailable, "", false, true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, schemas.CodeUnavailable, "", false, true},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, schemas.CodeUnavailable, "", false, true},
		{"deadline", context.DeadlineExceeded, schemas.CodeTimeout, "", false, false},
		{"other", errors.New("argument count mismatch"), schemas.CodeDatabaseError, "", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Classify(tt.err)
			var de *engines.DatabaseError
			if !errors.As(err, &de) {
				t.Fatalf("%T is not a *DatabaseError", err)
			}
			if de.Code != tt.code || de.SQLState != tt.state || de.Retryable != tt.retryable || engines.IsConnLost(err) != tt.connLost {
				t.Errorf("got code %s state %q retryable %v lost %v", de.Code, de.SQLState, de.Retryable, engines.IsConnLost(err))
			}
			if engines.IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v", engines.IsRetryable(err))
			}
			if !errors.Is(err, tt.err) && !errors.Is(err, errors.Unwrap(tt.err)) {
				t.Errorf("the driver's error is not wrapped: %v", err)
			}
			var me *mysql.MySQLError
			if errors.As(tt.err, &me) && de.Message != me.Message {
				t.Errorf("message %q, want the server's %q", de.Message, me.Message)
			}
		})
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	already := &engines.DatabaseError{Code: schemas.CodeTimeout}
	if Classify(already) != error(already) {
		t.Error("a classified error was classified again")
	}
}
