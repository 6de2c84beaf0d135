package topology_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/topology"
	"github.com/dqmhq/dqm/schemas"
)

// TestClusterReplicas runs on three real nats-server processes: at
// nats.replicas 1 start warns that the cluster has more servers; at 3
// every stream, consumer and bucket is updated in place to R3 (each
// reported once) and keeps its messages, and back to 1 likewise; at 5
// start fails with one error naming both numbers.
func TestClusterReplicas(t *testing.T) {
	procs := testutil.NATSProcesses(t, 3)
	ctx := context.Background()
	nc, err := nats.Connect(procs.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ensure := func(replicas int, l *logs) error {
		t.Helper()
		cfg := demoConfig(t, fmt.Sprintf(`"url": %q, "replicas": %d, "setup_timeout_ms": 60000`, procs.URLs(), replicas))
		topo := topology.New(cfg, l.logger())
		if _, err := topo.EnsureShared(ctx, js); err != nil {
			return err
		}
		_, err := topo.EnsureDatabase(ctx, js, cfg.Databases["shop"])
		return err
	}

	var r1 logs
	if err := ensure(1, &r1); err != nil {
		t.Fatal(err)
	}
	if r1.count("nats.replicas is 1 on a NATS cluster", "servers=3") != 1 {
		t.Fatalf("no warning for R1 on 3 servers:\n%s", r1.buf.String())
	}
	for i := range 3 {
		if _, err := js.Publish(ctx, schemas.RequestSubject("shop", "fast"), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}

	var r3 logs
	if err := ensure(3, &r3); err != nil {
		t.Fatal(err)
	}
	streams := []string{schemas.StreamName("shop"), schemas.ChangesStream, schemas.DLQStream,
		"KV_" + schemas.BucketLeaders, "KV_" + schemas.BucketStatus, "KV_" + schemas.BucketCatalog}
	for _, name := range streams {
		testutil.Eventually(t, 30*time.Second, name+" at R3 with two current followers", func() bool {
			st, err := js.Stream(ctx, name)
			if err != nil {
				return false
			}
			info := st.CachedInfo()
			if info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
				return false
			}
			for _, p := range info.Cluster.Replicas {
				if !p.Current {
					return false
				}
			}
			return true
		})
	}
	st, _ := js.Stream(ctx, schemas.StreamName("shop"))
	if n := st.CachedInfo().State.Msgs; n != 3 {
		t.Fatalf("DQM_SHOP has %d messages after the update, want 3", n)
	}
	for _, tag := range schemas.Tags {
		c, err := st.Consumer(ctx, schemas.ConsumerName("shop", tag))
		if err != nil {
			t.Fatal(err)
		}
		if r := c.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("consumer %s: R%d, want R3", tag, r)
		}
	}
	if n := r3.count("updated in place", "replicas_from=1", "replicas_to=3"); n != 10 {
		t.Errorf("%d updates reported, want 10 (6 streams and buckets, 4 consumers), once each:\n%s", n, r3.buf.String())
	}
	if r3.count("nats.replicas is 1") != 0 {
		t.Errorf("R1 warning at R3:\n%s", r3.buf.String())
	}
	// And back: a scale-down is an update in place too.
	var down logs
	if err := ensure(1, &down); err != nil {
		t.Fatalf("R3 to R1: %v\n%s", err, down.buf.String())
	}
	if info, err := st.Info(ctx); err != nil || info.Config.Replicas != 1 || info.State.Msgs != 3 {
		t.Fatalf("DQM_SHOP after R3 to R1: %v %+v", err, info)
	}

	start := time.Now()
	err = ensure(5, &logs{})
	var rerr *topology.ReplicasError
	if !errors.As(err, &rerr) || rerr.Replicas != 5 || rerr.Servers != 3 {
		t.Fatalf("R5 on 3 servers: want a ReplicasError 5 > 3, got %v", err)
	}
	t.Logf("R5 on 3 servers, after %v: %v", time.Since(start).Round(time.Millisecond), err)
	const want = `kv dqm_leaders: nats.replicas is 5 but the NATS cluster "dqm-procs" has 3 JetStream servers: set nats.replicas to 3 or add servers`
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error:\n%v\nwant it to start with:\n%s", err, want)
	}
}
