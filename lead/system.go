package lead

import (
	"context"
	"errors"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
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
	Fetch(ctx context.Context, conn engines.Conn, limit int) ([]engines.Event, error)
	// MarkDelivered marks exactly the events seqs delivered.
	MarkDelivered(ctx context.Context, conn engines.Conn, seqs []int64) error
	// Prune deletes what dqm no longer needs: delivered events and old
	// idempotency records.
	Prune(ctx context.Context, conn engines.Conn) error
}

// engineSystem implements tables and changeLog with the engine's own
// statements (engines.System) for one database.
type engineSystem struct {
	engine engines.Engine
	db     *config.Database
	seed   string // run after dqm's DDL (the demo's fixture)
}

// EnsureTables creates dqm's tables if missing (catalog.manage_tables) and
// runs the seed. A read-only user cannot: that is logged, and a table
// someone else created is still read.
func (s engineSystem) EnsureTables(ctx context.Context, conn engines.Conn) error {
	if !s.db.Catalog.ManageTables || s.db.Catalog.Table == "" {
		return nil // the operator creates the tables
	}
	return s.engine.System().Setup(ctx, conn, s.db.Catalog.Table, s.seed)
}

func (s engineSystem) ReadCatalog(ctx context.Context, conn engines.Conn, table, database string, tier1 bool) ([]catalog.Entry, error) {
	rows, err := s.engine.System().ReadCatalog(ctx, conn, table, database, tier1)
	return catalog.Entries(rows), err
}

func (s engineSystem) Install(ctx context.Context, conn engines.Conn, tables []string) error {
	return s.engine.System().InstallTriggers(ctx, conn, s.db.DSN.Reveal(), tables)
}

func (s engineSystem) Listen(ctx context.Context) (<-chan struct{}, error) {
	return s.engine.System().Wake(ctx, s.db.DSN.Reveal())
}

func (s engineSystem) Fetch(ctx context.Context, conn engines.Conn, limit int) ([]engines.Event, error) {
	return s.engine.System().FetchEvents(ctx, conn, 0, limit)
}

func (s engineSystem) MarkDelivered(ctx context.Context, conn engines.Conn, seqs []int64) error {
	return s.engine.System().MarkDelivered(ctx, conn, seqs)
}

func (s engineSystem) Prune(ctx context.Context, conn engines.Conn) error {
	var errs []error
	if len(watched(s.db)) > 0 {
		errs = append(errs, s.engine.System().PruneEvents(ctx, conn, deliveredKeep))
	}
	if s.db.Catalog.ManageTables {
		errs = append(errs, s.engine.System().PruneRequests(ctx, conn, s.db.IdempotencyWindow()))
	}
	return errors.Join(errs...)
}

// deliveredKeep is how long delivered trigger_events are kept.
const deliveredKeep = time.Hour
