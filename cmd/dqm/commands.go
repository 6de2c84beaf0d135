package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/lead"
	"github.com/dqmhq/dqm/schemas"
)

// jetStream connects to the configured NATS (an instance's embedded server
// is reached at nats.listen); its error says where it tried and what sets
// that.
func jetStream(e *env, name string) (jetstream.JetStream, func(), error) {
	nc, err := server.Connect(e.cfg.NATS, nil, name)
	if err != nil {
		return nil, nil, errors.New(natsError(e.cfg, e.cfgPath, err))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, nc.Close, nil
}

// configuredDatabase checks a database argument against the configuration
// when it lists databases (exit 2 naming the problem); with none listed,
// the check waits for knownDatabase.
func configuredDatabase(e *env, db string) int {
	if len(e.cfg.Databases) > 0 && e.cfg.Databases[db] == nil {
		fmt.Fprintf(e.stderr, "dqm: no database %q in the configuration (have %s)\n", db,
			strings.Join(slices.Sorted(maps.Keys(e.cfg.Databases)), ", "))
		return exitUsage
	}
	return exitOK
}

// knownDatabase checks a database argument against the configuration, or,
// when it lists none (a CLI config naming only NATS), against the
// instances that report to KV dqm_status (exit 1: nothing serves it).
func knownDatabase(ctx context.Context, e *env, js jetstream.JetStream, db string) int {
	if len(e.cfg.Databases) > 0 {
		return configuredDatabase(e, db)
	}
	hbs, err := lead.ReadStatus(ctx, js, db)
	if err != nil {
		fmt.Fprintln(e.stderr, "dqm:", err)
		return exitRuntime
	}
	if len(hbs) == 0 {
		fmt.Fprintf(e.stderr, "dqm: no running instance serves database %q\n", db)
		return exitRuntime
	}
	return exitOK
}

// queryOptions are dqm query's flags.
type queryOptions struct {
	queue   *string
	timeout *time.Duration
	output  *string
}

func queryFlags(fs *flag.FlagSet) any {
	return &queryOptions{
		queue:   fs.String("queue", "", "queue tag: slow, medium, fast or cache (default: the entry's queue, from KV dqm_catalog)"),
		timeout: fs.Duration("timeout", client.DefaultTimeout, "how long to wait for the reply"),
		output:  fs.String("o", "json", "output: json (the reply body) or table (the rows)"),
	}
}

// queryCmd sends one request through NATS like any service would.
func queryCmd(ctx context.Context, e *env, flags any, args []string) int {
	o := flags.(*queryOptions)
	if len(args) < 2 || len(args) > 3 {
		fmt.Fprintln(e.stderr, "usage: dqm query <db> <ref> [params-json] [-queue tag] [-timeout 5s] [-o json|table]")
		return exitUsage
	}
	db := args[0]
	ref, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		fmt.Fprintf(e.stderr, "dqm query: ref %q must be an integer\n", args[1])
		return exitUsage
	}
	var p schemas.Params
	if len(args) > 2 {
		if err := json.Unmarshal([]byte(args[2]), &p); err != nil {
			fmt.Fprintln(e.stderr, `dqm query: params must be a JSON object of typed groups, e.g. {"INTEGER":{"N":5}}`)
			return exitUsage
		}
	}
	if *o.queue != "" && !schemas.IsTag(*o.queue) {
		fmt.Fprintf(e.stderr, "dqm query: -queue %q: want slow, medium, fast or cache\n", *o.queue)
		return exitUsage
	}
	if *o.output != "json" && *o.output != "table" {
		fmt.Fprintf(e.stderr, "dqm query: -o %q: want json or table\n", *o.output)
		return exitUsage
	}
	if *o.timeout <= 0 {
		fmt.Fprintln(e.stderr, "dqm query: -timeout must be positive")
		return exitUsage
	}
	if code := configuredDatabase(e, db); code != exitOK {
		return code
	}
	js, closeNC, err := jetStream(e, "dqm query")
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitRuntime
	}
	defer closeNC()
	if code := knownDatabase(ctx, e, js, db); code != exitOK {
		return code
	}
	tag := *o.queue
	if tag == "" {
		tag = entryQueue(ctx, js, db, ref)
	}
	c, err := client.New(js.Conn(), client.WithSource("/dqm/cli"))
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitRuntime
	}
	defer c.Close()
	qctx, cancel := context.WithTimeout(ctx, *o.timeout)
	defer cancel()
	res, qerr := c.Query(qctx, db, ref, p, client.Queue(tag))
	if *o.output == "table" && res != nil && res.Success {
		if err := writeRowsTable(e.stdout, res.Rows); err != nil {
			fmt.Fprintln(e.stderr, "dqm query:", err)
			return exitRuntime
		}
	} else {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(e.stdout, string(out))
	}
	if qerr != nil {
		return exitRuntime
	}
	return exitOK
}

