package testutil

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// NATS starts an embedded nats-server with JetStream on a random port and
// a temporary store; it shuts down when the test ends.
func NATS(t testing.TB) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: natsserver.RANDOM_PORT,
		JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
	})
	if err != nil {
		t.Fatalf("embedded nats: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// Connect opens a client connection to ns, closed when the test ends.
func Connect(t testing.TB, ns *natsserver.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Cluster starts n embedded nats-servers with JetStream, routed into one
// cluster on random loopback ports, and waits until the cluster has
// formed: every server accepts connections and is current with the meta
// group, and the meta leader sees all n peers online with their stats (a
// stream or KV placed before that may fail with "no suitable peers for
// placement"). They shut down when the test ends.
func Cluster(t testing.TB, n int) []*natsserver.Server {
	t.Helper()
	servers := ClusterForming(t, n)
	Eventually(t, 30*time.Second, "JetStream cluster formed", func() bool {
		leaders := 0
		for _, ns := range servers {
			if !ns.JetStreamIsCurrent() {
				return false
			}
			if ns.JetStreamIsLeader() {
				leaders++
				if len(ns.JetStreamClusterPeers()) != n {
					return false
				}
			}
		}
		return leaders == 1
	})
	return servers
}

// ClusterForming starts n routed nats-servers as Cluster does but returns
// as soon as each accepts connections: JetStream may not have a meta
// leader or know its peers yet, as when dqm starts beside a cluster that
// is starting.
func ClusterForming(t testing.TB, n int) []*natsserver.Server {
	t.Helper()
	// Cluster ports are picked free, then bound by the servers: another
	// process may take one in between, and a node then never becomes
	// ready. Such a cluster is shut down and started again on new ports.
	for attempt := 1; ; attempt++ {
		servers, ok := startCluster(t, n)
		if ok {
			return servers
		}
		for _, ns := range servers {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
		if attempt == 3 {
			t.Fatal("cluster node not ready (3 attempts)")
		}
		t.Logf("cluster node not ready; starting the cluster again (attempt %d)", attempt+1)
	}
}

func startCluster(t testing.TB, n int) ([]*natsserver.Server, bool) {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePort(t)
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	servers := make([]*natsserver.Server, n)
	for i := range servers {
		opts := &natsserver.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: natsserver.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
			Cluster: natsserver.ClusterOpts{Name: "dqm-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ",")),
		}
		ns, err := natsserver.NewServer(opts)
		if err != nil {
			t.Fatalf("cluster node %d: %v", i, err)
		}
		go ns.Start()
		servers[i] = ns
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	}
	for _, ns := range servers {
		if !ns.ReadyForConnections(30 * time.Second) {
			return servers, false
		}
	}
	return servers, true
}

// URLs is the client URL list of servers.
func URLs(servers []*natsserver.Server) string {
	var urls []string
	for _, ns := range servers {
		urls = append(urls, ns.ClientURL())
	}
	return strings.Join(urls, ",")
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Gather publishes an empty request to subject and returns the data of
// every reply that comes until none has come for 300 ms: the answers of
// all responders, as micro's discovery (PING, INFO, STATS) gives them.
func Gather(t testing.TB, nc *nats.Conn, subject string) [][]byte {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		m, err := sub.NextMsg(300 * time.Millisecond)
		if err != nil {
			return out
		}
		out = append(out, m.Data)
	}
}
