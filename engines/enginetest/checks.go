package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

func (s *suite) testConnect(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.alive(t, c)
	if s.f.UnreachableDSN == "" {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	bad, err := s.h.Engine.Open(ctx, s.f.UnreachableDSN, engines.Options{})
	if err == nil {
		bad.Close()
		t.Fatalf("Open(%q) succeeded, want an error", s.f.UnreachableDSN)
	}
	de := asDatabaseError(t, err)
	wantCode(t, de, schemas.CodeUnavailable)
	if !engines.IsConnLost(err) {
		t.Errorf("Open error %v: IsConnLost = false, want true", err)
	}
}

func (s *suite) testPointQuery(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.numbers(t, c, 100)
	res := s.run(t, c, s.stmt("SELECT id, name FROM numbers WHERE id = ?", int64(42)))
	wantColumns(t, res, "id", "name")
	wantRows(t, res, `[{"id":42,"name":"n42"}]`)
	if res.RowCount != 1 {
		t.Errorf("RowCount = %d, want 1", res.RowCount)
	}
}

func (s *suite) testRangeQuery(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.numbers(t, c, 100)
	res := s.run(t, c, s.stmt("SELECT id, name FROM numbers WHERE id >= ? AND id <= ? ORDER BY id", int64(10), int64(19)))
	wantColumns(t, res, "id", "name")
	wantRows(t, res, numberRows(10, 19))
	if res.RowCount != 10 {
		t.Errorf("RowCount = %d, want 10", res.RowCount)
	}
	// Descending, to show the order is the query's, not the table's.
	res = s.run(t, c, s.stmt("SELECT name, id FROM numbers WHERE id > ? ORDER BY id DESC", int64(98)))
	wantRows(t, res, `[{"name":"n100","id":100},{"name":"n99","id":99}]`)
}

func (s *suite) testColumnOrder(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.run(t, c, s.stmt(fmt.Sprintf("CREATE TABLE wide (zeta %s, alpha %s, mid %s, beta %s)",
		s.typ(Integer), s.typ(String), s.typ(Float), s.typ(Integer))))
	s.run(t, c, s.stmt("INSERT INTO wide (zeta, alpha, mid, beta) VALUES (?, ?, ?, ?)", int64(1), "a", 2.5, nil))
	// SELECT * keeps the declared order, an explicit list its own order,
	// and aliases name the keys.
	res := s.run(t, c, s.stmt("SELECT * FROM wide"))
	wantColumns(t, res, "zeta", "alpha", "mid", "beta")
	wantRows(t, res, `[{"zeta":1,"alpha":"a","mid":2.5,"beta":null}]`)
	res = s.run(t, c, s.stmt("SELECT mid, beta, zeta AS z, alpha AS \"Upper Case\" FROM wide"))
	wantColumns(t, res, "mid", "beta", "z", "Upper Case")
	wantRows(t, res, `[{"mid":2.5,"beta":null,"z":1,"Upper Case":"a"}]`)
}

func (s *suite) testEmptyResult(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.numbers(t, c, 3)
	res := s.run(t, c, s.stmt("SELECT id, name FROM numbers WHERE id > ?", int64(1000)))
	wantColumns(t, res, "id", "name")
	wantRows(t, res, `[]`)
	if res.RowCount != 0 {
		t.Errorf("RowCount = %d, want 0", res.RowCount)
	}
}

func (s *suite) testManyRows(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	series := s.f.Series
	if series == "" {
		series = defaultSeries
	}
	res := s.run(t, c, s.stmt(series))
	wantColumns(t, res, "n")
	if res.RowCount != 10000 {
		t.Fatalf("RowCount = %d, want 10000", res.RowCount)
	}
	var rows []struct{ N json.Number }
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10000 {
		t.Fatalf("%d rows, want 10000", len(rows))
	}
	for _, i := range []int{0, 1, 4999, 9998, 9999} {
		if want := json.Number(strconv.Itoa(i + 1)); rows[i].N != want {
			t.Errorf("row %d: n = %s, want %s", i, rows[i].N, want)
		}
	}
	if !strings.HasPrefix(string(res.Rows), `[{"n":1},{"n":2},`) || !strings.HasSuffix(string(res.Rows), `,{"n":10000}]`) {
		t.Errorf("Rows do not start with n=1,2 and end with n=10000")
	}
}

// defaultSeries makes 1..10000 from four cross-joined digit tables, with
// no recursion: MySQL refuses and MariaDB silently stops a recursive CTE
// after 1000 rounds by default.
const defaultSeries = "WITH d AS (SELECT 0 AS x UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4" +
	" UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)" +
	" SELECT 1 + a.x + 10 * b.x + 100 * c.x + 1000 * e.x AS n FROM d a, d b, d c, d e ORDER BY n"

// paramGroup is one of the contract's nine parameter groups: the Go value
// the engine is given, the column it is stored in, and how it reads back.
type paramGroup struct {
	group  string
	col    string
	typ    Type // column type, and the cast in select lists
	value  any  // row 1's value, the one looked for
	other  any  // row 2's value
	result string
}

func (s *suite) paramGroups() []paramGroup {
	boolTrue := "true"
	if s.f.BoolAsInt {
		boolTrue = "1"
	}
	return []paramGroup{
		{"INTEGER", "i", Integer, int64(-9007199254740993), int64(7), `"-9007199254740993"`},
		{"STRING", "s", String, "it's \"quoted\"", "other", `"it's \"quoted\""`},
		{"BOOLEAN", "b", Boolean, true, false, boolTrue},
		{"FLOAT", "f", Float, 0.25, -1.5, `0.25`},
		{"TEXT", "tx", Text, "multi\nline ✓ 🎉", "other", `"multi\nline ✓ 🎉"`},
		{"DATE", "d", Date, "2024-01-02", "2023-12-31", `"2024-01-02"`},
		{"TIME", "tm", Time, "13:14:15", "01:02:03", `"13:14:15"`},
		{"DATETIME", "dt", Datetime, "2024-01-02 13:14:15", "2024-01-02 13:14:16", `"2024-01-02T13:14:15Z"`},
		{"TIMESTAMP", "ts", Datetime, "2024-01-02 13:14:15.123456", "2024-01-02 13:14:15.123457", `"2024-01-02T13:14:15.123456Z"`},
	}
}

func (s *suite) testParams(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	groups := s.paramGroups()
	cols := []string{"id"}
	defs := []string{"id INTEGER PRIMARY KEY"}
	marks := []string{"?"}
	row1, row2, row3 := []any{int64(1)}, []any{int64(2)}, []any{int64(3)}
	want := []string{`"id":1`}
	for _, g := range groups {
		cols = append(cols, g.col)
		defs = append(defs, g.col+" "+s.typ(g.typ))
		marks = append(marks, "?")
		row1, row2, row3 = append(row1, g.value), append(row2, g.other), append(row3, nil)
		want = append(want, fmt.Sprintf("%q:%s", g.col, g.result))
	}
	s.run(t, c, s.stmt("CREATE TABLE p ("+strings.Join(defs, ", ")+")"))
	insert := "INSERT INTO p (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	res := s.run(t, c, s.stmt(insert, row1...), s.stmt(insert, row2...), s.stmt(insert, row3...))
	if fmt.Sprint(res.Affected) != "[1 1 1]" {
		t.Errorf("Affected = %v, want [1 1 1]", res.Affected)
	}
	all := "SELECT " + strings.Join(cols, ", ") + " FROM p"
	wantRows(t, s.run(t, c, s.stmt(all+" WHERE id = ?", int64(1))), "[{"+strings.Join(want, ",")+"}]")

	for _, g := range groups {
		t.Run(g.group, func(t *testing.T) {
			// In WHERE: finds row 1 and only row 1 (NULL and the other
			// value do not match).
			res := s.run(t, c, s.stmt("SELECT id, "+g.col+" FROM p WHERE "+g.col+" = ? ORDER BY id", g.value))
			wantRows(t, res, fmt.Sprintf(`[{"id":1,%q:%s}]`, g.col, g.result))
			// NULL reads back as null, whatever the type.
			res = s.run(t, c, s.stmt("SELECT "+g.col+" FROM p WHERE id = ?", int64(3)))
			wantRows(t, res, fmt.Sprintf(`[{%q:null}]`, g.col))
			// In a select list.
			cast := s.f.Casts[g.typ]
			if cast == "" {
				t.Logf("no Features.Casts for %s: select-list binding not checked", g.typ)
				return
			}
			res = s.run(t, c, s.stmt("SELECT CAST(? AS "+cast+") AS v, CAST(? AS "+cast+") AS n", g.value, nil))
			wantRows(t, res, `[{"v":`+g.result+`,"n":null}]`)
		})
	}
}

func (s *suite) testDuplicateColumns(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	de := s.runFail(t, c, s.stmt("SELECT 1 AS a, 2 AS b, 3 AS a"))
	wantCode(t, de, schemas.CodeDatabaseError)
	if !strings.Contains(de.Message, "a") {
		t.Errorf("message %q does not name the duplicate column", de.Message)
	}
	s.alive(t, c)
}

func (s *suite) testErrors(t *testing.T) {
	c, dsn := s.open(t, engines.Options{})
	s.run(t, c, s.stmt("CREATE TABLE u (id INTEGER PRIMARY KEY, name "+s.typ(String)+" NOT NULL)"))
	s.run(t, c, s.stmt("INSERT INTO u (id, name) VALUES (?, ?)", int64(1), "one"))

	for _, tc := range []struct {
		name string
		st   engines.Statement
	}{
		{"syntax", s.stmt("SELEC 1")},
		{"unknown table", s.stmt("SELECT * FROM no_such_table")},
		{"unknown column", s.stmt("SELECT no_such_column FROM u")},
		{"unique violation", s.stmt("INSERT INTO u (id, name) VALUES (?, ?)", int64(1), "again")},
		{"not null violation", s.stmt("INSERT INTO u (id, name) VALUES (?, ?)", int64(2), nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de := s.runFail(t, c, tc.st)
			wantCode(t, de, schemas.CodeDatabaseError)
			if de.Retryable || engines.IsConnLost(de) {
				t.Errorf("%v: Retryable = %v, IsConnLost = %v, want false", de, de.Retryable, engines.IsConnLost(de))
			}
			if strings.Contains(de.Error(), dsn) {
				t.Errorf("message %q contains the DSN", de.Error())
			}
			s.alive(t, c)
		})
	}
	t.Run("division by zero", func(t *testing.T) {
		st := s.stmt("SELECT 1/0 AS x")
		if s.f.DivisionByZeroIsNull {
			wantRows(t, s.run(t, c, st), `[{"x":null}]`)
			return
		}
		wantCode(t, s.runFail(t, c, st), schemas.CodeDatabaseError)
		s.alive(t, c)
	})
	wantRows(t, s.run(t, c, s.stmt("SELECT id, name FROM u")), `[{"id":1,"name":"one"}]`)
}

// timeoutBound is how long a run may take past its 200 ms deadline.
const timeoutBound = 1500 * time.Millisecond

func (s *suite) testTimeout(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.numbers(t, c, 3)
	expire := func(t *testing.T, stmts ...engines.Statement) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Run(ctx, stmts)
		took := time.Since(start)
		if err == nil {
			t.Fatalf("Run(%q) succeeded past its deadline", stmts[len(stmts)-1].SQL)
		}
		wantCode(t, asDatabaseError(t, err), schemas.CodeTimeout)
		if took > timeoutBound {
			t.Errorf("Run returned %v after it started, want within %v", took, timeoutBound)
		}
		if engines.IsConnLost(err) {
			t.Fatalf("a timeout cost the connection: %v", err)
		}
		// Twice: a late cancel must not hit the next statement either.
		s.alive(t, c)
		s.alive(t, c)
	}
	t.Run("statement", func(t *testing.T) {
		expire(t, s.stmt(s.f.Sleep))
	})
	t.Run("in transaction", func(t *testing.T) {
		expire(t, s.stmt("INSERT INTO numbers (id, name) VALUES (?, ?)", int64(4), "n4"), s.stmt(s.f.Sleep))
		wantRows(t, s.run(t, c, s.stmt("SELECT id FROM numbers WHERE id = ?", int64(4))), `[]`)
	})
	t.Run("already expired", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := c.Run(ctx, []engines.Statement{s.stmt("SELECT 1 AS one")})
		if err == nil {
			t.Fatal("Run with an expired context succeeded")
		}
		wantCode(t, asDatabaseError(t, err), schemas.CodeTimeout)
		s.alive(t, c)
	})
}

