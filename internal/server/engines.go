package server

import (
	"context"
	"fmt"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/lead"
)

// engineFor returns a new engine for db from the registry, or an error
// naming the key when the binary does not link its engine (db2 without
// -tags db2). The binary links engines by import (cmd/dqm/engines.go).
func engineFor(db *config.Database) (engines.Engine, error) {
	e, err := engines.New(db.Engine)
	if err != nil {
		return nil, fmt.Errorf("databases.%s.engine: %w", db.Name, err)
	}
	return e, nil
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
	return engine.System().RemoveTriggers(ctx, conn, db.DSN.Reveal(), tables)
}
