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

// CheckCatalog loads and compiles a database's catalog with the engines
// built into this binary, creating nothing.
func CheckCatalog(ctx context.Context, db, host *config.Database) (*catalog.Catalog, error) {
	newEngine, ok := engineByName[db.Engine]
	if !ok {
		return nil, fmt.Errorf("engine %s is not built into this binary", db.Engine)
	}
	var hostEngine engines.Engine
	if host != nil {
		newHost, ok := engineByName[host.Engine]
		if !ok {
			return nil, fmt.Errorf("host engine %s is not built into this binary", host.Engine)
		}
		hostEngine = newHost()
	}
	return lead.CheckCatalog(ctx, db, newEngine(), host, hostEngine)
}

// RemoveTriggers drops dqm's change triggers from tables of a database (all
// watched tables if none are named); trigger_events stays. A running Lead
// installs them again when it next takes the lease, so remove them from
// the configuration first.
func RemoveTriggers(ctx context.Context, db *config.Database, tables []string) error {
	newEngine, ok := engineByName[db.Engine]
	if !ok {
		return fmt.Errorf("engine %s is not built into this binary", db.Engine)
	}
	if len(tables) == 0 {
		tables = append(tables, db.Triggers.Tables...)
		if db.Catalog.Table != "" {
			tables = append(tables, db.Catalog.Table)
		}
	}
	engine := newEngine()
	conn, err := engine.Open(ctx, db.DSN.Reveal(), engines.Options{StmtCacheSize: 1})
	if err != nil {
		return err
	}
	defer conn.Close()
	return triggers.Remove(ctx, conn, engine.Name(), tables, triggers.WithDSN(db.DSN.Reveal()))
}
