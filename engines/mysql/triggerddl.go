package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/internal/system"
)

// ddlFunc runs one DDL statement without arguments.
type ddlFunc func(ctx context.Context, sql string) error

// erUnsupportedPS is MySQL's "This command is not supported in the
// prepared statement protocol yet".
const erUnsupportedPS = 1295

// withDDL calls f with the way trigger DDL runs. MySQL runs CREATE TRIGGER
// and DROP TRIGGER only outside the prepared-statement protocol (error
// 1295), while Conn prepares everything it runs: given the database's DSN,
// the DDL runs on a short-lived connection of its own, on the text
// protocol. Without one it goes through conn, which MariaDB 10.6+ accepts
// and MySQL refuses.
func withDDL(ctx context.Context, conn engines.Conn, dsn string, f func(ddlFunc) error) error {
	if dsn == "" {
		return f(func(ctx context.Context, q string) error {
			err := system.Exec(ctx, conn, q)
			var me *gomysql.MySQLError
			if errors.As(err, &me) && me.Number == erUnsupportedPS {
				return fmt.Errorf("%w (this server cannot prepare trigger DDL: give InstallTriggers and RemoveTriggers the DSN)", err)
			}
			return err
		})
	}
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return err
	}
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("mysql dsn: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	return f(func(ctx context.Context, q string) error {
		// Without arguments the driver sends the statement as text
		// (COM_QUERY) instead of preparing it.
		_, err := db.ExecContext(ctx, q)
		return Classify(err)
	})
}
