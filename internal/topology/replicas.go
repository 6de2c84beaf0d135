package topology

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// nats-server's error codes for a replica count the server cannot place.
const (
	codeNoPeers      jetstream.ErrorCode = 10005 // JSClusterNoPeersErrF: "no suitable peers for placement"
	codeNotClustered jetstream.ErrorCode = 10074 // JSStreamReplicasNotSupportedErr: "replicas > 1 not supported in non-clustered mode"
	statzSubject                         = "$SYS.REQ.ACCOUNT.PING.STATZ"
	statzQuiet                           = 250 * time.Millisecond // a gather ends after this long without a reply
	statzMax                             = 2 * time.Second
	tooSmallSettle                       = 5 * time.Second // a forming cluster may answer with fewer servers for a moment
)

// ReplicasError is nats.replicas larger than the servers that can hold a
// replica: a start-up error naming both numbers.
type ReplicasError struct {
	Replicas int      // config nats.replicas
	Servers  int      // JetStream servers that answered (in Cluster, with Tags)
	Cluster  string   // the cluster placed in; "" when the server is not clustered
	Tags     []string // config nats.placement.tags
	Err      error    // the server's refusal
}

func (e *ReplicasError) Error() string {
	fit := 1
	for _, r := range []int{3, 5} {
		if r <= e.Servers {
			fit = r
		}
	}
	where := "the NATS server is not clustered (1 server)"
	if e.Cluster != "" {
		where = fmt.Sprintf("the NATS cluster %q has %d JetStream servers", e.Cluster, e.Servers)
		if len(e.Tags) > 0 {
			where = fmt.Sprintf("the NATS cluster %q has %d JetStream servers tagged %s", e.Cluster, e.Servers, strings.Join(e.Tags, ","))
		}
	}
	return fmt.Sprintf("nats.replicas is %d but %s: set nats.replicas to %d or add servers (%v)", e.Replicas, where, fit, e.Err)
}

func (e *ReplicasError) Unwrap() error { return e.Err }

// replicaCheck tells a refusal for a cluster too small from a cluster
// still forming: it returns err, or a *ReplicasError once the refusal
// has held against a count of servers below nats.replicas for
// tooSmallSettle (at once for a server that is not clustered).
type replicaCheck struct {
	t         *Topology
	nc        *nats.Conn
	tooSmall  *ReplicasError
	shortFrom time.Time
}

func (c *replicaCheck) check(ctx context.Context, err error) (*ReplicasError, bool) {
	var apiErr *jetstream.APIError
	if c.t.replicas == 1 || !errors.As(err, &apiErr) {
		return nil, false
	}
	switch apiErr.ErrorCode {
	case codeNotClustered:
		return &ReplicasError{Replicas: c.t.replicas, Servers: 1, Err: err}, true
	case codeNoPeers:
		n, cluster := c.t.countServers(ctx, c.nc)
		if n == 0 || n >= c.t.replicas {
			// Unknown (no answer) or enough servers: the cluster forms.
			c.tooSmall, c.shortFrom = nil, time.Time{}
			return nil, false
		}
		if c.tooSmall == nil {
			c.shortFrom = time.Now()
		}
		c.tooSmall = &ReplicasError{Replicas: c.t.replicas, Servers: n, Cluster: cluster, Err: err}
		if c.t.placement != nil {
			c.tooSmall.Tags = c.t.placement.Tags
		}
		return c.tooSmall, time.Since(c.shortFrom) >= min(tooSmallSettle, c.t.setup)
	}
	return nil, false
}

// countServers asks every server of the account's reach for its identity
// (an account STATZ ping, which any user may send) and counts the
// JetStream servers in the placement cluster (else the connected one)
// that carry every placement tag. 0 means nobody answered.
func (t *Topology) countServers(ctx context.Context, nc *nats.Conn) (int, string) {
	cluster := nc.ConnectedClusterName()
	var tags []string
	if t.placement != nil {
		if t.placement.Cluster != "" {
			cluster = t.placement.Cluster
		}
		tags = t.placement.Tags
	}
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, cluster
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(statzSubject, inbox, []byte(`{"include_unused":true}`)); err != nil {
		return 0, cluster
	}
	ctx, cancel := context.WithTimeout(ctx, statzMax)
	defer cancel()
	seen := map[string]bool{}
	for {
		qctx, qcancel := context.WithTimeout(ctx, statzQuiet)
		m, err := sub.NextMsgWithContext(qctx)
		qcancel()
		if err != nil {
			return len(seen), cluster
		}
		var r struct {
			Server struct {
				ID        string   `json:"id"`
				Cluster   string   `json:"cluster"`
				JetStream bool     `json:"jetstream"`
				Tags      []string `json:"tags"`
			} `json:"server"`
		}
		if json.Unmarshal(m.Data, &r) != nil || !r.Server.JetStream || r.Server.Cluster != cluster {
			continue
		}
		if hasTags(r.Server.Tags, tags) {
			seen[r.Server.ID] = true
		}
	}
}

// hasTags reports whether have holds every tag of want (case-insensitive,
// as nats-server compares them).
func hasTags(have, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

// warnSingleReplica logs a warning when nats.replicas is 1 on a cluster
// of more than one JetStream server: a lost server takes the streams and
// buckets it holds with it.
func (t *Topology) warnSingleReplica(ctx context.Context, nc *nats.Conn) {
	if t.replicas != 1 || nc.ConnectedClusterName() == "" {
		return
	}
	if n, cluster := t.countServers(ctx, nc); n > 1 {
		t.log.Warn("launch: nats.replicas is 1 on a NATS cluster: losing the server that holds a stream or bucket stops it, and losing its disk loses its messages; set nats.replicas to 3",
			"cluster", cluster, "servers", n)
	}
}
