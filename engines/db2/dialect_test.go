package db2

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

func TestParseDSN(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"HOSTNAME=db;PORT=50001;DATABASE=sample;UID=u;PWD=p;",
			"HOSTNAME=db;PORT=50001;DATABASE=sample;UID=u;PWD=p;PROTOCOL=TCPIP;"},
		{"database=sample; hostname = db ;uid=u;pwd={p;w}}d};Security=SSL",
			"HOSTNAME=db;PORT=50000;DATABASE=sample;UID=u;PWD={p;w}}d};Security=SSL;PROTOCOL=TCPIP;"},
		{"db2://u:p%3Bw@db:50001/sample?Security=SSL&CurrentSchema=APP",
			"HOSTNAME=db;PORT=50001;DATABASE=sample;UID=u;PWD={p;w};CurrentSchema=APP;Security=SSL;PROTOCOL=TCPIP;"},
		{"db2:///sample", "HOSTNAME=localhost;PORT=50000;DATABASE=sample;PROTOCOL=TCPIP;"},
		{"DATABASE=catalogued;", "DATABASE=catalogued;"},
		{"HOSTNAME=db;DATABASE=s;PROTOCOL=TCPIP6", "HOSTNAME=db;PORT=50000;DATABASE=s;PROTOCOL=TCPIP6;"},
	} {
		c, err := ParseDSN(tt.dsn)
		if err != nil {
			t.Errorf("%s: %v", tt.dsn, err)
			continue
		}
		if got := c.ConnString(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.dsn, got, tt.want)
		}
		again, err := ParseDSN(c.ConnString())
		if err != nil || again.ConnString() != c.ConnString() {
			t.Errorf("%s: does not round-trip: %v %v", tt.dsn, again, err)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"HOSTNAME=db;UID=u;PWD=secret", "no database"},
		{"HOSTNAME=db;DATABASE=s;PORT=x;PWD=secret", "PORT"},
		{"HOSTNAME=db;DATABASE=s;PWD={secret", "unterminated"},
		{"HOSTNAME=db;DATABASE=s;secret", "KEYWORD=value"},
		{"db2://u:secret@db:port/s", "not a valid URL"},
	} {
		_, err := ParseDSN(tt.dsn)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.dsn, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error shows the password: %v", tt.dsn, err)
		}
	}
}

func TestConfigLogValue(t *testing.T) {
	c, err := ParseDSN("db2://u:secret@db/sample")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("open", "dsn", c)
	if strings.Contains(b.String(), "secret") || !strings.Contains(b.String(), "dsn.addr=db:50000") {
		t.Errorf("logged %s", b.String())
	}
}

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{`T`: `"T"`, `a"b`: `"a""b"`, ``: `""`} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	for name, want := range map[string]kind{
		"SMALLINT": kindInt, "INTEGER": kindInt, "BIGINT": kindInt,
		"DECIMAL": kindNumeric, "NUMERIC": kindNumeric, "DECFLOAT": kindNumeric, "DECIMAL(31,9)": kindNumeric,
		"REAL": kindReal, "DOUBLE": kindDouble, "FLOAT": kindDouble, "DOUBLE PRECISION": kindDouble,
		"BOOLEAN": kindBool,
		"CHAR":    kindText, "VARCHAR": kindText, "LONG VARCHAR": kindText, "CLOB": kindText, "GRAPHIC": kindText,
		"VARGRAPHIC": kindText, "DBCLOB": kindText, "XML": kindText,
		"BLOB": kindBytes, "BINARY": kindBytes, "VARBINARY": kindBytes,
		"CHAR () FOR BIT DATA": kindBytes, "VARCHAR () FOR BIT DATA": kindBytes,
		"DATE": kindDate, "TIME": kindTime, "TIMESTAMP": kindTimestamp, "timestamp": kindTimestamp,
		"ROWID": kindAny,
	} {
		if got := kindOf(name); got != want {
			t.Errorf("kindOf(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestEncode(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		k    kind
		v    driver.Value
		want string
	}{
		{kindInt, nil, "null"},
		{kindInt, int32(-7), "-7"},
		{kindInt, int64(1) << 60, `"1152921504606846976"`},
		{kindInt, []byte(" 42"), "42"},
		{kindNumeric, []byte("12345678901234567890123.456789012"), `"12345678901234567890123.456789012"`},
		{kindNumeric, 1.25, `"1.25"`}, // drivers that fetch DECIMAL as a double
		{kindNumeric, "-1E+3", `"-1E+3"`},
		{kindReal, 0.1, "0.1"},
		{kindDouble, 0.1, "0.1"},
		{kindBool, true, "true"},
		{kindBool, int32(0), "false"},
		{kindBool, []byte("1"), "true"},
		{kindText, []byte("héllo  "), `"héllo  "`},
		{kindText, "<x/>", `"\u003cx/\u003e"`},
		{kindBytes, []byte{0, 255}, `"AP8="`},
		{kindDate, time.Date(2024, 1, 2, 0, 0, 0, 0, paris), `"2024-01-02"`},
		{kindTime, time.Date(0, 0, 0, 13, 4, 5, 0, paris), `"13:04:05"`},
		// The wall clock is the stored value, whatever zone the driver says.
		{kindTimestamp, time.Date(2024, 1, 2, 3, 4, 5, 123456000, paris), `"2024-01-02T03:04:05.123456Z"`},
		{kindAny, int64(3), "3"},
	} {
		w, _ := engines.NewRowWriter([]string{"c"})
		w.BeginRow()
		encode(w, tt.k, tt.v)
		w.EndRow()
		want := `[{"c":` + tt.want + `}]`
		if got := string(w.Finish()); got != want {
			t.Errorf("encode(%d, %#v) = %s, want %s", tt.k, tt.v, got, want)
		}
	}
}

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

func TestDeadlineSQL(t *testing.T) {
	// The statements the canceller runs: one argument each where expected.
	for sql, args := range map[string]int{appHandleSQL: 0, activitySQL: 1, cancelSQL: 3} {
		if n := strings.Count(sql, "?"); n != args {
			t.Errorf("%s has %d placeholders, want %d", sql, n, args)
		}
	}
}