// entryQueue is the queue the catalog gives ref, read from KV dqm_catalog;
// medium when the entry is not published (the worker then answers
// query_not_found for an unknown ref).
func entryQueue(ctx context.Context, js jetstream.JetStream, db string, ref int64) string {
	kv, err := js.KeyValue(ctx, schemas.BucketCatalog)
	if err != nil {
		return schemas.TagMedium
	}
	entry, err := kv.Get(ctx, db+"."+strconv.FormatInt(ref, 10))
	if err != nil {
		return schemas.TagMedium
	}
	var e struct {
		Queue string `json:"queue"`
	}
	if json.Unmarshal(entry.Value(), &e) != nil || !schemas.IsTag(e.Queue) {
		return schemas.TagMedium
	}
	return e.Queue
}

func statusFlags(fs *flag.FlagSet) any {
	return fs.String("o", "table", "output: table, or json (every instance's status as KV holds it)")
}

// statusCmd prints the status table that every instance keeps in KV.
func statusCmd(ctx context.Context, e *env, flags any, args []string) int {
	output := *flags.(*string)
	if len(args) > 1 {
		fmt.Fprintln(e.stderr, "usage: dqm status [db] [-o table|json]")
		return exitUsage
	}
	if output != "table" && output != "json" {
		fmt.Fprintf(e.stderr, "dqm status: -o %q: want table or json\n", output)
		return exitUsage
	}
	if len(args) > 0 {
		if code := configuredDatabase(e, args[0]); code != exitOK {
			return code
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	js, closeNC, err := jetStream(e, "dqm status")
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitRuntime
	}
	defer closeNC()
	db := ""
	if len(args) > 0 {
		db = args[0]
		if code := knownDatabase(ctx, e, js, db); code != exitOK {
			return code
		}
	}
	hbs, err := lead.ReadStatus(ctx, js, db)
	switch {
	case err != nil:
	case output == "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if hbs == nil {
			hbs = []schemas.Heartbeat{}
		}
		err = enc.Encode(hbs)
	default:
		err = writeStatusTable(e.stdout, hbs, time.Now())
	}
	if err == nil {
		rs, warning := readReplication(ctx, js, statusDatabases(db, slices.Collect(maps.Keys(e.cfg.Databases)), hbs))
		fmt.Fprintln(e.stdout)
		err = writeReplicationTable(e.stdout, rs, warning)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "dqm status:", err)
		return exitRuntime
	}
	return exitOK
}

// changesCmd tails a database's change events as JSON lines until interrupted.
func changesCmd(ctx context.Context, e *env, _ any, args []string) int {
	if len(args) < 1 || len(args) > 2 {
		fmt.Fprintln(e.stderr, "usage: dqm changes <db> [table]")
		return exitUsage
	}
	table := ""
	if len(args) > 1 {
		table = args[1]
	}
	if code := configuredDatabase(e, args[0]); code != exitOK {
		return code
	}
	js, closeNC, err := jetStream(e, "dqm changes")
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitRuntime
	}
	defer closeNC()
	if code := knownDatabase(ctx, e, js, args[0]); code != exitOK {
		return code
	}
	enc := json.NewEncoder(e.stdout)
	err = client.Tail(ctx, js, args[0], table, "", func(c schemas.Change) error { return enc.Encode(c) })
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "dqm changes:", err)
		return exitRuntime
	}
	return exitOK
}

// catalogCheckCmd loads and compiles each database's catalog (all, or the
// one named) and prints its entries or its problems; nothing is created.
func catalogCheckCmd(ctx context.Context, e *env, _ any, args []string) int {
	cfg := e.cfg
	if len(args) > 1 {
		fmt.Fprintln(e.stderr, "usage: dqm catalog check [db]")
		return exitUsage
	}
	if len(args) == 1 && cfg.Databases[args[0]] == nil {
		fmt.Fprintf(e.stderr, "dqm: no database %q in the configuration\n", args[0])
		return exitUsage
	}
	if len(cfg.Databases) == 0 {
		fmt.Fprintf(e.stderr, "dqm catalog check: no databases in %s: give -config FILE (the demo's is deploy/dqm.demo.json)\n", configName(e.cfgPath))
		return exitUsage
	}
	code := exitOK
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
			fmt.Fprintf(e.stdout, "%s (%s): %d entries %v\n", name, db.Engine, cat.Len(), cat.Refs())
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
			code = exitRuntime
		}
	}
	return code
}

// triggersRemoveCmd drops dqm's change triggers: dqm triggers remove <db> [table...].
func triggersRemoveCmd(ctx context.Context, e *env, _ any, args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(e.stderr, "usage: dqm triggers remove <db> [table...]")
		return exitUsage
	}
	db := e.cfg.Databases[args[0]]
	if db == nil {
		fmt.Fprintf(e.stderr, "dqm: no database %q in the configuration\n", args[0])
		return exitUsage
	}
	missing, err := server.MissingTables(ctx, db, args[1:])
	if err == nil && len(missing) > 0 {
		for _, m := range missing {
			fmt.Fprintf(e.stderr, "dqm triggers: no table %s in database %s\n", printable(m), args[0])
		}
		return exitRuntime
	}
	if err == nil {
		err = server.RemoveTriggers(ctx, db, args[1:])
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "dqm triggers:", err)
		return exitRuntime
	}
	fmt.Fprintln(e.stdout, "triggers removed from", args[0])
	return exitOK
}
