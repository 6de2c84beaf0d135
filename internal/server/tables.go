package server

import (
	"context"
	"fmt"
	"regexp"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/config"
)

// tableName is a table as the configuration names one: name or
// schema.name, plain identifiers.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// MissingTables returns the tables of a database, of those named, that
// cannot be read (they do not exist; the engine's words say why), so a
// command about them (triggers remove) can say so instead of doing
// nothing. A name that is not an identifier is an error.
func MissingTables(ctx context.Context, db *config.Database, tables []string) ([]string, error) {
	for _, t := range tables {
		if !tableName.MatchString(t) {
			return nil, fmt.Errorf("%q is not a table name (name or schema.name)", t)
		}
	}
	if len(tables) == 0 {
		return nil, nil
	}
	engine, err := engineFor(db)
	if err != nil {
		return nil, err
	}
	conn, err := engine.Open(ctx, db.DSN.Reveal(), engines.Options{StmtCacheSize: 1})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var missing []string
	for _, t := range tables {
		// An identifier checked above, never a value.
		if _, err := conn.Run(ctx, []engines.Statement{{SQL: "SELECT 1 FROM " + t + " WHERE 1 = 0"}}); err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", t, err))
		}
	}
	return missing, nil
}
