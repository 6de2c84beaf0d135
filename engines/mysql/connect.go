package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// open connects, with a connector of its own for the KILL QUERY
// connections (timeout.go), and learns who the connection is.
func open(ctx context.Context, cfg *mysql.Config, opts engines.Options) (*Conn, error) {
	if cfg.ConnectionAttributes == "" && opts.ApplicationName != "" {
		// performance_schema.session_connect_attrs names who holds the
		// connection; the driver splits the list at commas and colons.
		cfg = cfg.Clone()
		cfg.ConnectionAttributes = "program_name:dqm,dqm_connection:" + strings.NewReplacer(",", " ", ":", " ").Replace(opts.ApplicationName)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	// KILL needs no session settings: one round trip less at the deadline.
	kcfg := cfg.Clone()
	kcfg.Params = nil
	kill, err := mysql.NewConnector(kcfg)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	dc, err := connector.Connect(ctx)
	if err != nil {
		return nil, openError(cfg, err)
	}
	c := &Conn{dc: dc, kill: kill, killGrace: defaultKillGrace, limit: -1}
	c.stmts = engines.NewStmtCache(opts.StmtCacheSize, func(s *stmt) { s.ds.Close() })
	if err := c.identify(ctx); err != nil {
		dc.Close()
		return nil, openError(cfg, err)
	}
	return c, nil
}

// openError classifies a failure to connect: whatever the cause (refused,
// access denied, unknown database), there is no connection to use. The
// message names the server ("connect to 127.0.0.1:3306: …").
func openError(cfg *mysql.Config, err error) error {
	e := Classify(err).(*engines.DatabaseError)
	if e.Code != schemas.CodeTimeout {
		e.Code = schemas.CodeUnavailable
	}
	cause := e.Message
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		cause = oe.Err.Error()
	}
	e.Message = "connect to " + cfg.Addr + ": " + cause
	return e
}

// identify learns the connection id (for KILL QUERY), the flavour (for the
// statement limit variable) and the server's own statement limit.
func (c *Conn) identify(ctx context.Context) error {
	row, err := c.queryRow(ctx, "SELECT CONNECTION_ID(), VERSION()")
	if err != nil {
		return err
	}
	if c.id, err = strconv.ParseUint(row[0], 10, 64); err != nil {
		return fmt.Errorf("connection id %q: %w", row[0], err)
	}
	c.mariadb = strings.Contains(row[1], "MariaDB")
	q := "SELECT @@SESSION.max_execution_time / 1000"
	if c.mariadb {
		q = "SELECT @@SESSION.max_statement_time"
	}
	if row, err = c.queryRow(ctx, q); err != nil {
		return err
	}
	secs, err := strconv.ParseFloat(row[0], 64)
	if err != nil {
		return fmt.Errorf("statement limit %q: %w", row[0], err)
	}
	c.base = time.Duration(secs * float64(time.Second))
	c.limit = c.base
	return nil
}

// ID is the server's id for this connection (CONNECTION_ID()), the one
// KILL takes.
func (c *Conn) ID() uint64 { return c.id }

// MariaDB reports whether the server is MariaDB rather than MySQL.
func (c *Conn) MariaDB() bool { return c.mariadb }
