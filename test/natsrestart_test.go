package test

import (
	"context"
	"net"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/testutil"
)

// TestNATSRestart: the NATS server goes away and comes back (same port,
// same store). The instance reconnects, its workers pull again, queries
// are answered, and the cache, which may have missed invalidations while
// disconnected, has been cleared.
func TestNATSRestart(t *testing.T) {
	dir := t.TempDir()
	opts := &natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true, StoreDir: dir, NoSigs: true}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	cfg := testConfig(t)
	cfg.NATS.URL = ns.ClientURL()
	s := start(t, cfg)
	ctx := context.Background()
	cached := func() (bool, error) {
		qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		res, err := s.Client().Query(qctx, "demo", 3, nil, client.Queue("cache"), client.CacheFor(time.Minute), client.Tables("numbers"))
		if err != nil {
			return false, err
		}
		return res.Cached, nil
	}
	cached()
	if hit, err := cached(); err != nil || !hit {
		t.Fatalf("second read: cached=%v err=%v", hit, err)
	}

	port := ns.Addr().(*net.TCPAddr).Port
	ns.Shutdown()
	ns.WaitForShutdown()
	testutil.Eventually(t, 10*time.Second, "client sees the disconnect", func() bool { return !s.NATS().IsConnected() })
	opts2 := *opts
	opts2.Port = port
	ns2, err := natsserver.NewServer(&opts2)
	if err != nil {
		t.Fatal(err)
	}
	go ns2.Start()
	t.Cleanup(func() { ns2.Shutdown(); ns2.WaitForShutdown() })
	if !ns2.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready again")
	}
	testutil.Eventually(t, 15*time.Second, "reconnected", s.NATS().IsConnected)
	testutil.Eventually(t, 5*time.Second, "cache cleared on reconnect", func() bool { return s.Cache().Len("demo") == 0 })
	hit, err := cached()
	if err != nil || hit {
		t.Fatalf("first read after the restart: cached=%v err=%v", hit, err)
	}
	status, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1,"FINISH":5}}}`)
	if status != 200 || body["row_count"] != 5.0 {
		t.Fatalf("after restart: %d %v", status, body)
	}
}
