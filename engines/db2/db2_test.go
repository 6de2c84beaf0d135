//go:build db2

package db2

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// The engine against a fake go_ibm_db (no CLI here): it answers the few
// statements these tests send, with go_ibm_db's value types (int32 for
// INTEGER, []byte for CHAR and binary, time.Time in local time) and its
// error shape, and lets a second connection cancel a running statement the
// way WLM_CANCEL_ACTIVITY does.

const fakeName = "dqm_fake_db2"

func init() { sql.Register(fakeName, fakeDriver{}) }

var fake = struct {
	sync.Mutex
	conns    map[int64]*fakeConn
	next     int64
	prepares int
}{conns: map[int64]*fakeConn{}}

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) {
	fake.Lock()
	defer fake.Unlock()
	fake.next++
	c := &fakeConn{handle: fake.next, cancel: make(chan struct{})}
	fake.conns[c.handle] = c
	return c, nil
}

type fakeConn struct {
	handle int64
	cancel chan struct{} // closed by WLM_CANCEL_ACTIVITY
	mu     sync.Mutex
	log    []string
}

func (c *fakeConn) record(s string) {
	c.mu.Lock()
	c.log = append(c.log, s)
	c.mu.Unlock()
}

func (c *fakeConn) Prepare(query string) (driver.Stmt, error) {
	fake.Lock()
	fake.prepares++
	fake.Unlock()
	return &fakeStmt{c: c, query: query}, nil
}
func (c *fakeConn) Close() error              { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) { c.record("BEGIN"); return fakeTx{c}, nil }

type fakeTx struct{ c *fakeConn }

func (t fakeTx) Commit() error   { t.c.record("COMMIT"); return nil }
func (t fakeTx) Rollback() error { t.c.record("ROLLBACK"); return nil }

type fakeStmt struct {
	c     *fakeConn
	query string
}

func (s *fakeStmt) Close() error  { return nil }
func (s *fakeStmt) NumInput() int { return -1 }

func diagErr(state string, code int, msg string) error {
	return &driverError{APIName: "SQLExecute", Diag: []driverDiag{{state, code, "[IBM][CLI Driver][DB2/LINUXX8664] " + msg}}}
}

func (s *fakeStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.record(s.query)
	switch {
	case s.query == cancelSQL:
		fake.Lock()
		target := fake.conns[args[0].(int64)]
		fake.Unlock()
		close(target.cancel)
		return driver.RowsAffected(0), nil
	case strings.Contains(s.query, "FAIL"):
		return nil, diagErr("23505", -803, "SQL0803N  One or more values in the INSERT statement are not valid. SQLSTATE=23505")
	case strings.HasPrefix(s.query, "INSERT"), strings.HasPrefix(s.query, "UPDATE"):
		return driver.RowsAffected(1), nil
	}
	return nil, diagErr("42601", -104, "SQL0104N  An unexpected token was found.  SQLSTATE=42601")
}

func (s *fakeStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.record(s.query)
	local := time.FixedZone("local", -5*3600)
	switch s.query {
	case appHandleSQL:
		return &fakeRows{cols: []string{"1"}, types: []string{"BIGINT"}, rows: [][]driver.Value{{s.c.handle}}}, nil
	case "VALUES 1":
		return &fakeRows{cols: []string{"1"}, types: []string{"INTEGER"}, rows: [][]driver.Value{{int32(1)}}}, nil
	case activitySQL:
		return &fakeRows{cols: []string{"UOW_ID", "ACTIVITY_ID"}, types: []string{"INTEGER", "INTEGER"},
			rows: [][]driver.Value{{int32(3), int32(1)}}}, nil
	case "SELECT * FROM T":
		return &fakeRows{
			cols:  []string{"ID", "AMOUNT", "DAY", "AT", "DATA", "NAME", "OK"},
			types: []string{"INTEGER", "DECIMAL", "DATE", "TIMESTAMP", "BLOB", "VARCHAR", "BOOLEAN"},
			rows: [][]driver.Value{
				{int32(1), []byte("12345678901234567890.5"), time.Date(2024, 1, 2, 0, 0, 0, 0, local),
					time.Date(2024, 1, 2, 3, 4, 5, 0, local), []byte{1, 2}, []byte("x"), true},
				{int32(2), nil, nil, nil, nil, nil, nil},
			}}, nil
	case "SELECT SLOW":
		<-s.c.cancel
		return nil, diagErr("57014", -4725, "SQL4725N  The activity has been cancelled.  SQLSTATE=57014")
	case "SELECT GONE":
		return nil, driver.ErrBadConn
	case "SELECT 1 AS A, 2 AS A":
		return &fakeRows{cols: []string{"A", "A"}, types: []string{"INTEGER", "INTEGER"}}, nil
	}
	return nil, diagErr("42601", -104, "SQL0104N  An unexpected token was found.  SQLSTATE=42601")
}

type fakeRows struct {
	cols, types []string
	rows        [][]driver.Value
}

func (r *fakeRows) Columns() []string                       { return r.cols }
func (r *fakeRows) Close() error                            { return nil }
func (r *fakeRows) ColumnTypeDatabaseTypeName(i int) string { return r.types[i] }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

