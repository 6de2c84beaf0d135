package config

import (
	"slices"

	"github.com/dqmhq/dqm/schemas"
)

// This file is the one place that holds default values.

// Default returns the built-in configuration: an embedded NATS server, HTTP
// on 127.0.0.1:8080 and a "demo" sqlite database at ./data/demo.db whose
// catalog table is "queries" and which watches the "numbers" table.
func Default() *Config {
	demo := newDatabase("demo")
	demo.Engine = schemas.EngineSQLite
	demo.DSN = "./data/demo.db"
	demo.Triggers.Tables = []string{"numbers"}
	return &Config{
		NATS: NATS{
			URL:           "embedded",
			Listen:        "127.0.0.1:4250",
			StoreDir:      "./data/nats",
			ReplyPrefixes: slices.Clone(schemas.DefaultReplyPrefixes),
		},
		HTTP: HTTP{
			Listen:               "127.0.0.1:8080",
			MaxBodyBytes:         1 << 20,
			MaxQueriesPerRequest: 10,
			ShutdownTimeoutMS:    10000,
			MaxResponseBytes:     16 << 20,
			ReadTimeoutMS:        30000,
			ReadHeaderTimeoutMS:  10000,
			WriteTimeoutMS:       120000,
			IdleTimeoutMS:        120000,
			MaxHeaderBytes:       64 << 10,
			MaxInFlight:          1024,
		},
		Auth:      Auth{LeewayS: 30},
		Log:       Log{Level: "info", Format: "text"},
		Cache:     Cache{MaxEntries: 10000, MaxBytes: 64 << 20},
		Databases: map[string]*Database{"demo": demo},
	}
}

// newDatabase returns a database with every per-database default; engine and
// DSN have none.
func newDatabase(name string) *Database {
	qs := make(map[string]Queue, len(tags))
	for _, t := range tags {
		qs[t] = defaultQueue()
	}
	return &Database{
		Name:             name,
		Catalog:          Catalog{Table: "queries", ManageTables: true},
		IdempotentWrites: true,
		Queues:           qs,
		HeartbeatS:       30,
		QueueDepthLimit:  10000,
		Triggers:         Triggers{Tables: []string{}, PollMS: 1000},
		MaxDeliver:       5,
		AckWaitMS:        60000,
		DefaultTimeoutMS: 5000,
		StmtCacheSize:    128,
		ScaleDownAfterS:  30,
		LeadTTLS:         5,
	}
}

// defaultQueue is used for each tag when "queues" is absent, and for a
// field missing from a queue entry.
func defaultQueue() Queue { return Queue{Min: 1, Max: 1} }
