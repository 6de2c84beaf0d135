package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Cluster modes: the instance in this process on a three-node NATS
// cluster (three nats-servers in this process, routed over loopback),
// every stream at one or three replicas. Their rows are the client and
// REST paths; the report gives R3 ÷ R1.
const (
	modeClusterR1 = "cluster_r1"
	modeClusterR3 = "cluster_r3"
)

func isClusterMode(m string) bool { return m == modeClusterR1 || m == modeClusterR3 }

// startClusterTarget starts a three-node cluster and an instance on it at
// the mode's replica count.
func startClusterTarget(ctx context.Context, mode, dir string, fx *fixture, workers int, log *slog.Logger) (*target, error) {
	sub := filepath.Join(dir, mode+"-"+fx.engine)
	urls, stopCluster, err := startCluster(ctx, sub, 3)
	if err != nil {
		return nil, err
	}
	cfg, err := benchConfig(sub, fx, workers, "127.0.0.1:0", "127.0.0.1:0", filepath.Join(sub, "unused"))
	if err != nil {
		stopCluster()
		return nil, err
	}
	cfg.NATS.URL = urls
	cfg.NATS.Replicas = 1
	if mode == modeClusterR3 {
		cfg.NATS.Replicas = 3
	}
	t, err := runInProcess(ctx, cfg, mode, workers, log)
	if err != nil {
		stopCluster()
		return nil, err
	}
	t.stops = append([]func(){stopCluster}, t.stops...)
	return t, nil
}

// startCluster runs n routed nats-servers with JetStream in this process,
// each storing under dir, and waits until they have a meta leader that
// knows all n; it returns their client URLs.
func startCluster(ctx context.Context, dir string, n int) (string, func(), error) {
	var routes, ports []string
	for range n {
		a, err := freeAddr()
		if err != nil {
			return "", nil, err
		}
		ports = append(ports, a)
		routes = append(routes, "nats://"+a)
	}
	var servers []*natsserver.Server
	stop := func() {
		for _, ns := range servers {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
	}
	var urls []string
	for i, a := range ports {
		host, port, _ := net.SplitHostPort(a)
		p, _ := parsePort(port)
		ns, err := natsserver.NewServer(&natsserver.Options{
			ServerName: fmt.Sprintf("b%d", i), Host: "127.0.0.1", Port: natsserver.RANDOM_PORT,
			JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i)), NoSigs: true, MaxPayload: 8 << 20,
			Cluster: natsserver.ClusterOpts{Name: "bench", Host: host, Port: p},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			stop()
			return "", nil, err
		}
		go ns.Start()
		servers = append(servers, ns)
	}
	for _, ns := range servers {
		if !ns.ReadyForConnections(30 * time.Second) {
			stop()
			return "", nil, fmt.Errorf("cluster node %s not ready", ns.Name())
		}
		urls = append(urls, ns.ClientURL())
	}
	formed := func() bool {
		for _, ns := range servers {
			if ns.JetStreamIsLeader() && len(ns.JetStreamClusterPeers()) == n {
				return true
			}
		}
		return false
	}
	if err := poll(ctx, 30*time.Second, formed); err != nil {
		stop()
		return "", nil, fmt.Errorf("cluster not formed: %w", err)
	}
	return strings.Join(urls, ","), stop, nil
}

func parsePort(s string) (int, error) {
	var p int
	_, err := fmt.Sscanf(s, "%d", &p)
	return p, err
}

// replicationCost reports, per engine, query, concurrency and path, the
// cluster rows' R3 ÷ R1 throughput.
func replicationCost(b *strings.Builder, rows []row) {
	type key struct {
		engine, query, path string
		c                   int
	}
	r1, r3 := map[key]row{}, map[key]row{}
	var keys []key
	for _, w := range rows {
		k := key{w.Engine, w.Query, w.Path, w.Concurrency}
		switch w.Mode {
		case modeClusterR1:
			r1[k] = w
		case modeClusterR3:
			r3[k] = w
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	b.WriteString("## Replication cost: a three-node NATS cluster at R1 and R3\n\n")
	b.WriteString("The instance in this process on three nats-servers routed over loopback, also in this process: the three servers, dqm, the load generator (and the database for SQLite) share this machine's cores, so R3's extra replication work competes with everything else for the same two cores — a real cluster spreads it over three machines. R3 ÷ R1 is the throughput ratio.\n\n")
	b.WriteString("| engine | query | c | path | R1 ops/s | R3 ops/s | R3 ÷ R1 | R1 p50 µs | R3 p50 µs | R1 CPU µs/op | R3 CPU µs/op |\n")
	b.WriteString("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range keys {
		a, ok := r1[k]
		z := r3[k]
		if !ok || a.OpsPerSec == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %.0f | %.0f | %.2f× | %.0f | %.0f | %.0f | %.0f |\n", k.engine, k.query, k.c, k.path,
			a.OpsPerSec, z.OpsPerSec, z.OpsPerSec/a.OpsPerSec, a.P50us, z.P50us, a.CPUusPerOp, z.CPUusPerOp)
	}
	b.WriteString("\n")
}
