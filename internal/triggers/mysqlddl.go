package triggers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/mysql"
)

// ddlFunc runs one MySQL DDL statement without arguments.
type ddlFunc func(ctx context.Context, sql string) error

// erUnsupportedPS is MySQL's "This command is not supported in the
// prepared statement protocol yet".
const erUnsupportedPS = 1295

// withDDL calls f with the way trigger DDL runs: over a text-protocol
// connection of its own when a DSN was given, else through conn.
func withDDL(ctx context.Context, conn engines.Conn, opts []Option, f func(ddlFunc) error) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.dsn == "" {
		return f(func(ctx context.Context, q string) error {
			err := run(ctx, conn, q)
			var me *gomysql.MySQLError
			if errors.As(err, &me) && me.Number == erUnsupportedPS {
				return fmt.Errorf("%w (this server cannot prepare trigger DDL: give Install and Remove triggers.WithDSN)", err)
			}
			return err
		})
	}
	cfg, err := mysql.ParseDSN(o.dsn)
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
		return mysql.Classify(err)
	})
}
