package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// The bench's queries, as the catalog file and the direct drivers run them.
const (
	pointSQL = "SELECT numbers FROM numbers WHERE numbers = :N"
	rangeSQL = "SELECT numbers FROM numbers WHERE numbers >= :START AND numbers <= :FINISH ORDER BY numbers"
	// rangeLo and rangeHi are the demo's ref 55 parameters: 101 rows.
	rangeLo, rangeHi = 500, 600
	rangeRows        = rangeHi - rangeLo + 1
	numbersRows      = 10000
)

// Local services; the bench creates and drops its own schema or database.
const (
	postgresBase = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	postgresAddr = "127.0.0.1:5432"
	mysqlAddr    = "127.0.0.1:3306"
	benchSchema  = "dqm_bench"
)

// fixture is one engine's numbers table, ready for the direct driver and
// for dqm.
type fixture struct {
	engine string
	dsn    string // dqm's DSN for the engine
	// open returns the direct driver with conns connections.
	open  func(ctx context.Context, conns int) (*driver, error)
	close func()
}

// fixtures create an engine's numbers table in a database of the bench's
// own (a temp file, a schema, a database).
var fixtures = map[string]func(ctx context.Context, dir string) (*fixture, error){
	"sqlite":   sqliteFixture,
	"postgres": postgresFixture,
	"mysql":    mysqlFixture,
}

// driver runs the bench's queries with a raw driver. Load goroutine w uses
// connection w of a per-connection driver (pgx).
type driver struct {
	point func(ctx context.Context, w, n int) error
	rng   func(ctx context.Context, w int) error
	// rangeAppend runs the range query and appends its rows to buf as
	// JSON objects, comma-separated (the ideal loop's reply).
	rangeAppend func(ctx context.Context, w int, buf []byte) ([]byte, error)
	close       func()
}

// appendRow appends one row of the numbers table as a JSON object.
func appendRow(buf []byte, first bool, v int) []byte {
	if !first {
		buf = append(buf, ',')
	}
	buf = append(buf, `{"numbers":`...)
	buf = strconv.AppendInt(buf, int64(v), 10)
	return append(buf, '}')
}

func (d *driver) pointOp() op {
	return func(ctx context.Context, w, i int) error { return d.point(ctx, w, numberOf(i)) }
}

func (d *driver) rangeOp() op {
	return func(ctx context.Context, w, _ int) error { return d.rng(ctx, w) }
}

// numberOf spreads request i over the table.
func numberOf(i int) int { return (i * 7919) % numbersRows }

func reachable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("not reachable: %w", err)
	}
	return c.Close()
}

// --- SQLite: a temp file, modernc via database/sql.

