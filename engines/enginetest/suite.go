package enginetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Run runs the conformance suite against h, each check a parallel subtest
// in a namespace of its own.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Engine == nil || h.DSN == nil {
		t.Fatal("enginetest: Harness needs Engine and DSN")
	}
	for _, typ := range []Type{Integer, String, Text, Float, Boolean, Date, Time, Datetime} {
		if h.Features.Types[typ] == "" {
			t.Fatalf("enginetest: Features.Types lacks required type %s", typ)
		}
	}
	if h.Features.Sleep == "" {
		t.Fatal("enginetest: Features.Sleep is required")
	}
	s := &suite{h: h, f: h.Features}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Connect", s.testConnect},
		{"PointQuery", s.testPointQuery},
		{"RangeQuery", s.testRangeQuery},
		{"Types", s.testTypes},
		{"ColumnOrder", s.testColumnOrder},
		{"EmptyResult", s.testEmptyResult},
		{"ManyRows", s.testManyRows},
		{"Params", s.testParams},
		{"DuplicateColumns", s.testDuplicateColumns},
		{"Errors", s.testErrors},
		{"Timeout", s.testTimeout},
		{"Transactions", s.testTransactions},
		{"StatementCache", s.testStatementCache},
		{"SchemaChange", s.testSchemaChange},
		{"Reconnect", s.testReconnect},
		{"SystemSetup", s.testSystemSetup},
		{"SystemRequests", s.testSystemRequests},
		{"SystemRequestsOutcome", s.testSystemRequestsOutcome},
		{"SystemRequestsMigrate", s.testSystemRequestsMigrate},
		{"SystemCatalogMigrate", s.testSystemCatalogMigrate},
		{"SystemTriggers", s.testSystemTriggers},
		{"Describe", s.testDescribe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

type suite struct {
	h Harness
	f Features
}

// runTimeout bounds every statement list the suite runs, so a hung engine
// fails its test instead of the whole binary.
const runTimeout = 30 * time.Second

// open connects to a fresh namespace and returns the connection and its DSN.
func (s *suite) open(t *testing.T, opts engines.Options) (engines.Conn, string) {
	t.Helper()
	dsn := s.h.DSN(t)
	return s.openDSN(t, dsn, opts), dsn
}

func (s *suite) openDSN(t *testing.T, dsn string, opts engines.Options) engines.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	c, err := s.h.Engine.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stmt writes the suite's ? placeholders in the engine's style.
func (s *suite) stmt(sql string, args ...any) engines.Statement {
	if s.h.Engine.Style() == engines.Dollar {
		var b strings.Builder
		n := 0
		for _, r := range sql {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		sql = b.String()
	}
	return engines.Statement{SQL: sql, Args: args}
}

// typ is the declared column type of a required logical type.
func (s *suite) typ(typ Type) string { return s.f.Types[typ] }

// run runs stmts and fails the test on error. It checks what every result
// must satisfy: valid JSON rows, one affected count per statement, and as
// many row objects as RowCount says.
func (s *suite) run(t *testing.T, c engines.Conn, stmts ...engines.Statement) *engines.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	res, err := c.Run(ctx, stmts)
	if err != nil {
		t.Fatalf("Run(%q): %v", stmts[len(stmts)-1].SQL, err)
	}
	checkResult(t, res, len(stmts))
	return res
}

func checkResult(t *testing.T, res *engines.Result, nstmts int) {
	t.Helper()
	if len(res.Affected) != nstmts {
		t.Errorf("Affected = %v, want one count for each of %d statements", res.Affected, nstmts)
	}
	if len(res.Rows) == 0 && len(res.Columns) == 0 {
		return // a statement without a result set
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		t.Fatalf("Rows are not a JSON array of objects: %v\n%s", err, res.Rows)
	}
	if len(rows) != res.RowCount {
		t.Errorf("RowCount = %d, but Rows holds %d", res.RowCount, len(rows))
	}
}

// runFail runs stmts, expecting an error classified as a DatabaseError.
func (s *suite) runFail(t *testing.T, c engines.Conn, stmts ...engines.Statement) *engines.DatabaseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	res, err := c.Run(ctx, stmts)
	if err == nil {
		t.Fatalf("Run(%q) = %s, want an error", stmts[len(stmts)-1].SQL, res.Rows)
	}
	return asDatabaseError(t, err)
}

func asDatabaseError(t *testing.T, err error) *engines.DatabaseError {
	t.Helper()
	var de *engines.DatabaseError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not an *engines.DatabaseError", err, err)
	}
	if de.Message == "" {
		t.Errorf("DatabaseError %#v has no message", de)
	}
	return de
}

// alive checks that c still runs queries, as a worker's connection must
// after any error that is not a lost connection.
func (s *suite) alive(t *testing.T, c engines.Conn) {
	t.Helper()
	wantRows(t, s.run(t, c, s.stmt("SELECT 1 AS one")), `[{"one":1}]`)
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func wantRows(t *testing.T, res *engines.Result, want string) {
	t.Helper()
	if string(res.Rows) != want {
		t.Errorf("Rows =\n%s\nwant\n%s", res.Rows, want)
	}
}

func wantColumns(t *testing.T, res *engines.Result, want ...string) {
	t.Helper()
	if !slices.Equal(res.Columns, want) {
		t.Errorf("Columns = %q, want %q", res.Columns, want)
	}
}

func wantCode(t *testing.T, de *engines.DatabaseError, want schemas.Code) {
	t.Helper()
	if de.Code != want {
		t.Errorf("Code = %q, want %q (error: %v)", de.Code, want, de)
	}
}

// numbers creates table numbers(id, name) holding 1..n as "n<id>", in one
// transaction of n statements.
func (s *suite) numbers(t *testing.T, c engines.Conn, n int) {
	t.Helper()
	s.run(t, c, s.stmt("CREATE TABLE numbers (id INTEGER PRIMARY KEY, name "+s.typ(String)+")"))
	stmts := make([]engines.Statement, n)
	for i := range stmts {
		stmts[i] = s.stmt("INSERT INTO numbers (id, name) VALUES (?, ?)", int64(i+1), "n"+strconv.Itoa(i+1))
	}
	res := s.run(t, c, stmts...)
	for i, a := range res.Affected {
		if a != 1 {
			t.Fatalf("insert %d: Affected = %d, want 1", i+1, a)
		}
	}
}

func numberRows(from, to int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":` + strconv.Itoa(i) + `,"name":"n` + strconv.Itoa(i) + `"}`)
	}
	b.WriteByte(']')
	return b.String()
}
