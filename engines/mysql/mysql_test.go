package mysql

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// testDSN creates a database of the test's own, dqmt_<random>, on the test
// server, drops it when the test ends, and returns a DSN for it.
func testDSN(t *testing.T) string {
	t.Helper()
	base := testutil.MySQLURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := New().Open(ctx, base, engines.Options{})
	testutil.Need(t, "MySQL/MariaDB", err)
	name := fmt.Sprintf("dqmt_%016x", rand.Uint64())
	mustRun(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Run(ctx, []engines.Statement{{SQL: "DROP DATABASE " + name}}); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	cfg, err := ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// openConn opens a connection to a fresh test database.
func openConn(t *testing.T, opts engines.Options) (*Conn, string) {
	t.Helper()
	dsn := testDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := New().Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Conn), dsn
}

func mustRun(t *testing.T, c engines.Conn, sql string, args ...any) *engines.Result {
	t.Helper()
	res, err := run(c, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

func run(c engines.Conn, sql string, args ...any) (*engines.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Run(ctx, []engines.Statement{{SQL: sql, Args: args}})
}

func dbErr(t *testing.T, err error) *engines.DatabaseError {
	t.Helper()
	var de *engines.DatabaseError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DatabaseError", err, err)
	}
	return de
}

func TestTypes(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, `CREATE TABLE t (
		i INT, bi BIGINT, ubi BIGINT UNSIGNED, ti TINYINT, b BOOL, bit1 BIT(1), bit9 BIT(9),
		d DECIMAL(38,9), f FLOAT, dbl DOUBLE, dt DATE, tm TIME, tm3 TIME(3), dtm DATETIME(6), ts TIMESTAMP NULL,
		vc VARCHAR(200), tx TEXT, en ENUM('a','b'), bl BLOB, vb VARBINARY(10), j JSON, lt LONGTEXT, y YEAR, n INT)`)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	mustRun(t, c, `INSERT INTO t VALUES (?, ?, ?, ?, ?, b'1', b'100000001', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		-42, int64(1)<<53+1, uint64(18446744073709551615), 7, true,
		"12345678901234567890.123456789", 1.5, 0.1, "2024-01-02", "-838:59:59", "01:02:03.5", ts, "2024-01-02 03:04:05",
		`tab	"quote" <é>`, strings.Repeat("x", 3), "b", []byte{0, 1, 2, 255}, []byte("hi"), `{"a": [1, 2]}`, "[1]", 2024)
	res := mustRun(t, c, "SELECT * FROM t")
	want := `[{"i":-42,"bi":"9007199254740993","ubi":"18446744073709551615","ti":7,"b":true,"bit1":true,"bit9":257,` +
		`"d":"12345678901234567890.123456789","f":1.5,"dbl":0.1,"dt":"2024-01-02","tm":"-838:59:59","tm3":"01:02:03.5",` +
		`"dtm":"2024-01-02T03:04:05.123456Z","ts":"2024-01-02T03:04:05Z","vc":"tab\t\"quote\" \u003cé\u003e","tx":"xxx","en":"b",` +
		`"bl":"AAEC/w==","vb":"aGk=","j":{"a": [1, 2]},"lt":"[1]","y":2024,"n":null}]`
	if got := string(res.Rows); got != want {
		t.Errorf("rows\n got %s\nwant %s", got, want)
	}
	if res.RowCount != 1 || len(res.Columns) != 24 || res.Columns[0] != "i" || res.Columns[23] != "n" {
		t.Errorf("RowCount %d, Columns %v", res.RowCount, res.Columns)
	}
}

func TestExpressions(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	for _, tt := range []struct{ sql, want string }{
		{"SELECT 1/0 AS x", `[{"x":null}]`}, // NULL and a warning, even in strict mode
		{"SELECT TRUE AS x, 1 = 1 AS y", `[{"x":1,"y":1}]`},
		{"SELECT ? AS x, ? AS y, ? AS z", `[{"x":1,"y":"a","z":null}]`},
		{"SELECT CAST('2024-01-02 03:04:05' AS DATETIME) AS x, CAST(1.50 AS DECIMAL(5,2)) AS y", `[{"x":"2024-01-02T03:04:05Z","y":"1.50"}]`},
		{"SELECT NOW() = UTC_TIMESTAMP() AS utc", `[{"utc":1}]`},
		{"SELECT 1 AS x WHERE 1 = 0", `[]`},
	} {
		var args []any
		if strings.Contains(tt.sql, "?") {
			args = []any{1, "a", nil}
		}
		res := mustRun(t, c, tt.sql, args...)
		if got := string(res.Rows); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.sql, got, tt.want)
		}
	}
	// JSON built by functions is text on MariaDB (no mark on the wire),
	// JSON on MySQL.
	want := `[{"x":"{\"a\": 1}"}]`
	if !c.MariaDB() {
		want = `[{"x":{"a": 1}}]`
	}
	if res := mustRun(t, c, "SELECT JSON_OBJECT('a', 1) AS x"); string(res.Rows) != want {
		t.Errorf("JSON_OBJECT = %s, want %s", res.Rows, want)
	}
}

func TestDuplicateColumns(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	_, err := run(c, "SELECT 1 AS a, 2 AS a")
	if de := dbErr(t, err); de.Code != schemas.CodeDatabaseError || !strings.Contains(de.Message, "duplicate column") {
		t.Errorf("got %v", err)
	}
	mustRun(t, c, "SELECT 1") // the connection is fine
}

func TestWritesAndCache(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{StmtCacheSize: 2})
	mustRun(t, c, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	for i := range 3 {
		// The first run learns the statement has no result set (the count
		// then comes from ROW_COUNT()), the next ones run it with Exec.
		res := mustRun(t, c, "INSERT INTO t VALUES (?, ?), (?, ?)", 2*i, i, 2*i+1, i)
		if len(res.Affected) != 1 || res.Affected[0] != 2 || res.Rows != nil {
			t.Fatalf("insert %d: %+v", i, res)
		}
	}
	res := mustRun(t, c, "UPDATE t SET v = v + 1 WHERE id < ?", 3)
	if res.Affected[0] != 3 {
		t.Errorf("update affected %v", res.Affected)
	}
	if n := c.stmts.Len(); n != 2 {
		t.Errorf("cache holds %d statements, want 2 (its bound)", n)
	}
	res = mustRun(t, c, "SELECT COUNT(*) AS n FROM t")
	if string(res.Rows) != `[{"n":6}]` || res.Affected[0] != 0 {
		t.Errorf("count %s %v", res.Rows, res.Affected)
	}
}

func TestTransaction(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, "CREATE TABLE t (id INT PRIMARY KEY)")
	ctx := context.Background()
	res, err := c.Run(ctx, []engines.Statement{
		{SQL: "INSERT INTO t VALUES (?)", Args: []any{1}},
		{SQL: "INSERT INTO t VALUES (?), (?)", Args: []any{2, 3}},
		{SQL: "SELECT id FROM t ORDER BY id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Rows) != `[{"id":1},{"id":2},{"id":3}]` || fmt.Sprint(res.Affected) != "[1 2 0]" {
		t.Errorf("got %s %v", res.Rows, res.Affected)
	}
	_, err = c.Run(ctx, []engines.Statement{
		{SQL: "INSERT INTO t VALUES (?)", Args: []any{4}},
		{SQL: "INSERT INTO t VALUES (?)", Args: []any{1}},
	})
	if de := dbErr(t, err); de.Code != schemas.CodeDatabaseError || de.SQLState != "23000" {
		t.Errorf("duplicate in a transaction: %v", err)
	}
	res = mustRun(t, c, "SELECT COUNT(*) AS n FROM t")
	if string(res.Rows) != `[{"n":3}]` {
		t.Errorf("after rollback: %s", res.Rows)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, "CREATE TABLE p (id INT PRIMARY KEY)")
	mustRun(t, c, "CREATE TABLE ch (id INT PRIMARY KEY, p INT NOT NULL, FOREIGN KEY (p) REFERENCES p(id))")
	mustRun(t, c, "INSERT INTO p VALUES (1)")
	mustRun(t, c, "INSERT INTO ch VALUES (1, 1)")
	for _, tt := range []struct {
		sql      string
		sqlState string
	}{
		{"SELEC 1", "42000"},
		{"SELECT nope FROM p", "42S22"},
		{"SELECT * FROM nope", "42S02"},
		{"INSERT INTO p VALUES (1)", "23000"},
		{"INSERT INTO ch VALUES (2, 9)", "23000"},
		{"DELETE FROM p", "23000"},
		{"INSERT INTO ch VALUES (3, NULL)", "23000"},
		{"INSERT INTO p VALUES (1/0)", "22012"},
		{"INSERT INTO p VALUES ('x')", ""}, // MariaDB 22007, MySQL HY000
	} {
		_, err := run(c, tt.sql)
		de := dbErr(t, err)
		if de.Code != schemas.CodeDatabaseError || tt.sqlState != "" && de.SQLState != tt.sqlState || de.Retryable || engines.IsConnLost(err) {
			t.Errorf("%s: %+v", tt.sql, de)
		}
		if strings.Contains(de.Message, "@") || de.Message == "" {
			t.Errorf("%s: message %q", tt.sql, de.Message)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, []engines.Statement{{SQL: "SELECT SLEEP(5)"}})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
	if de := dbErr(t, err); de.Code != schemas.CodeTimeout || engines.IsConnLost(err) {
		t.Fatalf("got %v", err)
	}
	// The connection survived the KILL QUERY and its statement limit is
	// set; the next run works.
	if res := mustRun(t, c, "SELECT 1 AS x"); string(res.Rows) != `[{"x":1}]` {
		t.Errorf("after timeout: %s", res.Rows)
	}
}

func TestTimeoutInTransaction(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, "CREATE TABLE t (id INT PRIMARY KEY)")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, []engines.Statement{
		{SQL: "INSERT INTO t VALUES (1)"},
		{SQL: "SELECT SLEEP(5)"},
		{SQL: "INSERT INTO t VALUES (2)"},
	})
	if de := dbErr(t, err); de.Code != schemas.CodeTimeout {
		t.Fatalf("got %v", err)
	}
	if res := mustRun(t, c, "SELECT COUNT(*) AS n FROM t"); string(res.Rows) != `[{"n":0}]` {
		t.Errorf("rolled back? %s", res.Rows)
	}
}

// TestTimeoutAbort: when KILL QUERY cannot be sent, the connection is
// given up after the grace period and the error says so.
func TestTimeoutAbort(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	// The abort (deadline + grace, ~420 ms) must come well before the
	// session limit the deadline sets on the server (rounded up to 512 ms),
	// or a loaded machine sees the server's own timeout instead.
	c.killGrace = 20 * time.Millisecond
	c.kill = failingConnector{}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, []engines.Statement{{SQL: "SELECT SLEEP(5)"}})
	if de := dbErr(t, err); de.Code != schemas.CodeTimeout || !engines.IsConnLost(err) {
		t.Fatalf("got %v", err)
	}
	_, err = run(c, "SELECT 1")
	if de := dbErr(t, err); de.Code != schemas.CodeUnavailable || !engines.IsConnLost(err) {
		t.Errorf("after abort: %v", err)
	}
}

// TestSessionLimit: the statement limit is the deadline rounded up to a
// power of two milliseconds, set only when it changes.
func TestSessionLimit(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	variable := "@@SESSION.max_execution_time / 1000"
	if c.MariaDB() {
		variable = "@@SESSION.max_statement_time"
	}
	for _, tt := range []struct {
		timeout time.Duration
		want    string
	}{
		{3 * time.Second, "4.096"},
		{20 * time.Second, "32.768"},
		{0, "0"},
	} {
		ctx := context.Background()
		if tt.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tt.timeout)
			defer cancel()
		}
		res, err := c.Run(ctx, []engines.Statement{{SQL: "SELECT " + variable + " + 0 AS v"}})
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct{ V json.Number }
		if err := json.Unmarshal(res.Rows, &rows); err != nil {
			t.Fatal(err)
		}
		if got, _ := rows[0].V.Float64(); strconv.FormatFloat(got, 'f', -1, 64) != tt.want {
			t.Errorf("timeout %v: limit %s, want %s", tt.timeout, res.Rows, tt.want)
		}
	}
}

// TestServerLimit: a statement limit the DSN sets stays, and when it
// fires the error is a timeout. MariaDB's max_statement_time (seconds)
// stops any statement, MySQL's max_execution_time (milliseconds) only a
// SELECT: the statement is a heavy SELECT, not SLEEP, so both stop it.
func TestServerLimit(t *testing.T) {
	t.Parallel()
	c, dsn := openConn(t, engines.Options{})
	limit, state := "&max_execution_time=200", "HY000" // ER_QUERY_TIMEOUT, 3024
	if c.MariaDB() {
		limit, state = "&max_statement_time=0.2", "70100" // ER_STATEMENT_TIMEOUT, 1969
	}
	lc, err := New().Open(context.Background(), dsn+limit, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const heavy = "WITH d AS (SELECT 0 AS x UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4" +
		" UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)" +
		" SELECT COUNT(*) AS n FROM d a, d b, d c, d e, d f, d g, d h, d i, d j"
	start := time.Now()
	_, err = lc.Run(ctx, []engines.Statement{{SQL: heavy}})
	if de := dbErr(t, err); de.Code != schemas.CodeTimeout || de.SQLState != state || engines.IsConnLost(err) {
		t.Fatalf("got %+v after %v", err, time.Since(start))
	}
}

func TestReconnect(t *testing.T) {
	t.Parallel()
	c, dsn := openConn(t, engines.Options{})
	mustRun(t, c, "SELECT 1")
	admin, err := New().Open(context.Background(), dsn, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	mustRun(t, admin, fmt.Sprintf("KILL %d", c.ID()))
	_, err = run(c, "SELECT 1")
	if de := dbErr(t, err); de.Code != schemas.CodeUnavailable || !engines.IsConnLost(err) {
		t.Fatalf("after KILL: %v", err)
	}
	if err := c.Ping(context.Background()); !engines.IsConnLost(err) {
		t.Errorf("ping after KILL: %v", err)
	}
	// What the caller does next: a new connection.
	c2, err := New().Open(context.Background(), dsn, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	mustRun(t, c2, "SELECT 1")
}

// TestIdleKill: a KILL QUERY that arrives once the statement has finished
// must not hit the next one.
func TestIdleKill(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, "SELECT 1")
	if err := c.killQuery(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustRun(t, c, "SELECT 2")
}

// TestMetaReadable: the driver still keeps column widths and flags where
// fields.go reads them (a driver upgrade that moves them fails here).
func TestMetaReadable(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, "CREATE TABLE t (b BOOL, lt LONGTEXT COLLATE utf8mb4_bin, i INT UNSIGNED)")
	ds, err := c.dc.(driver.ConnPrepareContext).PrepareContext(context.Background(), "SELECT b, lt, i FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	rows, err := ds.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	widths, flags := make([]uint32, 3), make([]uint16, 3)
	if !meta(rows, widths, flags) {
		t.Fatalf("cannot read column metadata from %T", rows)
	}
	if widths[0] != 1 || widths[1] != longText || flags[1]&flagBinary == 0 || flags[2]&0x20 == 0 {
		t.Errorf("widths %v flags %v", widths, flags)
	}
	if meta(rows, make([]uint32, 2), make([]uint16, 2)) {
		t.Error("meta accepted the wrong column count")
	}
}

func TestReprepare(t *testing.T) {
	t.Parallel()
	c, _ := openConn(t, engines.Options{})
	mustRun(t, c, "CREATE TABLE t (a INT)")
	mustRun(t, c, "INSERT INTO t VALUES (1)")
	mustRun(t, c, "SELECT * FROM t")
	mustRun(t, c, "ALTER TABLE t ADD COLUMN b INT DEFAULT 2")
	if res := mustRun(t, c, "SELECT * FROM t"); string(res.Rows) != `[{"a":1,"b":2}]` {
		t.Errorf("after ALTER: %s", res.Rows)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New().Open(ctx, "mysql://root:secret@127.0.0.1:1/test", engines.Options{})
	if de := dbErr(t, err); de.Code != schemas.CodeUnavailable || strings.Contains(err.Error(), "secret") {
		t.Errorf("got %v", err)
	}
}

func TestOpenAccessDenied(t *testing.T) {
	t.Parallel()
	cfg, err := ParseDSN(testutil.MySQLURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Passwd = "nobody_dqm", "secret"
	_, err = New().Open(context.Background(), cfg.FormatDSN(), engines.Options{})
	if de := dbErr(t, err); de.Code != schemas.CodeUnavailable || strings.Contains(err.Error(), "secret") {
		t.Errorf("got %v", err)
	}
}

// failingConnector stands in for a server that cannot take a KILL.
type failingConnector struct{}

func (failingConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("no second connection")
}
func (failingConnector) Driver() driver.Driver { return nil }

// BenchmarkPointQuery: one cached prepared statement, one row, on the
// local server.
func BenchmarkPointQuery(b *testing.B) {
	base := testutil.MySQLURL(b)
	c, err := New().Open(context.Background(), base, engines.Options{})
	testutil.Need(b, "MySQL/MariaDB", err)
	defer c.Close()
	stmts := []engines.Statement{{SQL: "SELECT ? AS id, 'name' AS name, NOW() AS at", Args: []any{int64(1)}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Run(ctx, stmts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOpenErrorsNameTheServer: a failed connect says where and why, and
// never the password.
func TestOpenErrorsNameTheServer(t *testing.T) {
	_, err := New().Open(t.Context(), "mysql://root:s3cret@127.0.0.1:1/test?timeout=2s", engines.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "connect to 127.0.0.1:1: ") || !strings.Contains(err.Error(), "refused") ||
		strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err %v", err)
	}
}
