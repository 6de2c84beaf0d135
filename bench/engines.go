package main

// The engines this binary links; each registers itself with engines.Register.
// DB2 is added by engines_db2.go under the db2 build tag.
import (
	_ "github.com/dqmhq/dqm/engines/mysql"
	_ "github.com/dqmhq/dqm/engines/postgres"
	_ "github.com/dqmhq/dqm/engines/sqlite"
)
