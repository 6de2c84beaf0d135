package engines_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/enginetest"
)

// exampleEngine is the skeleton of an engine a module outside dqm adds
// (package exampledb, say). Its methods say where the work goes.
type exampleEngine struct{}

// Name is the name a database's config gives as its engine.
func (exampleEngine) Name() string { return "exampledb" }

// Style is how the database's driver writes bind placeholders: dqm
// rewrites each catalog template's :NAME into it.
func (exampleEngine) Style() engines.PlaceholderStyle { return engines.Question }

// Open makes one persistent connection. Its Conn prepares statements into
// an engines.StmtCache, writes rows with an engines.RowWriter, turns the
// driver's errors into *engines.DatabaseError (engines.Classify) and stops
// a statement at its context's deadline (engines.WatchDeadline, where the
// driver cannot be given the context).
func (exampleEngine) Open(ctx context.Context, dsn string, opts engines.Options) (engines.Conn, error) {
	return nil, engines.Lost(errors.New("exampledb: a skeleton connects nowhere"))
}

// System is dqm's own statements in the database's dialect: its tables,
// the idempotency record of writes and change capture (engines.System).
func (exampleEngine) System() engines.System { return nil }

// An engine registers itself from its package's init, so that a binary
// links it by importing the package, and proves itself by passing the
// conformance suite in its own tests.
func Example() {
	// exampledb.go:
	//
	//	func init() { engines.Register("exampledb", New) }
	engines.Register("exampledb", func() engines.Engine { return exampleEngine{} })

	// exampledb_test.go:
	conformance := func(t *testing.T) {
		enginetest.Run(t, enginetest.Harness{
			Engine: exampleEngine{},
			// A fresh namespace per test (a schema, a database, a file),
			// dropped in t.Cleanup.
			DSN: func(t *testing.T) string { return "exampledb://localhost/" + t.Name() },
			Features: enginetest.Features{
				Types: map[enginetest.Type]string{
					enginetest.Integer: "BIGINT", enginetest.String: "VARCHAR(200)", enginetest.Text: "TEXT",
					enginetest.Float: "DOUBLE", enginetest.Boolean: "BOOLEAN", enginetest.Date: "DATE",
					enginetest.Time: "TIME", enginetest.Datetime: "TIMESTAMP",
				},
				Sleep: "SELECT SLEEP(2)",
			},
		})
	}
	_ = conformance
}
