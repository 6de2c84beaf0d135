package config

import (
	"slices"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// This file is the one place that holds default values.

// Default returns the built-in configuration: an embedded NATS server and
// HTTP on 127.0.0.1:8080, with no databases (deploy/dqm.demo.json is the
// demo of make run; Demo builds the same in Go).
func Default() *Config {
	return &Config{
		NATS: NATS{
			URL:           "embedded",
			Listen:        "127.0.0.1:4250",
			StoreDir:      "./data/nats",
			ReplyPrefixes: slices.Clone(schemas.DefaultReplyPrefixes),
			Sync:          "1s",
			// A three-node cluster elects its meta leader and learns its
			// peers within seconds; a slow start still fits.
			SetupTimeoutMS: 30000,
			Replicas:       1,
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
		Auth:        Auth{LeewayS: 30},
		Log:         Log{Level: "info", Format: "text"},
		Cache:       Cache{MaxEntries: 10000, MaxBytes: 64 << 20, WatermarkMS: 1000},
		DeadLetters: DeadLetters{MaxAgeS: 7 * 24 * 3600, MaxMsgs: 100_000},
		Tracing:     Tracing{SampleRatio: 1},
		Databases:   map[string]*Database{},
	}
}

// Demo returns Default plus the demo database of make run: SQLite at
// ./data/demo.db, catalog table "queries", watching the "numbers" table.
func Demo() *Config {
	c := Default()
	demo := newDatabase("demo")
	demo.Engine = schemas.EngineSQLite
	demo.DSN = "./data/demo.db"
	demo.Triggers.Tables = []string{"numbers"}
	c.Databases["demo"] = demo
	return c
}

// newDatabase returns a database with every per-database default; engine and
// DSN have none.
func newDatabase(name string) *Database {
	qs := make(map[string]Queue, len(tags))
	for _, t := range tags {
		qs[t] = defaultQueue()
	}
	return &Database{
		Name:               name,
		Catalog:            Catalog{Table: "queries", ManageTables: true},
		IdempotentWrites:   true,
		IdempotencyWindowS: 86400,
		Queues:             qs,
		HeartbeatS:         30,
		QueueDepthLimit:    10000,
		Triggers:           Triggers{Tables: []string{}, PollMS: 1000},
		MaxDeliver:         5,
		AckWaitMS:          60000,
		DefaultTimeoutMS:   5000,
		StmtCacheSize:      128,
		ScaleDownAfterS:    30,
		LeadTTLS:           5,
		MaxRows:            10000, // catalog.DefaultMaxRows
	}
}

// DefaultDuplicateWindow is a request stream's duplicate window when
// duplicate_window_ms is 0: long enough that a publish retried until its
// deadline is queued once — 30 s (ingress.DefaultTimeout, a Go client's
// deadline when it sets none), or default_timeout_ms plus 10 s (a REST
// request's deadline is its timeout plus a grace) if that is longer.
// JetStream's own default, 2 minutes, holds four times the ids for no
// gain; a write retried later still runs once (idempotent_writes).
func DefaultDuplicateWindow(d *Database) time.Duration {
	return max(30*time.Second, ms(d.DefaultTimeoutMS)+10*time.Second)
}

// defaultQueue is used for each tag when "queues" is absent, and for a
// field missing from a queue entry.
func defaultQueue() Queue { return Queue{Min: 1, Max: 1} }
