// Command dqm is the Database Queue Manager: `dqm serve` runs a gateway
// instance; query, status, changes, catalog check, triggers remove and
// version talk to one. Flags may come before or after the arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// command is one subcommand: its usage, its own flags, and what it runs.
type command struct {
	name    string // "catalog check"
	args    string // "<db> [table]"
	summary string
	// flags adds the command's own flags to fs; -config is added to all.
	flags func(fs *flag.FlagSet) any
	// run gets the loaded config, its flags' values and the positional
	// arguments.
	run func(ctx context.Context, e *env, flags any, args []string) int
	// noConfig commands run without loading the configuration.
	noConfig bool
}

// env is what every command gets.
type env struct {
	cfg            *config.Config
	cfgPath        string // -config as given ("": the default path)
	log            *slog.Logger
	stdout, stderr io.Writer
}

func commands() []*command {
	return []*command{
		{name: "serve", summary: "run the gateway (embedded NATS by default)", run: serveCmd},
		{name: "query", args: "<db> <ref> [params-json]", summary: "run a catalog query through NATS, as a service would",
			flags: queryFlags, run: queryCmd},
		{name: "status", args: "[db]", summary: "print every instance's queues, read from NATS KV", flags: statusFlags, run: statusCmd},
		{name: "changes", args: "<db> [table]", summary: "tail change events as JSON lines", run: changesCmd},
		{name: "catalog check", args: "[db]", summary: "load and compile catalogs; report every problem", run: catalogCheckCmd},
		{name: "triggers remove", args: "<db> [table...]", summary: "drop dqm's change triggers (trigger_events stays)", run: triggersRemoveCmd},
		{name: "dlq ls", args: "<db>", summary: "list a database's dead letters (stream DQM_DLQ)", run: dlqCmd("ls")},
		{name: "dlq replay", args: "<db> [request-id...]", summary: "republish dead letters (all, or those named) with their original ce-id", run: dlqCmd("replay")},
		{name: "dlq purge", args: "<db>", summary: "delete a database's dead letters", run: dlqCmd("purge")},
		{name: "completion", args: "bash|zsh", summary: "print a shell completion script", run: completionCmd, noConfig: true},
		{name: "version", summary: "print the version", run: versionCmd, noConfig: true},
		{name: "help", args: "[command]", summary: "show help for dqm or a command", run: nil, noConfig: true},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: dqm <command> [args] [-config dqm.json]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-34s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes -config (default ./dqm.json). Run `dqm help <command>` for its flags; dqm --version prints the version.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.")
}

// find resolves a command from the first one or two arguments.
func find(args []string) (*command, []string, bool) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):], true
		}
	}
	return nil, args, false
}

// run is the whole CLI; exit codes: 0 ok, 1 runtime error, 2 usage or config error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if code, done := helpOrVersion(ctx, args, stdout, stderr); done {
		return code
	}
	c, rest, ok := find(args)
	if !ok {
		return notACommand(args, stdout, stderr)
	}
	fs, values := newFlagSet(c, stderr)
	// The flag package prints the usage itself on -h and on a bad flag;
	// it is printed here instead, once, on stdout for -h.
	printUsage := fs.Usage
	fs.Usage = func() {}
	pos, err := parseInterspersed(fs, rest)
	fs.Usage = printUsage
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	if err != nil {
		fs.Usage()
		return exitUsage
	}
	e := &env{stdout: stdout, stderr: stderr}
	if !c.noConfig {
		path := fs.Lookup("config").Value.String()
		e.cfgPath = path
		if e.cfg, err = config.Load(path); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		e.log = newLogger(e.cfg.Log, stderr)
	}
	return c.run(ctx, e, values, pos)
}

// helpOrVersion answers -h, help [command] and --version; done is false
// for anything else.
func helpOrVersion(ctx context.Context, args []string, stdout, stderr io.Writer) (code int, done bool) {
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK, true
	case "-version", "--version":
		return versionCmd(ctx, &env{stdout: stdout}, nil, nil), true
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK, true
		}
		if len(args) == 2 && slices.Contains(groups(), args[1]) {
			groupUsage(stdout, args[1])
			return exitOK, true
		}
		c, _, ok := find(args[1:])
		if !ok {
			unknown(stderr, args[1:])
			return exitUsage, true
		}
		fs, _ := newFlagSet(c, stdout)
		fs.Usage()
		return exitOK, true
	}
	return 0, false
}

// notACommand answers arguments that name no command: a group alone (dqm
// dlq) or with -h lists its subcommands; anything else is unknown, with
// the closest command suggested.
func notACommand(args []string, stdout, stderr io.Writer) int {
	if slices.Contains(groups(), args[0]) && (len(args) == 1 || strings.HasPrefix(args[1], "-")) {
		if len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help") {
			groupUsage(stdout, args[0])
			return exitOK
		}
		fmt.Fprintf(stderr, "dqm %s: which one?\n\n", args[0])
		groupUsage(stderr, args[0])
		return exitUsage
	}
	unknown(stderr, args)
	return exitUsage
}

// newFlagSet builds a command's flags; its Usage prints the command's help.
func newFlagSet(c *command, out io.Writer) (*flag.FlagSet, any) {
	fs := flag.NewFlagSet("dqm "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	if !c.noConfig {
		fs.String("config", "", "configuration file (default ./dqm.json)")
	}
	var values any
	if c.flags != nil {
		values = c.flags(fs)
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: dqm %s\n\n%s\n", strings.TrimSpace(c.name+" "+c.args+" [flags]"), c.summary)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs, values
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments, which it returns in order. After "--" everything is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func versionCmd(_ context.Context, e *env, _ any, _ []string) int {
	fmt.Fprintln(e.stdout, "dqm", version)
	return exitOK
}

func serveCmd(ctx context.Context, e *env, _ any, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "dqm serve: unexpected argument %q\n", args[0])
		return exitUsage
	}
	if len(e.cfg.Databases) == 0 {
		fmt.Fprintln(e.stderr, "dqm serve: no databases configured (give -config; deploy/dqm.demo.json is the demo)")
		return exitUsage
	}
	metrics.Version = version
	// Whatever logs through the default logger (a driver, a library) comes
	// out in the same format as dqm's own lines.
	slog.SetDefault(e.log)
	// A port another process holds is named at once (the embedded NATS
	// would only report, after its wait, that it is not ready).
	if busy := portsInUse(e.cfg); len(busy) > 0 {
		for _, p := range busy {
			fmt.Fprintln(e.stderr, "dqm serve:", p)
		}
		return exitRuntime
	}
	s, err := server.Start(ctx, e.cfg, e.log)
	if err != nil {
		fmt.Fprintln(e.stderr, "dqm:", err)
		return exitRuntime
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), e.cfg.HTTP.ShutdownTimeout())
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		fmt.Fprintln(e.stderr, "dqm:", err)
		return exitRuntime
	}
	return exitOK
}
