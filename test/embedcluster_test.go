package test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestEmbeddedCluster: three instances with nats.embedded.cluster form one
// NATS cluster among themselves: JetStream elects a meta leader that sees
// all three peers, the request stream is placed on three replicas with a
// leader, and a query is answered.
func TestEmbeddedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	const n = 3
	ports := make([]string, n)
	for i := range ports {
		ports[i] = freeAddr(t)
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, "nats://"+p)
	}
	cfgs := make([]*config.Config, n)
	for i := range cfgs {
		cfg := testConfig(t)
		cfg.NATS.Replicas = 3
		cfg.NATS.Embedded.Cluster = config.Cluster{Name: "dqm-test", Listen: ports[i], Routes: routes,
			ServerName: fmt.Sprintf("m%d", i)}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		cfgs[i] = cfg
	}
	// Each start waits for the cluster to place its buckets: all three
	// must start together.
	servers := make([]*server.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Go(func() {
			servers[i], errs[i] = server.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		})
	}
	wg.Wait()
	for i, s := range servers {
		if s != nil {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s.Shutdown(ctx)
			})
		}
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
	}
	testutil.Eventually(t, 30*time.Second, "one meta leader seeing three peers", func() bool {
		leaders := 0
		for _, s := range servers {
			if ns := s.EmbeddedServer(); ns.JetStreamIsLeader() && len(ns.JetStreamClusterPeers()) == n {
				leaders++
			}
		}
		return leaders == 1
	})
	for _, s := range servers {
		testutil.Eventually(t, 15*time.Second, "databases ready", s.Ready)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(servers[0].NATS())
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, schemas.StreamName("demo"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "stream on three current replicas", func() bool {
		info, err := st.Info(ctx)
		if err != nil || info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Leader == "" {
			return false
		}
		current := 0
		for _, p := range info.Cluster.Replicas {
			if p.Current {
				current++
			}
		}
		return current == 2
	})
	for _, s := range servers {
		if _, err := s.Client().Query(ctx, "demo", 2, ints("N", 1), client.Queue("fast")); err != nil {
			t.Fatal(err)
		}
	}
}

// freeAddr is a loopback host:port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
