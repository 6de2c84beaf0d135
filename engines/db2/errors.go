package db2

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// DB2 SQLCODEs dqm treats specially.
const (
	sqlcodeDeadlock     = -911   // deadlock or lock timeout: the unit of work was rolled back
	sqlcodeDeadlockStmt = -913   // deadlock or lock timeout: the statement was rolled back
	sqlcodeCommError    = -30081 // communication error
	sqlcodeAgentEnded   = -1224  // the database agent was terminated (FORCE APPLICATION)
	sqlcodeReroute      = -30108 // client reroute: reconnected, transaction rolled back
)

// Classify turns a DB2 diagnostic (SQLSTATE, SQLCODE, message) into a
// *engines.DatabaseError: 40001 and 57033 (SQLCODE -911, -913: deadlock or
// lock timeout) are retryable database errors; 57014 (cancelled, as
// WLM_CANCEL_ACTIVITY does at the deadline) and HYT00 (CLI query timeout)
// are timeouts; the 08 class, 40003 and SQLCODEs -30081 and -1224 mean the
// connection is gone (unavailable, wrapping engines.ErrConnLost), except
// 08506 (client reroute: reconnected, the transaction rolled back), which
// is retryable; everything else — 42601 and the 42 class (syntax, unknown
// names), 23505 and the 23 class (constraints), 22012 (division by zero)
// — is a database_error.
func Classify(sqlstate string, sqlcode int, msg string) error {
	e := &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: sqlstate, Message: cleanMessage(msg)}
	switch {
	case sqlstate == "08506" || sqlcode == sqlcodeReroute:
		e.Retryable = true
	case sqlstate == "40001" || sqlstate == "57033" || sqlcode == sqlcodeDeadlock || sqlcode == sqlcodeDeadlockStmt:
		e.Retryable = true
	case sqlstate == "57014" || sqlstate == "HYT00":
		e.Code = schemas.CodeTimeout
	case strings.HasPrefix(sqlstate, "08") || sqlstate == "40003" || sqlcode == sqlcodeCommError || sqlcode == sqlcodeAgentEnded:
		e.Code = schemas.CodeUnavailable
		e.Err = engines.ErrConnLost
	}
	if e.SQLState == "" && sqlcode != 0 {
		e.SQLState = "SQL" + strconv.Itoa(sqlcode)
	}
	return e
}

// cleanMessage drops CLI's "[IBM][CLI Driver][DB2/LINUXX8664] " prefix.
func cleanMessage(msg string) string {
	s := strings.TrimSpace(msg)
	for strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			break
		}
		s = strings.TrimSpace(s[i+1:])
	}
	if s == "" {
		return strings.TrimSpace(msg)
	}
	return s
}

// classifyErr classifies an error from go_ibm_db through database/sql.
func classifyErr(err error) error { return engines.Classify(err, classifyDriver) }

func classifyDriver(err error) *engines.DatabaseError {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		// go_ibm_db's verdict for CLI0106E–CLI0108E (connection closed or
		// failed), which database/sql turns into ErrConnDone on a pinned
		// connection.
		return engines.Lost(err)
	}
	state, code, msg, ok := diagnostic(err)
	if !ok {
		return nil
	}
	e := Classify(state, code, msg).(*engines.DatabaseError)
	if e.Err != nil {
		e.Err = errors.Join(e.Err, err) // ErrConnLost and the driver's error
	} else {
		e.Err = err
	}
	return e
}

// diagnostic reads the first CLI diagnostic record of a go_ibm_db error,
// *go_ibm_db.Error{APIName string; Diag []DiagRecord{State string;
// NativeError int; Message string}}, through reflect: dqm does not import
// the driver (see doc.go), and those exported fields are its documented
// shape. NativeError is the SQLCODE.
func diagnostic(err error) (state string, code int, msg string, ok bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		diag := v.FieldByName("Diag")
		if !diag.IsValid() || diag.Kind() != reflect.Slice || diag.Len() == 0 || diag.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		r := diag.Index(0)
		st, ne, m := r.FieldByName("State"), r.FieldByName("NativeError"), r.FieldByName("Message")
		if st.Kind() != reflect.String || !ne.CanInt() || m.Kind() != reflect.String {
			continue
		}
		return st.String(), int(ne.Int()), m.String(), true
	}
	return "", 0, "", false
}