func sqliteFixture(ctx context.Context, dir string) (*fixture, error) {
	path := filepath.Join(dir, "bench.db")
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE TABLE numbers (numbers INTEGER PRIMARY KEY);
		INSERT INTO numbers WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 9999) SELECT x FROM c;`)
	if err != nil {
		return nil, err
	}
	return &fixture{
		engine: "sqlite", dsn: path,
		open:  func(ctx context.Context, conns int) (*driver, error) { return sqlDriver(ctx, "sqlite", dsn, conns) },
		close: func() {},
	}, nil
}

// --- PostgreSQL: schema dqm_bench, pgx.

func postgresFixture(ctx context.Context, _ string) (*fixture, error) {
	if err := reachable(postgresAddr); err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s %w", postgresAddr, err)
	}
	conn, err := pgx.Connect(ctx, postgresBase)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range []string{
		"DROP SCHEMA IF EXISTS " + benchSchema + " CASCADE",
		"CREATE SCHEMA " + benchSchema,
		"CREATE TABLE " + benchSchema + ".numbers (numbers INTEGER PRIMARY KEY)",
		"INSERT INTO " + benchSchema + ".numbers SELECT generate_series(0, 9999)",
		"ANALYZE " + benchSchema + ".numbers",
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	dsn := postgresBase + "&search_path=" + benchSchema
	return &fixture{
		engine: "postgres", dsn: dsn,
		open: func(ctx context.Context, conns int) (*driver, error) { return pgxDriver(ctx, dsn, conns) },
		close: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if c, err := pgx.Connect(ctx, postgresBase); err == nil {
				c.Exec(ctx, "DROP SCHEMA IF EXISTS "+benchSchema+" CASCADE")
				c.Close(ctx)
			}
		},
	}, nil
}

// pgxDriver holds one prepared pgx.Conn per load goroutine.
func pgxDriver(ctx context.Context, dsn string, conns int) (*driver, error) {
	cs := make([]*pgx.Conn, 0, conns)
	closeAll := func() {
		for _, c := range cs {
			c.Close(context.Background())
		}
	}
	for range conns {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			closeAll()
			return nil, err
		}
		cs = append(cs, c)
		if _, err := c.Prepare(ctx, "point", dollar(pointSQL)); err != nil {
			closeAll()
			return nil, err
		}
		if _, err := c.Prepare(ctx, "range", dollar(rangeSQL)); err != nil {
			closeAll()
			return nil, err
		}
	}
	return &driver{
		point: func(ctx context.Context, w, n int) error {
			var v int
			if err := cs[w].QueryRow(ctx, "point", n).Scan(&v); err != nil {
				return err
			}
			return checkPoint(v, n)
		},
		rng: func(ctx context.Context, w int) error {
			rows, err := cs[w].Query(ctx, "range", rangeLo, rangeHi)
			if err != nil {
				return err
			}
			return scanRange(rows.Next, rows.Scan, rows.Err, rows.Close, nil)
		},
		rangeAppend: func(ctx context.Context, w int, buf []byte) ([]byte, error) {
			rows, err := cs[w].Query(ctx, "range", rangeLo, rangeHi)
			if err != nil {
				return nil, err
			}
			n := 0
			err = scanRange(rows.Next, rows.Scan, rows.Err, rows.Close, func(v int) { buf = appendRow(buf, n == 0, v); n++ })
			return buf, err
		},
		close: closeAll,
	}, nil
}

// dollar rewrites the bench's :NAME parameters to $1, $2 in order.
func dollar(q string) string {
	q = strings.Replace(q, ":N", "$1", 1)
	q = strings.Replace(q, ":START", "$1", 1)
	return strings.Replace(q, ":FINISH", "$2", 1)
}

// question rewrites the bench's :NAME parameters to ?.
func question(q string) string {
	for _, p := range []string{":N", ":START", ":FINISH"} {
		q = strings.Replace(q, p, "?", 1)
	}
	return q
}

// --- MySQL/MariaDB: database dqm_bench, go-sql-driver/mysql.

func mysqlFixture(ctx context.Context, _ string) (*fixture, error) {
	if err := reachable(mysqlAddr); err != nil {
		return nil, fmt.Errorf("MySQL/MariaDB at %s %w", mysqlAddr, err)
	}
	db, err := sql.Open("mysql", "root@tcp("+mysqlAddr+")/")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	stmts := []string{
		"DROP DATABASE IF EXISTS " + benchSchema,
		"CREATE DATABASE " + benchSchema,
		"CREATE TABLE " + benchSchema + ".numbers (numbers INT NOT NULL PRIMARY KEY) ENGINE=InnoDB",
	}
	for lo := 0; lo < numbersRows; lo += 1000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + benchSchema + ".numbers (numbers) VALUES ")
		for n := lo; n < lo+1000; n++ {
			if n > lo {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d)", n)
		}
		stmts = append(stmts, sb.String())
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("mysql setup: %w", err)
		}
	}
	return &fixture{
		engine: "mysql", dsn: "mysql://root@" + mysqlAddr + "/" + benchSchema,
		open: func(ctx context.Context, conns int) (*driver, error) {
			return sqlDriver(ctx, "mysql", "root@tcp("+mysqlAddr+")/"+benchSchema, conns)
		},
		close: func() {
			if db, err := sql.Open("mysql", "root@tcp("+mysqlAddr+")/"); err == nil {
				db.Exec("DROP DATABASE IF EXISTS " + benchSchema)
				db.Close()
			}
		},
	}, nil
}

// sqlDriver is a database/sql pool of conns connections with the queries
// prepared.
func sqlDriver(ctx context.Context, name, dsn string, conns int) (*driver, error) {
	db, err := sql.Open(name, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	point, err := db.PrepareContext(ctx, question(pointSQL))
	if err != nil {
		db.Close()
		return nil, err
	}
	rng, err := db.PrepareContext(ctx, question(rangeSQL))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &driver{
		point: func(ctx context.Context, _, n int) error {
			var v int
			if err := point.QueryRowContext(ctx, n).Scan(&v); err != nil {
				return err
			}
			return checkPoint(v, n)
		},
		rng: func(ctx context.Context, _ int) error {
			rows, err := rng.QueryContext(ctx, rangeLo, rangeHi)
			if err != nil {
				return err
			}
			return scanRange(rows.Next, rows.Scan, rows.Err, func() { rows.Close() }, nil)
		},
		rangeAppend: func(ctx context.Context, _ int, buf []byte) ([]byte, error) {
			rows, err := rng.QueryContext(ctx, rangeLo, rangeHi)
			if err != nil {
				return nil, err
			}
			n := 0
			err = scanRange(rows.Next, rows.Scan, rows.Err, func() { rows.Close() }, func(v int) { buf = appendRow(buf, n == 0, v); n++ })
			return buf, err
		},
		close: func() {
			point.Close()
			rng.Close()
			db.Close()
		},
	}, nil
}

func checkPoint(got, want int) error {
	if got != want {
		return fmt.Errorf("point query: got %d, want %d", got, want)
	}
	return nil
}

// scanRange reads every row of the range query, as a client would, and
// passes each value to emit if it is not nil.
func scanRange(next func() bool, scan func(...any) error, rowsErr func() error, closeRows func(), emit func(int)) error {
	defer closeRows()
	n := 0
	for next() {
		var v int
		if err := scan(&v); err != nil {
			return err
		}
		if emit != nil {
			emit(v)
		}
		n++
	}
	if err := rowsErr(); err != nil {
		return err
	}
	if n != rangeRows {
		return fmt.Errorf("range query: %d rows, want %d", n, rangeRows)
	}
	return nil
}
