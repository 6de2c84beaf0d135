package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/lead"
	"github.com/dqmhq/dqm/schemas"
)

// jetStream connects to the configured NATS (an instance's embedded server
// is reached at nats.listen).
func jetStream(cfg *config.Config, name string) (jetstream.JetStream, func(), error) {
	nc, err := server.Connect(cfg.NATS, nil, name)
	if err != nil {
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, nc.Close, nil
}

// query sends one request through NATS like any service would.
func query(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "usage: dqm query <db> <ref> [params-json]")
		return 2
	}
	ref, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		fmt.Fprintln(stderr, "ref must be an integer")
		return 2
	}
	var p schemas.Params
	if len(args) > 2 {
		if err := json.Unmarshal([]byte(args[2]), &p); err != nil {
			fmt.Fprintln(stderr, "params:", err)
			return 2
		}
	}
	js, closeNC, err := jetStream(cfg, "dqm query")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeNC()
	c, err := ingress.NewClient(js.Conn(), ingress.WithSource("/dqm/cli"))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	res, qerr := c.Query(ctx, args[0], ref, p, ingress.Queue(schemas.TagMedium))
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Fprintln(stdout, string(out))
	if qerr != nil {
		return 1
	}
	return 0
}

// status prints the status table that every instance keeps in KV.
func status(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	js, closeNC, err := jetStream(cfg, "dqm status")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeNC()
	db := ""
	if len(args) > 0 {
		db = args[0]
	}
	hbs, err := lead.ReadStatus(ctx, js, db)
	if err == nil {
		err = writeStatusTable(stdout, hbs, time.Now())
	}
	if err != nil {
		fmt.Fprintln(stderr, "status:", err)
		return 1
	}
	return 0
}

// changes tails a database's change events as JSON lines until interrupted.
func changes(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprintln(stderr, "usage: dqm changes <db> [table]")
		return 2
	}
	table := ""
	if len(args) > 1 {
		table = args[1]
	}
	js, closeNC, err := jetStream(cfg, "dqm changes")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeNC()
	enc := json.NewEncoder(stdout)
	if err := ingress.Tail(ctx, js, args[0], table, "", func(c schemas.Change) error { return enc.Encode(c) }); err != nil {
		fmt.Fprintln(stderr, "changes:", err)
		return 1
	}
	return 0
}

// catalogCheck loads and compiles each database's catalog (all, or the
// one named) and prints its entries or its problems; nothing is created.
func catalogCheck(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	code := 0
	for _, name := range slices.Sorted(maps.Keys(cfg.Databases)) {
		if len(args) > 0 && args[0] != name {
			continue
		}
		db := cfg.Databases[name]
		var host *config.Database
		if db.Catalog.Host != "" {
			host = cfg.Databases[db.Catalog.Host]
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		cat, err := server.CheckCatalog(cctx, db, host)
		cancel()
		if cat != nil {
			fmt.Fprintf(stdout, "%s (%s): %d entries %v\n", name, db.Engine, cat.Len(), cat.Refs())
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			code = 1
		}
	}
	return code
}

// triggersRemove drops dqm's change triggers: dqm triggers remove <db> [table...].
func triggersRemove(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || cfg.Databases[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: dqm triggers remove <db> [table...] (db from the configuration)")
		return 2
	}
	if err := server.RemoveTriggers(ctx, cfg.Databases[args[0]], args[1:]); err != nil {
		fmt.Fprintln(stderr, "triggers:", err)
		return 1
	}
	fmt.Fprintln(stdout, "triggers removed from", args[0])
	return 0
}
