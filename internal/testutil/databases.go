package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for DirectDB
	_ "modernc.org/sqlite"             // "sqlite" for DirectDB
)

// Unique returns prefix plus random hex, for scratch schemas and databases.
func Unique(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresSchema creates a scratch schema for the test, dropped when it
// ends, and returns a DSN whose search_path is that schema.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	schema := Unique("dqmt_")
	pgExec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { pgExec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func pgExec(t testing.TB, dsn, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	Need(t, "PostgreSQL", err)
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// MySQLDatabase creates a scratch database for the test, dropped when it
// ends, and returns its mysql:// DSN.
func MySQLDatabase(t testing.TB) string {
	t.Helper()
	base := MySQLURL(t)
	name := Unique("dqmt_")
	admin := DirectDB(t, "mysql", base)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		Need(t, "MySQL/MariaDB", err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// DirectDB opens the engine's own driver through database/sql, without
// dqm, for tests that change data behind dqm's back. It closes with the
// test.
func DirectDB(t testing.TB, engine, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	switch engine {
	case "postgres":
		db, err = sql.Open("pgx", dsn)
	case "mysql":
		db, err = sql.Open("mysql", mysqlDriverDSN(t, dsn))
	case "sqlite":
		db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(5000)")
	default:
		t.Fatalf("DirectDB: unknown engine %q", engine)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mysqlDriverDSN turns mysql://user:pass@host:port/db?params into the
// driver's user:pass@tcp(host:port)/db?params.
func mysqlDriverDSN(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := gomysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	return cfg.FormatDSN()
}
