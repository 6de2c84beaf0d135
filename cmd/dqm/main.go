// Command dqm is the Database Queue Manager: `dqm serve` runs a gateway
// instance; query, status, catalog check and version talk to one.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/config"
	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/lead"
	"github.com/dqmhq/dqm/schemas"
	"github.com/dqmhq/dqm/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: dqm <command> [-config dqm.json] [args]
  serve                       run the gateway (embedded NATS by default)
  query <db> <ref> [params]   run a catalog query; params is JSON of typed groups
  status [db]                 print every instance's queues, read from NATS KV
  catalog check               validate the configuration
  version                     print the version`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole CLI; exit codes: 0 ok, 1 runtime error, 2 usage or config error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	if cmd == "catalog" && len(args) > 0 && args[0] == "check" {
		cmd, args = "catalog check", args[1:]
	}
	fs := flag.NewFlagSet("dqm "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default ./dqm.json, else built-in defaults)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "dqm", version)
		return 0
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := newLogger(cfg.Log, stderr)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stderr)
	case "query":
		return query(ctx, cfg, fs.Args(), stdout, stderr)
	case "status":
		return status(ctx, cfg, fs.Args(), stdout, stderr)
	case "catalog check":
		fmt.Fprintln(stdout, "configuration ok:", len(cfg.Databases), "databases")
		return 0
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer) int {
	s, err := server.Start(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "dqm:", err)
		return 1
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout())
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "dqm:", err)
		return 1
	}
	return 0
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
	nc, err := server.Connect(cfg.NATS, nil, "dqm query")
	if err != nil {
		fmt.Fprintln(stderr, "nats:", err)
		return 1
	}
	defer nc.Close()
	c, err := ingress.NewClient(nc, ingress.WithSource("/dqm/cli"))
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
	nc, err := server.Connect(cfg.NATS, nil, "dqm status")
	if err != nil {
		fmt.Fprintln(stderr, "nats:", err)
		return 1
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	db := ""
	if len(args) > 0 {
		db = args[0]
	}
	hbs, err := lead.ReadStatus(ctx, js, db)
	if err != nil {
		fmt.Fprintln(stderr, "status:", err)
		return 1
	}
	if err := lead.WriteStatusTable(stdout, hbs); err != nil {
		return 1
	}
	return 0
}
