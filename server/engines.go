package server

import (
	"context"
	"fmt"

	"github.com/dqmhq/dqm/catalog"
	"github.com/dqmhq/dqm/config"
	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/mysql"
	"github.com/dqmhq/dqm/engines/postgres"
	"github.com/dqmhq/dqm/engines/sqlite"
	"github.com/dqmhq/dqm/lead"
	"github.com/dqmhq/dqm/triggers"
)

// engineByName maps the config's engine names to engines. Files with build
// tags add to it (db2).
var engineByName = map[string]func() engines.Engine{
	"mysql":    mysql.New,
	"postgres": postgres.New,
	"sqlite":   sqlite.New,
}

// engineFor returns a new engine for db, or an error naming the key when
// its engine is not built into this binary (db2 without -tags db2).
func engineFor(db *config.Database) (engines.Engine, error) {
	newEngine, ok := engineByName[db.Engine]
	if !ok {
		return nil, fmt.Errorf("databases.%s.engine: %s is not built into this binary", db.Name, db.Engine)
	}
	return newEngine(), nil
}

// CheckCatalog loads and compiles a database's catalog with the engines
// built into this binary, creating nothing.
func CheckCatalog(ctx context.Context, db, host *config.Database) (*catalog.Catalog, error) {
	engine, err := engineFor(db)
	if err != nil {
		return nil, err
	}
	var hostEngine engines.Engine
	if host != nil {
		if hostEngine, err = engineFor(host); err != nil {
			return nil, err
		}
	}
	return lead.CheckCatalog(ctx, db, engine, host, hostEngine)
}

// RemoveTriggers drops dqm's change triggers from tables of a database (all
// watched tables if none are named); trigger_events stays. A running Lead
// installs them again when it next takes the lease, so remove them from
// the configuration first.
func RemoveTriggers(ctx context.Context, db *config.Database, tables []string) error {
	engine, err := engineFor(db)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		tables = append(tables, db.Triggers.Tables...)
		if db.Catalog.Table != "" {
			tables = append(tables, db.Catalog.Table)
		}
	}
	conn, err := engine.Open(ctx, db.DSN.Reveal(), engines.Options{StmtCacheSize: 1})
	if err != nil {
		return err
	}
	defer conn.Close()
	return triggers.Remove(ctx, conn, engine.Name(), tables, triggers.WithDSN(db.DSN.Reveal()))
}
