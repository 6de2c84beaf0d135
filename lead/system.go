package lead

import (
	"context"
	"errors"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/triggers"
)

// The Lead's jobs reach dqm's own statements in a database only through
// these two interfaces; engineSystem is their one implementation.

// tables is dqm's tables in a database: made when missing, and the
// catalog's queries table read.
type tables interface {
	// EnsureTables creates dqm's tables if missing and runs the seed.
	EnsureTables(ctx context.Context, conn engines.Conn) error
	// ReadCatalog reads database's active entries from a queries table;
	// tier1 means the table is the database's own.
	ReadCatalog(ctx context.Context, conn engines.Conn, table, database string, tier1 bool) ([]catalog.Entry, error)
}

// changeLog is the database side of the change publisher: triggers that
// record changes in trigger_events, their wake-up, and pruning.
type changeLog interface {
	// Install creates the triggers of tables (idempotent).
	Install(ctx context.Context, conn engines.Conn, tables []string) error
	// Listen returns a channel that receives when new events are recorded,
	// or nil if the engine has no wake-up (then it is polled only).
	Listen(ctx context.Context) (<-chan struct{}, error)
	// Fetch returns up to limit undelivered events in sequence order.
	Fetch(ctx context.Context, conn engines.Conn, limit int) ([]triggers.Event, error)
	// MarkDelivered marks exactly the events seqs delivered.
	MarkDelivered(ctx context.Context, conn engines.Conn, seqs []int64) error
	// Prune deletes what dqm no longer needs: delivered events and old
	// idempotency records.
	Prune(ctx context.Context, conn engines.Conn) error
}

// engineSystem implements tables and changeLog with today's functions for
// one database and its engine.
type engineSystem struct {
	engine engines.Engine
	db     *config.Database
	seed   string // run after dqm's DDL (the demo's fixture)
}

func (s engineSystem) EnsureTables(ctx context.Context, conn engines.Conn) error {
	return ensureTables(ctx, conn, s.engine, s.db, s.seed)
}

func (s engineSystem) ReadCatalog(ctx context.Context, conn engines.Conn, table, database string, tier1 bool) ([]catalog.Entry, error) {
	return catalog.ReadTable(ctx, conn, s.engine.Style(), table, database, tier1)
}

func (s engineSystem) Install(ctx context.Context, conn engines.Conn, tables []string) error {
	return triggers.Install(ctx, conn, s.engine.Name(), tables, triggers.WithDSN(s.db.DSN.Reveal()))
}

func (s engineSystem) Listen(ctx context.Context) (<-chan struct{}, error) {
	if s.engine.Name() != triggers.Postgres {
		return nil, nil
	}
	return triggers.Listen(ctx, s.db.DSN.Reveal())
}

func (s engineSystem) Fetch(ctx context.Context, conn engines.Conn, limit int) ([]triggers.Event, error) {
	return triggers.Fetch(ctx, conn, s.engine.Name(), 0, limit)
}

func (s engineSystem) MarkDelivered(ctx context.Context, conn engines.Conn, seqs []int64) error {
	return triggers.MarkDelivered(ctx, conn, s.engine.Name(), seqs)
}

func (s engineSystem) Prune(ctx context.Context, conn engines.Conn) error {
	var errs []error
	if len(watched(s.db)) > 0 {
		errs = append(errs, triggers.Prune(ctx, conn, s.engine.Name(), deliveredKeep))
	}
	if s.db.Catalog.ManageTables {
		errs = append(errs, pruneRequests(ctx, conn, s.engine.Name()))
	}
	return errors.Join(errs...)
}

// deliveredKeep is how long delivered trigger_events are kept.
const deliveredKeep = time.Hour
