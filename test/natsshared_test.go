package test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
)

// syncBuffer is a bytes.Buffer that several goroutines may log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLogged is start with every record, debug included, kept in a buffer
// in the given format (text or json).
func startLogged(t *testing.T, cfg *config.Config, format string) (*server.Server, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	ho := &slog.HandlerOptions{Level: slog.LevelDebug}
	var h slog.Handler = slog.NewTextHandler(buf, ho)
	if format == "json" {
		h = slog.NewJSONHandler(buf, ho)
	}
	s, err := server.Start(context.Background(), cfg, slog.New(h))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, buf
}

// dqmPermissions are the subject permissions README documents for dqm's
// own user on a shared NATS serving database demo, whose catalog has a
// direct entry (ref 60): the lane's subject and micro's discovery too.
var dqmPermissions = &natsserver.Permissions{
	Publish: &natsserver.SubjectPermission{Allow: []string{
		"$JS.API.>", "$JS.ACK.>", "$JS.FC.>",
		"$KV.dqm_catalog.>", "$KV.dqm_leaders.>", "$KV.dqm_status.>",
		"db.demo.>", "dqm.demo.>", "_INBOX.>",
	}},
	Subscribe: &natsserver.SubjectPermission{Allow: []string{
		"_INBOX.>", "dqm.*.invalidate.>", "dqm.demo.>",
		"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>",
		"db.demo.direct", "$SRV.>",
	}},
}

// sharedNATS is a NATS server shared with services: user dqm with
// dqmPerms (password dqm-pw), and user svc (svc-pw) that may only publish
// to db.demo.> and subscribe to its inbox.
func sharedNATS(t *testing.T, dqmPerms *natsserver.Permissions) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
		Users: []*natsserver.User{
			{Username: "dqm", Password: "dqm-pw", Permissions: dqmPerms},
			{Username: "svc", Password: "svc-pw", Permissions: &natsserver.Permissions{
				Publish:   &natsserver.SubjectPermission{Allow: []string{"db.demo.>"}},
				Subscribe: &natsserver.SubjectPermission{Allow: []string{"_INBOX.>"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// svcClient connects as sharedNATS's user svc and returns a Go client on
// that connection, with the connection's async errors (permissions
// violations); both close when the test ends.
func svcClient(t *testing.T, ns *natsserver.Server) (*client.Client, *asyncErrs) {
	t.Helper()
	errs := &asyncErrs{}
	nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo("svc", "svc-pw"), nats.ErrorHandler(errs.handler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, errs
}

// On a shared NATS, dqm runs with only the permissions README lists, and a
// service with only db.demo.> and its inbox gets answers: no permissions
// violation anywhere.
func TestNATSSharedServerPermissions(t *testing.T) {
	ns := sharedNATS(t, dqmPermissions)

	cfg := testConfig(t)
	cfg.NATS.URL, cfg.NATS.User, cfg.NATS.Password = ns.ClientURL(), "dqm", "dqm-pw"
	cfg.Databases["demo"].HeartbeatS = 1
	s, logs := startLogged(t, cfg, "text")
	testutil.Eventually(t, 15*time.Second, "databases ready", s.Ready)
	ctx := context.Background()

	c, errs := svcClient(t, ns)
	for _, q := range []struct {
		ref   int64
		queue string
	}{{55, "slow"}, {2, "fast"}, {3, "cache"}, {104, "medium"}, {100, "fast"}} {
		n := 7
		if q.ref == 104 {
			n = 1000007 // a new row
		}
		res, err := c.Query(ctx, "demo", q.ref, ints("START", 1, "FINISH", 3, "N", n), client.Queue(q.queue))
		if q.ref == 100 { // a database error is still an answer
			if res == nil || res.Success {
				t.Fatalf("ref 100: %v %+v", err, res)
			}
			continue
		}
		if err != nil || !res.Success {
			t.Fatalf("ref %d via the service: %v %+v", q.ref, err, res)
		}
	}
	// The REST path: dqm's own client, then the cache in front of it.
	for range 2 {
		if code, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":3,"database":"demo"}`); code != 200 {
			t.Fatalf("REST: %d %v", code, body)
		}
	}

	// The write became a change event and dqm wrote its status.
	js, _ := jetstream.New(s.NATS())
	testutil.Eventually(t, 10*time.Second, "a change event", func() bool {
		st, err := js.Stream(ctx, "DQM_CHANGES")
		return err == nil && st.CachedInfo().State.Msgs > 0
	})
	kv, err := js.KeyValue(ctx, "dqm_status")
	if err != nil {
		t.Fatal(err)
	}
	// Two heartbeats more (1 s apart), under the same permissions.
	var first uint64
	testutil.Eventually(t, 10*time.Second, "two more heartbeats", func() bool {
		keys, err := kv.Keys(ctx)
		if err != nil || len(keys) == 0 {
			return false
		}
		e, err := kv.Get(ctx, keys[0])
		if err != nil {
			return false
		}
		if first == 0 {
			first = e.Revision()
		}
		return e.Revision() >= first+2
	})

	errs.none(t)
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "permission") || strings.Contains(line, "level=ERROR") {
			t.Errorf("dqm log: %s", line)
		}
	}
}
