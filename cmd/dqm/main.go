// Command dqm is the Database Queue Manager: `dqm serve` runs a gateway
// instance; query, status, catalog check and version talk to one.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: dqm <command> [-config dqm.json] [args]
  serve                       run the gateway (embedded NATS by default)
  query <db> <ref> [params]   run a catalog query; params is JSON of typed groups
  status [db]                 print every instance's queues, read from NATS KV
  changes <db> [table]        tail change events as JSON lines
  triggers remove <db> [t…]   drop dqm's change triggers (trigger_events stays)
  catalog check [db]          load and compile catalogs (after validating the config)
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
	if len(args) > 0 && (cmd == "catalog" && args[0] == "check" || cmd == "triggers" && args[0] == "remove") {
		cmd, args = cmd+" "+args[0], args[1:]
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
	case "changes":
		return changes(ctx, cfg, fs.Args(), stdout, stderr)
	case "catalog check":
		return catalogCheck(ctx, cfg, fs.Args(), stdout, stderr)
	case "triggers remove":
		return triggersRemove(ctx, cfg, fs.Args(), stdout, stderr)
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
