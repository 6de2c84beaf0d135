package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/dqmhq/dqm/engines/enginetest"
	"github.com/dqmhq/dqm/engines/sqlite"
)

func TestConformance(t *testing.T) {
	enginetest.Run(t, enginetest.Harness{
		Engine: sqlite.New(),
		DSN:    func(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") },
		Features: enginetest.Features{
			// SQLite has storage classes, not types: the declared type is
			// what the engine maps by. There is no exact decimal (NUMERIC
			// affinity turns 12345678901234567890.123456789 into a REAL), so
			// Numeric is not checked; FLOAT is an 8-byte REAL like any other.
			Types: map[enginetest.Type]string{
				enginetest.Integer:     "INTEGER",
				enginetest.Float:       "REAL",
				enginetest.Float4:      "FLOAT",
				enginetest.Boolean:     "BOOLEAN",
				enginetest.Date:        "DATE",
				enginetest.Time:        "TIME",
				enginetest.Datetime:    "DATETIME",
				enginetest.TimestampTZ: "TIMESTAMP",
				enginetest.Text:        "TEXT",
				enginetest.String:      "VARCHAR(200)",
				enginetest.Bytes:       "BLOB",
				enginetest.JSON:        "JSON",
			},
			// An expression has no declared type, so only the types whose
			// storage class reads back as themselves are checked in select
			// lists (a date or time is its text).
			Casts: map[enginetest.Type]string{
				enginetest.Integer: "INTEGER",
				enginetest.Float:   "REAL",
				enginetest.String:  "TEXT",
				enginetest.Text:    "TEXT",
				enginetest.Date:    "TEXT",
				enginetest.Time:    "TEXT",
			},
			DivisionByZeroIsNull: true,
			Sleep:                "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT count(*) AS n FROM r",
			UnreachableDSN:       "/nonexistent-dqm-dir/test.db",
			// Kill is nil: the database is a file opened in this process,
			// there is no server to lose.
		},
	})
}
