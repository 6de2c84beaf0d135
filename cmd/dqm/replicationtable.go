package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/replication"
	"github.com/dqmhq/dqm/schemas"
)

// readReplication reads, live from their leaders, the replication of the
// request streams of dbs and of the streams every database shares, and
// the warning for a request stream with one replica on a cluster.
func readReplication(ctx context.Context, js jetstream.JetStream, dbs []string) ([]schemas.StreamReplication, string) {
	var out []schemas.StreamReplication
	cluster := ""
	for _, name := range replication.Streams(dbs) {
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, c := replication.Inspect(ictx, js, name)
		cancel()
		if c != "" {
			cluster = c
		}
		out = append(out, r)
	}
	replicas := 0
	for _, r := range out {
		if strings.HasPrefix(r.Stream, "DQM_") && r.Error == "" && (replicas == 0 || r.Replicas < replicas) {
			replicas = r.Replicas
		}
	}
	return out, replication.Warning(max(replicas, 1), cluster, len(js.Conn().Servers()))
}

// writeReplicationTable prints the streams' replication under the status
// table of `dqm status`.
func writeReplicationTable(w io.Writer, rs []schemas.StreamReplication, warning string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tREPLICAS\tLEADER\tCURRENT\tLAGGING\tOFFLINE\tNOTE")
	for _, r := range rs {
		leader, note := r.Leader, r.Error
		if leader == "" {
			leader = "-"
			if r.Error == "" && r.Current > 0 {
				leader = "(single server)"
			}
		}
		if note == "" && r.Current < r.Replicas {
			note = "under-replicated"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d/%d\t%s\t%s\t%s\n", r.Stream, r.Replicas, leader, r.Current, r.Replicas,
			orDash(r.Lagging), orDash(r.Offline), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if warning != "" {
		_, err := fmt.Fprintln(w, "warning:", warning)
		return err
	}
	return nil
}

func orDash(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ",")
}

// statusDatabases are the databases whose request streams `dqm status`
// shows: the one asked for, else those configured, else those reporting.
func statusDatabases(db string, configured []string, hbs []schemas.Heartbeat) []string {
	if db != "" {
		return []string{db}
	}
	if len(configured) > 0 {
		return slices.Sorted(slices.Values(configured))
	}
	var out []string
	for _, hb := range hbs {
		if !slices.Contains(out, hb.Database) {
			out = append(out, hb.Database)
		}
	}
	slices.Sort(out)
	return out
}