func (s *suite) testTransactions(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.run(t, c, s.stmt("CREATE TABLE tx (id INTEGER PRIMARY KEY, name "+s.typ(String)+")"))

	t.Run("commit", func(t *testing.T) {
		res := s.run(t, c,
			s.stmt("INSERT INTO tx (id, name) VALUES (?, ?)", int64(1), "a"),
			s.stmt("INSERT INTO tx (id, name) VALUES (?, ?), (?, ?)", int64(2), "b", int64(3), "c"),
			s.stmt("SELECT id, name FROM tx WHERE id <= ? ORDER BY id", int64(3)))
		if len(res.Affected) == 3 && (res.Affected[0] != 1 || res.Affected[1] != 2 || res.Affected[2] != 0) {
			t.Errorf("Affected = %v, want [1 2 0] (a SELECT changes nothing)", res.Affected)
		}
		wantColumns(t, res, "id", "name")
		wantRows(t, res, `[{"id":1,"name":"a"},{"id":2,"name":"b"},{"id":3,"name":"c"}]`)
	})
	t.Run("write last", func(t *testing.T) {
		res := s.run(t, c,
			s.stmt("UPDATE tx SET name = ? WHERE id <= ?", "z", int64(2)),
			s.stmt("DELETE FROM tx WHERE id = ?", int64(3)))
		if fmt.Sprint(res.Affected) != "[2 1]" {
			t.Errorf("Affected = %v, want [2 1]", res.Affected)
		}
		if len(res.Columns) != 0 || res.RowCount != 0 || (len(res.Rows) != 0 && string(res.Rows) != "[]") {
			t.Errorf("a write returned rows: %q %s", res.Columns, res.Rows)
		}
	})
	for _, tc := range []struct {
		name   string
		second engines.Statement
	}{
		{"rollback on constraint", s.stmt("INSERT INTO tx (id, name) VALUES (?, ?)", int64(1), "dup")},
		{"rollback on syntax", s.stmt("INSERT INTO tx VALUES ((")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de := s.runFail(t, c,
				s.stmt("INSERT INTO tx (id, name) VALUES (?, ?)", int64(10), "x"),
				tc.second,
				s.stmt("INSERT INTO tx (id, name) VALUES (?, ?)", int64(11), "y"))
			wantCode(t, de, schemas.CodeDatabaseError)
			res := s.run(t, c, s.stmt("SELECT COUNT(*) AS n FROM tx WHERE id >= ?", int64(10)))
			wantRows(t, res, `[{"n":0}]`)
			s.alive(t, c)
		})
	}
	wantRows(t, s.run(t, c, s.stmt("SELECT id, name FROM tx ORDER BY id")), `[{"id":1,"name":"z"},{"id":2,"name":"z"}]`)
}

