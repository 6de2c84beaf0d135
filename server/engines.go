package server

import (
	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/mysql"
	"github.com/dqmhq/dqm/engines/postgres"
	"github.com/dqmhq/dqm/engines/sqlite"
)

// engineByName maps the config's engine names to engines. Files with build
// tags add to it (db2).
var engineByName = map[string]func() engines.Engine{
	"mysql":    mysql.New,
	"postgres": postgres.New,
	"sqlite":   sqlite.New,
}
