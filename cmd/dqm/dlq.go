package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dqmhq/dqm/internal/deadletter"
)

// dlqCmd returns the dlq subcommands: ls, replay and purge.
func dlqCmd(action string) func(ctx context.Context, e *env, _ any, args []string) int {
	return func(ctx context.Context, e *env, _ any, args []string) int {
		if len(args) < 1 || (action != "replay" && len(args) > 1) {
			fmt.Fprintf(e.stderr, "usage: dqm dlq %s <db>%s\n", action, map[bool]string{true: " [request-id...]"}[action == "replay"])
			return exitUsage
		}
		db := args[0]
		if code := configuredDatabase(e, db); code != exitOK {
			return code
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		js, closeNC, err := jetStream(e, "dqm dlq")
		if err != nil {
			fmt.Fprintln(e.stderr, err)
			return exitRuntime
		}
		defer closeNC()
		switch action {
		case "ls":
			letters, err := deadletter.List(ctx, js, db)
			if err != nil {
				fmt.Fprintln(e.stderr, "dqm dlq:", err)
				return exitRuntime
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tREQUEST ID\tREF\tSUBJECT\tDELIVERIES\tREASON")
			for _, l := range letters {
				// Every text field came over the wire: escaped, never obeyed.
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", l.Seq, l.Time.UTC().Format(time.RFC3339), printable(l.RequestID),
					printable(l.Ref), printable(l.Subject), l.Deliveries, printable(l.Reason))
			}
			tw.Flush()
			fmt.Fprintf(e.stdout, "(%d dead letters)\n", len(letters))
		case "replay":
			done, err := deadletter.Replay(ctx, js, db, args[1:])
			for _, id := range done {
				fmt.Fprintln(e.stdout, "replayed", printable(id))
			}
			if err != nil {
				// One line per letter left in place; the rest were replayed.
				for _, line := range strings.Split(err.Error(), "\n") {
					fmt.Fprintln(e.stderr, "dqm dlq:", printable(line))
				}
				fmt.Fprintf(e.stderr, "dqm dlq: replayed %d; the letters above stay (dqm dlq ls %s)\n", len(done), db)
				return exitRuntime
			}
			if len(args) > 1 && len(done) < len(args)-1 {
				fmt.Fprintf(e.stderr, "dqm dlq: %d of %d request ids not found\n", len(args)-1-len(done), len(args)-1)
				return exitRuntime
			}
		case "purge":
			n, err := deadletter.Purge(ctx, js, db)
			if err != nil {
				fmt.Fprintln(e.stderr, "dqm dlq:", err)
				return exitRuntime
			}
			fmt.Fprintf(e.stdout, "purged %d dead letters of %s\n", n, db)
		}
		return exitOK
	}
}