func (s *suite) testStatementCache(t *testing.T) {
	t.Run("same SQL 200 times", func(t *testing.T) {
		c, _ := s.open(t, engines.Options{})
		s.numbers(t, c, 10)
		for i := range 200 {
			id := i%10 + 1
			res := s.run(t, c, s.stmt("SELECT id, name FROM numbers WHERE id = ?", int64(id)))
			wantRows(t, res, numberRows(id, id))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		c, _ := s.open(t, engines.Options{StmtCacheSize: 2})
		s.numbers(t, c, 10)
		for round := range 4 {
			for k := range 5 {
				id := (round+k)%10 + 1
				res := s.run(t, c, s.stmt(fmt.Sprintf("SELECT id AS v%d FROM numbers WHERE id = ?", k), int64(id)))
				wantRows(t, res, fmt.Sprintf(`[{"v%d":%d}]`, k, id))
			}
		}
	})
}

// testSchemaChange runs a cached statement again after its table changed
// shape, as happens when a migration runs under a live worker.
func (s *suite) testSchemaChange(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	s.run(t, c, s.stmt("CREATE TABLE sc (id INTEGER PRIMARY KEY, a "+s.typ(Integer)+")"))
	s.run(t, c, s.stmt("INSERT INTO sc (id, a) VALUES (?, ?)", int64(1), int64(10)))
	all := s.stmt("SELECT * FROM sc")
	wantRows(t, s.run(t, c, all), `[{"id":1,"a":10}]`)
	s.run(t, c, s.stmt("ALTER TABLE sc ADD COLUMN b "+s.typ(String)))
	res := s.run(t, c, all)
	wantColumns(t, res, "id", "a", "b")
	wantRows(t, res, `[{"id":1,"a":10,"b":null}]`)
	// The same inside a transaction.
	s.run(t, c, s.stmt("ALTER TABLE sc ADD COLUMN c "+s.typ(Integer)))
	res = s.run(t, c, s.stmt("UPDATE sc SET c = ?", int64(5)), all)
	wantRows(t, res, `[{"id":1,"a":10,"b":null,"c":5}]`)
}

func (s *suite) testReconnect(t *testing.T) {
	if s.f.Kill == nil {
		// Not a skip: nothing is missing, the check does not apply.
		t.Log("not applicable: Features.Kill is nil (the engine's connections cannot be killed from outside)")
		return
	}
	c, dsn := s.open(t, engines.Options{})
	s.alive(t, c)
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	if err := s.f.Kill(ctx, dsn, c); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	_, err := c.Run(ctx, []engines.Statement{s.stmt("SELECT 1 AS one")})
	if err == nil {
		t.Fatal("Run on a killed connection succeeded")
	}
	wantCode(t, asDatabaseError(t, err), schemas.CodeUnavailable)
	if !engines.IsConnLost(err) {
		t.Errorf("Run on a killed connection: IsConnLost(%v) = false", err)
	}
	if err := c.Ping(ctx); err == nil {
		t.Error("Ping on a killed connection succeeded")
	} else if !engines.IsConnLost(err) {
		t.Errorf("Ping on a killed connection: IsConnLost(%v) = false", err)
	}
	// Reconnecting is the worker's job: a new connection must work.
	s.alive(t, s.openDSN(t, dsn, engines.Options{}))
}
