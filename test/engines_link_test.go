package test

// The server's tests run the engines a binary links (cmd/dqm/engines.go).
import (
	_ "github.com/dqmhq/dqm/engines/mysql"
	_ "github.com/dqmhq/dqm/engines/postgres"
	_ "github.com/dqmhq/dqm/engines/sqlite"
)