func open(t *testing.T) *Conn {
	t.Helper()
	c, err := Engine{driver: fakeName}.Open(context.Background(), "HOSTNAME=db;DATABASE=s;UID=u;PWD=p", engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Conn)
}

func runSQL(c *Conn, sqls ...string) (*engines.Result, error) {
	stmts := make([]engines.Statement, len(sqls))
	for i, s := range sqls {
		stmts[i] = engines.Statement{SQL: s}
	}
	return c.Run(context.Background(), stmts)
}

func TestEngine(t *testing.T) {
	e := New()
	if e.Name() != "db2" || e.Style() != Style {
		t.Errorf("%s %v", e.Name(), e.Style())
	}
	_, err := Engine{driver: "no_such_driver"}.Open(context.Background(), "DATABASE=s", engines.Options{})
	var de *engines.DatabaseError
	if !errors.As(err, &de) || de.Code != schemas.CodeUnavailable || !strings.Contains(de.Message, "not linked") {
		t.Errorf("missing driver: %v", err)
	}
}

func TestQuery(t *testing.T) {
	c := open(t)
	fake.Lock()
	before := fake.prepares
	fake.Unlock()
	for range 2 {
		res, err := runSQL(c, "SELECT * FROM T")
		if err != nil {
			t.Fatal(err)
		}
		want := `[{"ID":1,"AMOUNT":"12345678901234567890.5","DAY":"2024-01-02","AT":"2024-01-02T03:04:05Z","DATA":"AQI=","NAME":"x","OK":true},` +
			`{"ID":2,"AMOUNT":null,"DAY":null,"AT":null,"DATA":null,"NAME":null,"OK":null}]`
		if string(res.Rows) != want || res.RowCount != 2 || res.Affected[0] != 0 {
			t.Errorf("got %s %d %v", res.Rows, res.RowCount, res.Affected)
		}
	}
	fake.Lock()
	defer fake.Unlock()
	if n := fake.prepares - before; n != 1 {
		t.Errorf("prepared %d times, want 1 (the statement cache)", n)
	}
}

func TestTransaction(t *testing.T) {
	c := open(t)
	res, err := runSQL(c, "INSERT INTO T VALUES (1)", "UPDATE T SET ID = 2", "SELECT * FROM T")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Affected, []int64{1, 1, 0}) || res.RowCount != 2 {
		t.Errorf("affected %v rows %d", res.Affected, res.RowCount)
	}
	_, err = runSQL(c, "INSERT INTO T VALUES (1)", "INSERT INTO T VALUES (FAIL)")
	var de *engines.DatabaseError
	if !errors.As(err, &de) || de.Code != schemas.CodeDatabaseError || de.SQLState != "23505" || !strings.HasPrefix(de.Message, "SQL0803N") {
		t.Fatalf("got %v", err)
	}
	fake.Lock()
	conn := fake.conns[c.handle]
	fake.Unlock()
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if got := strings.Join(slices.DeleteFunc(slices.Clone(conn.log), func(s string) bool { return !isTx(s) }), " "); got != "BEGIN COMMIT BEGIN ROLLBACK" {
		t.Errorf("transactions: %s", got)
	}
}

func isTx(s string) bool { return s == "BEGIN" || s == "COMMIT" || s == "ROLLBACK" }

func TestErrors(t *testing.T) {
	c := open(t)
	for _, tt := range []struct {
		sql  string
		code schemas.Code
	}{
		{"SELEC 1", schemas.CodeDatabaseError},
		{"SELECT 1 AS A, 2 AS A", schemas.CodeDatabaseError},
	} {
		_, err := runSQL(c, tt.sql)
		var de *engines.DatabaseError
		if !errors.As(err, &de) || de.Code != tt.code || engines.IsConnLost(err) {
			t.Errorf("%s: %v", tt.sql, err)
		}
	}
	if _, err := runSQL(c, "VALUES 1"); err != nil {
		t.Errorf("after errors: %v", err)
	}
}

// TestDeadline: at the deadline a second connection cancels the running
// statement; the connection lives on.
func TestDeadline(t *testing.T) {
	c := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, []engines.Statement{{SQL: "SELECT SLOW"}})
	var de *engines.DatabaseError
	if !errors.As(err, &de) || de.Code != schemas.CodeTimeout || engines.IsConnLost(err) {
		t.Fatalf("got %v", err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("ping after the cancel: %v", err)
	}
}

func TestConnLost(t *testing.T) {
	c := open(t)
	_, err := runSQL(c, "SELECT GONE")
	var de *engines.DatabaseError
	if !errors.As(err, &de) || de.Code != schemas.CodeUnavailable || !engines.IsConnLost(err) {
		t.Fatalf("got %v", err)
	}
	if _, err := runSQL(c, "VALUES 1"); !engines.IsConnLost(err) {
		t.Errorf("after loss: %v", err)
	}
	if err := c.Ping(context.Background()); !engines.IsConnLost(err) {
		t.Errorf("ping after loss: %v", err)
	}
}
