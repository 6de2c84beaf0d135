package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// Streams names every stream dqm uses with dbs' request streams: the
// request streams, the change and dead-letter streams, and the KV buckets'
// streams.
func Streams(dbs []string) []string {
	var out []string
	for _, db := range dbs {
		out = append(out, schemas.StreamName(db))
	}
	out = append(out, schemas.ChangesStream, schemas.DLQStream)
	for _, b := range []string{schemas.BucketLeaders, schemas.BucketStatus, schemas.BucketCatalog} {
		out = append(out, "KV_"+b)
	}
	return out
}

// Inspect reads one stream's replication from its leader. An error (no
// leader answers while one is elected, NATS unreachable, no such stream)
// is kept in the result's Error, with no leader.
func Inspect(ctx context.Context, js jetstream.JetStream, stream string) (schemas.StreamReplication, string) {
	r := schemas.StreamReplication{Stream: stream}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		r.Error = describe(err)
		return r, ""
	}
	info := st.CachedInfo()
	r.Replicas = max(info.Config.Replicas, 1)
	c := info.Cluster
	if c == nil {
		// A single server: it leads everything it holds.
		r.Current = 1
		return r, ""
	}
	r.Leader = c.Leader
	if r.Leader != "" {
		r.Current = 1
	}
	for _, p := range c.Replicas {
		switch {
		case p.Offline:
			r.Offline = append(r.Offline, p.Name)
		case p.Current:
			r.Current++
		default:
			r.Lagging = append(r.Lagging, p.Name)
		}
	}
	slices.Sort(r.Offline)
	slices.Sort(r.Lagging)
	return r, c.Name
}

// describe says why a stream could not be read, without the noise of
// nats.go's wrapping.
func describe(err error) string {
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return noStream
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return "no leader answered (an election, or its node is down)"
	}
	return strings.TrimPrefix(err.Error(), "nats: ")
}

// Warning is the warning for replicas configured on a cluster of servers
// NATS servers known to the connection ("" when there is nothing to say).
func Warning(replicas int, cluster string, servers int) string {
	if replicas > 1 || cluster == "" || servers < 2 {
		return ""
	}
	return fmt.Sprintf("nats.replicas is 1 on NATS cluster %q (%d servers known): a node lost takes its streams and their queued requests with it; set nats.replicas to 3", cluster, servers)
}
