package db2

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		state     string
		code      int
		want      schemas.Code
		retryable bool
		connLost  bool
	}{
		{"42601", -104, schemas.CodeDatabaseError, false, false}, // syntax
		{"42704", -204, schemas.CodeDatabaseError, false, false}, // undefined name
		{"42703", -206, schemas.CodeDatabaseError, false, false}, // undefined column
		{"23505", -803, schemas.CodeDatabaseError, false, false}, // duplicate key
		{"23503", -530, schemas.CodeDatabaseError, false, false}, // foreign key
		{"23502", -407, schemas.CodeDatabaseError, false, false}, // NOT NULL
		{"22012", -801, schemas.CodeDatabaseError, false, false}, // division by zero
		{"40001", -911, schemas.CodeDatabaseError, true, false},  // deadlock, UOW rolled back
		{"57033", -913, schemas.CodeDatabaseError, true, false},  // deadlock, statement rolled back
		{"", -911, schemas.CodeDatabaseError, true, false},
		{"57014", -952, schemas.CodeTimeout, false, false},      // interrupted
		{"57014", -4725, schemas.CodeTimeout, false, false},     // WLM_CANCEL_ACTIVITY
		{"HYT00", 0, schemas.CodeTimeout, false, false},         // CLI query timeout
		{"08001", -30081, schemas.CodeUnavailable, false, true}, // communication error
		{"08003", 0, schemas.CodeUnavailable, false, true},
		{"08S01", 0, schemas.CodeUnavailable, false, true},
		{"40003", -30081, schemas.CodeUnavailable, false, true},
		{"55032", -1224, schemas.CodeUnavailable, false, true},    // agent terminated (FORCE)
		{"08506", -30108, schemas.CodeDatabaseError, true, false}, // client reroute
	} {
		msg := fmt.Sprintf("[IBM][CLI Driver][DB2/LINUXX8664] SQL%04dN  Something. SQLSTATE=%s", -tt.code, tt.state)
		err := Classify(tt.state, tt.code, msg)
		var de *engines.DatabaseError
		if !errors.As(err, &de) {
			t.Fatalf("%T is not a *DatabaseError", err)
		}
		if de.Code != tt.want || de.Retryable != tt.retryable || engines.IsConnLost(err) != tt.connLost {
			t.Errorf("Classify(%q, %d) = code %s retryable %v lost %v", tt.state, tt.code, de.Code, de.Retryable, engines.IsConnLost(err))
		}
		if strings.HasPrefix(de.Message, "[") || !strings.HasPrefix(de.Message, "SQL") {
			t.Errorf("message %q", de.Message)
		}
		if tt.state != "" && de.SQLState != tt.state || tt.state == "" && de.SQLState != "SQL-911" {
			t.Errorf("SQLState %q", de.SQLState)
		}
	}
}

// driverError has go_ibm_db's *Error shape.
type driverError struct {
	APIName string
	Diag    []driverDiag
}

type driverDiag struct {
	State       string
	NativeError int
	Message     string
}

func (e *driverError) Error() string { return e.APIName + ": " + e.Diag[0].Message }

func TestClassifyDriverErrors(t *testing.T) {
	dup := &driverError{APIName: "SQLExecute", Diag: []driverDiag{{"23505", -803, "[IBM][CLI Driver][DB2/LINUXX8664] SQL0803N  One or more values ... SQLSTATE=23505"}}}
	comm := &driverError{APIName: "SQLExecute", Diag: []driverDiag{{"08001", -30081, "[IBM][CLI Driver] SQL30081N  A communication error"}}}
	for _, tt := range []struct {
		err   error
		code  schemas.Code
		state string
		lost  bool
	}{
		{fmt.Errorf("statement 2: %w", dup), schemas.CodeDatabaseError, "23505", false},
		{comm, schemas.CodeUnavailable, "08001", true},
		{driver.ErrBadConn, schemas.CodeUnavailable, "", true},
		{sql.ErrConnDone, schemas.CodeUnavailable, "", true},
		{errors.New("wrong number of arguments 1, 2 expected"), schemas.CodeDatabaseError, "", false},
	} {
		err := classifyErr(tt.err)
		var de *engines.DatabaseError
		if !errors.As(err, &de) || de.Code != tt.code || de.SQLState != tt.state || engines.IsConnLost(err) != tt.lost {
			t.Errorf("classifyErr(%v) = %+v", tt.err, err)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("classifyErr(%v) does not wrap the driver's error", tt.err)
		}
	}
	if classifyErr(nil) != nil {
		t.Error("classifyErr(nil) != nil")
	}
}
