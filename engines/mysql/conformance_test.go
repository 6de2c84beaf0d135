package mysql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/enginetest"
	"github.com/dqmhq/dqm/engines/mysql"
	"github.com/dqmhq/dqm/internal/testutil"
)

func TestConformance(t *testing.T) {
	base := testutil.MySQLURL(t)
	admin := openAdmin(t, base)
	types := map[enginetest.Type]string{
		enginetest.Integer: "BIGINT",
		enginetest.Numeric: "DECIMAL(38,9)",
		enginetest.Float:   "DOUBLE",
		enginetest.Float4:  "FLOAT",
		enginetest.Boolean: "BOOLEAN", // TINYINT(1), read as true/false
		enginetest.Date:    "DATE",
		enginetest.Time:    "TIME",
		// Microseconds: DATETIME alone rounds to whole seconds.
		enginetest.Datetime: "DATETIME(6)",
		enginetest.Text:     "LONGTEXT",
		enginetest.String:   "VARCHAR(200)",
		enginetest.Bytes:    "LONGBLOB",
		enginetest.JSON:     "JSON", // MariaDB: LONGTEXT COLLATE utf8mb4_bin, embedded all the same
	}
	if !admin.MariaDB() {
		// MySQL 8.0.19+ takes an offset in a datetime literal and TIMESTAMP
		// stores the instant; MariaDB refuses the offset, so it has no
		// column for the logical type.
		types[enginetest.TimestampTZ] = "TIMESTAMP(6) NULL"
	}
	enginetest.Run(t, enginetest.Harness{
		Engine: mysql.New(),
		DSN: func(t *testing.T) string {
			return testDatabase(t, admin, base)
		},
		Features: enginetest.Features{
			Types: types,
			// MySQL casts to few types; BOOLEAN is none of them (a bound
			// bool in a select list reads 1), so it is not checked there.
			Casts: map[enginetest.Type]string{
				enginetest.Integer:  "SIGNED",
				enginetest.Float:    "DOUBLE",
				enginetest.String:   "CHAR",
				enginetest.Text:     "CHAR",
				enginetest.Date:     "DATE",
				enginetest.Time:     "TIME",
				enginetest.Datetime: "DATETIME(6)",
			},
			// SELECT 1/0 is NULL with a warning even in strict mode; a
			// write of 1/0 fails (ERROR_FOR_DIVISION_BY_ZERO, set at
			// connect), see TestErrors.
			DivisionByZeroIsNull: true,
			// LIMIT 0 over SELECT SLEEP(2) as a derived table still sleeps.
			DescribeRuns:   true,
			Sleep:          "SELECT SLEEP(2) AS slept",
			UnreachableDSN: "mysql://root@127.0.0.1:1/test",
			Kill: func(ctx context.Context, _ string, conn engines.Conn) error {
				return kill(ctx, admin, conn.(*mysql.Conn).ID())
			},
		},
	})
}

func openAdmin(t *testing.T, dsn string) *mysql.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mysql.New().Open(ctx, dsn, engines.Options{})
	testutil.Need(t, "MySQL/MariaDB", err)
	t.Cleanup(func() { c.Close() })
	return c.(*mysql.Conn)
}

// testDatabase creates dqmt_<test-unique> for one subtest and drops it
// after. The admin connection is shared by parallel subtests, so runs on
// it are serialized.
func testDatabase(t *testing.T, admin *mysql.Conn, base string) string {
	t.Helper()
	name := fmt.Sprintf("dqmt_%016x", rand.Uint64())
	adminRun(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { adminRun(t, admin, "DROP DATABASE "+name) })
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

var adminMu = make(chan struct{}, 1)

func adminRun(t *testing.T, admin *mysql.Conn, sql string) {
	t.Helper()
	adminMu <- struct{}{}
	defer func() { <-adminMu }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.Run(ctx, []engines.Statement{{SQL: sql}}); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// kill ends connection id from outside and waits until the server no
// longer lists it.
func kill(ctx context.Context, admin *mysql.Conn, id uint64) error {
	adminMu <- struct{}{}
	defer func() { <-adminMu }()
	if _, err := admin.Run(ctx, []engines.Statement{{SQL: fmt.Sprintf("KILL %d", id)}}); err != nil {
		return err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := admin.Run(ctx, []engines.Statement{{SQL: "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?", Args: []any{id}}})
		if err != nil {
			return err
		}
		if string(res.Rows) == `[{"n":0}]` {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
