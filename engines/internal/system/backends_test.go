package system_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/mysql"
	"github.com/dqmhq/dqm/engines/postgres"
	"github.com/dqmhq/dqm/engines/sqlite"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// backend is one engine under test: a namespace of its own per test, a
// dqm connection to it, and a direct driver connection that makes changes
// the way an application would, not through dqm.
type backend struct {
	name   string // subtest name
	engine string
	new    func() engines.Engine
	// setup makes a fresh namespace, removed in t.Cleanup, and returns
	// its DSN in dqm's form and a way to open direct connections to it.
	setup func(t *testing.T) (dsn string, connect func(*testing.T) client)
	// opts is the DSN given to InstallTriggers and RemoveTriggers.
	opts func(dsn string) string
	// items creates the watched table.
	items string
}

// client is a direct driver connection.
type client interface {
	Exec(ctx context.Context, sql string, args ...any) error
	// Scan reads the one value of a one-row query into dest.
	Scan(ctx context.Context, sql string, dest any) error
}

// open sets up a namespace and returns a dqm connection to it, its DSN and
// a direct connection; connect opens more direct connections.
func (b backend) open(t *testing.T) (conn engines.Conn, dsn string, direct client, connect func(*testing.T) client) {
	t.Helper()
	dsn, connect = b.setup(t)
	e := b.new()
	conn, err := e.Open(context.Background(), dsn, engines.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", b.engine, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, dsn, connect(t), connect
}

// p is the engine's n-th placeholder for the direct connection.
func (b backend) p(n int) string {
	if b.engine == schemas.EnginePostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

func (b backend) install(t *testing.T, ctx context.Context, conn engines.Conn, dsn string, tables ...string) {
	t.Helper()
	if err := b.sys().InstallTriggers(ctx, conn, b.opts(dsn), tables); err != nil {
		t.Fatalf("Install: %v", err)
	}
}

// sys is the engine's System.
func (b backend) sys() engines.System { return b.new().System() }

func withDSN(dsn string) string { return dsn }
func noOptions(string) string   { return "" }

var backends = []backend{
	{name: "postgres", engine: schemas.EnginePostgres, new: postgres.New, setup: pgSetup, opts: noOptions,
		items: "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INTEGER, tag BYTEA)"},
	{name: "mysql", engine: schemas.EngineMySQL, new: mysql.New, setup: mysqlSetup, opts: withDSN,
		items: "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT, tag VARBINARY(16))"},
	// MariaDB 10.6+ prepares CREATE TRIGGER, so Install works through the
	// engine's connection alone.
	{name: "mysql-prepared", engine: schemas.EngineMySQL, new: mysql.New, setup: mysqlSetup, opts: noOptions,
		items: "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT, tag VARBINARY(16))"},
	{name: "sqlite", engine: schemas.EngineSQLite, new: sqlite.New, setup: sqliteSetup, opts: noOptions,
		items: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, tag BLOB)"},
}

func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// pgSetup makes a schema of its own and puts it first on the search path.
func pgSetup(t *testing.T) (string, func(*testing.T) client) {
	t.Helper()
	base := testutil.PostgresURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	testutil.Need(t, "PostgreSQL", err)
	schema := uniqueName("dqmt_trg_")
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	return dsn, func(t *testing.T) client {
		t.Helper()
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return pgClient{c}
	}
}

type pgClient struct{ c *pgx.Conn }

func (p pgClient) Exec(ctx context.Context, q string, args ...any) error {
	_, err := p.c.Exec(ctx, q, args...)
	return err
}

func (p pgClient) Scan(ctx context.Context, q string, dest any) error {
	return p.c.QueryRow(ctx, q).Scan(dest)
}

// sqlClient is one pinned database/sql connection.
type sqlClient struct{ c *sql.Conn }

func (s sqlClient) Exec(ctx context.Context, q string, args ...any) error {
	_, err := s.c.ExecContext(ctx, q, args...)
	return err
}

func (s sqlClient) Scan(ctx context.Context, q string, dest any) error {
	return s.c.QueryRowContext(ctx, q).Scan(dest)
}

func pin(t *testing.T, db *sql.DB) client {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return sqlClient{c}
}

// mysqlSetup makes a database of its own.
func mysqlSetup(t *testing.T) (string, func(*testing.T) client) {
	t.Helper()
	base := testutil.MySQLURL(t)
	admin := mysqlDB(t, base)
	db := uniqueName("dqmt_trg_")
	if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
		testutil.Need(t, "MySQL/MariaDB", err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + db) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	dsn := u.String()
	direct := mysqlDB(t, dsn)
	return dsn, func(t *testing.T) client { return pin(t, direct) }
}

func mysqlDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteSetup makes a database file of its own.
func sqliteSetup(t *testing.T) (string, func(*testing.T) client) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "triggers.db")
	direct, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	return path, func(t *testing.T) client { return pin(t, direct) }
}
