package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

func TestClassify(t *testing.T) {
	pg := func(code, msg string) error { return &pgconn.PgError{Severity: "ERROR", Code: code, Message: msg} }
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	for _, tc := range []struct {
		name      string
		err       error
		code      schemas.Code
		sqlState  string
		message   string
		retryable bool
		lost      bool
	}{
		{"syntax", pg("42601", `syntax error at or near "SELEC"`), schemas.CodeDatabaseError, "42601", `syntax error at or near "SELEC"`, false, false},
		{"undefined table", pg("42P01", `relation "x" does not exist`), schemas.CodeDatabaseError, "42P01", `relation "x" does not exist`, false, false},
		{"unique", pg("23505", "duplicate key value violates unique constraint"), schemas.CodeDatabaseError, "23505", "duplicate key value violates unique constraint", false, false},
		{"not null", pg("23502", "null value"), schemas.CodeDatabaseError, "23502", "null value", false, false},
		{"division by zero", pg("22012", "division by zero"), schemas.CodeDatabaseError, "22012", "division by zero", false, false},
		{"bad date", pg("22007", "invalid input syntax for type date"), schemas.CodeDatabaseError, "22007", "invalid input syntax for type date", false, false},
		{"serialization", pg("40001", "could not serialize access"), schemas.CodeDatabaseError, "40001", "could not serialize access", true, false},
		{"deadlock", pg("40P01", "deadlock detected"), schemas.CodeDatabaseError, "40P01", "deadlock detected", true, false},
		{"query canceled", pg("57014", "canceling statement due to user request"), schemas.CodeTimeout, "57014", "statement timed out", false, false},
		{"admin shutdown", pg("57P01", "terminating connection due to administrator command"), schemas.CodeUnavailable, "57P01", "terminating connection due to administrator command", false, true},
		{"crash shutdown", pg("57P02", "crash"), schemas.CodeUnavailable, "57P02", "crash", false, true},
		{"cannot connect now", pg("57P03", "the database system is starting up"), schemas.CodeUnavailable, "57P03", "the database system is starting up", false, true},
		{"connection failure", pg("08006", "connection failure"), schemas.CodeUnavailable, "08006", "connection failure", false, true},
		{"too many connections", pg("53300", "too many clients"), schemas.CodeUnavailable, "53300", "too many clients", false, true},
		{"out of memory", pg("53200", "out of memory"), schemas.CodeDatabaseError, "53200", "out of memory", false, false},
		{"wrapped", fmt.Errorf("statement 2: %w", pg("23505", "dup")), schemas.CodeDatabaseError, "23505", "dup", false, false},
		{"deadline", context.DeadlineExceeded, schemas.CodeTimeout, "", "statement timed out", false, false},
		{"wrapped deadline", fmt.Errorf("timeout: %w", context.DeadlineExceeded), schemas.CodeTimeout, "", "statement timed out", false, false},
		{"canceled", context.Canceled, schemas.CodeTimeout, "", "statement canceled", false, false},
		{"net error", opErr, schemas.CodeUnavailable, "", engines.ErrConnLost.Error(), false, true},
		{"eof", fmt.Errorf("receive message failed: %w", io.ErrUnexpectedEOF), schemas.CodeUnavailable, "", engines.ErrConnLost.Error(), false, true},
		{"conn closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), schemas.CodeUnavailable, "", engines.ErrConnLost.Error(), false, true},
		{"connect", &pgconn.ConnectError{Config: &pgconn.Config{}}, schemas.CodeUnavailable, "", engines.ErrConnLost.Error(), false, true},
		{"safe to retry", safeToRetry{}, schemas.CodeUnavailable, "", engines.ErrConnLost.Error(), false, true},
		{"other", errors.New("expected 2 arguments, got 1"), schemas.CodeDatabaseError, "", "expected 2 arguments, got 1", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Classify(tc.err)
			var de *engines.DatabaseError
			if !errors.As(err, &de) {
				t.Fatalf("Classify(%v) = %T, want *engines.DatabaseError", tc.err, err)
			}
			if de.Code != tc.code || de.SQLState != tc.sqlState || de.Message != tc.message || de.Retryable != tc.retryable {
				t.Errorf("Classify(%v) = {%s %q %q retryable=%v}, want {%s %q %q retryable=%v}",
					tc.err, de.Code, de.SQLState, de.Message, de.Retryable, tc.code, tc.sqlState, tc.message, tc.retryable)
			}
			if got := engines.IsConnLost(err); got != tc.lost {
				t.Errorf("IsConnLost = %v, want %v", got, tc.lost)
			}
			if got := engines.IsRetryable(err); got != tc.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tc.retryable)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the classified error does not wrap the original")
			}
		})
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	already := &engines.DatabaseError{Code: schemas.CodeTimeout, Message: "x"}
	if Classify(already) != already {
		t.Error("an already classified error was changed")
	}
}

type safeToRetry struct{}

func (safeToRetry) Error() string     { return "failed to write" }
func (safeToRetry) SafeToRetry() bool { return true }

func TestIsStalePlan(t *testing.T) {
	stale := &pgconn.PgError{Code: "0A000", Message: "cached plan must not change result type", Routine: "RevalidateCachedQuery"}
	other := &pgconn.PgError{Code: "0A000", Message: "something else is not supported", Routine: "transformStmt"}
	if !isStalePlan(fmt.Errorf("statement 1: %w", stale)) || isStalePlan(other) || isStalePlan(errors.New("x")) {
		t.Error("isStalePlan misclassifies")
	}
}
