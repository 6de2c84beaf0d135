package test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// Refs of the direct-lane tests' catalog file.
const (
	refDirect      = 200 // a point read, direct: true
	refNotDirect   = 201 // the same read on the fast queue
	refDirectWrite = 202 // direct: true on a write: refused at load
	refWriteQueued = 203 // a write, on its queue
)

// directConfig is testConfig with a catalog file holding the direct
// lane's entries.
func directConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := testConfig(t)
	path := filepath.Join(t.TempDir(), "direct.json")
	err := os.WriteFile(path, []byte(`[
  {"ref": 200, "name": "point, direct", "sql": "SELECT numbers FROM numbers WHERE numbers = :N", "queue": "fast", "public": true, "direct": true},
  {"ref": 201, "name": "point", "sql": "SELECT numbers FROM numbers WHERE numbers = :N", "queue": "fast", "public": true},
  {"ref": 202, "name": "insert, direct", "sql": "INSERT INTO numbers (numbers) VALUES (:N)", "queue": "fast", "public": true, "direct": true},
  {"ref": 203, "name": "insert", "sql": "INSERT INTO numbers (numbers) VALUES (:N)", "queue": "medium", "public": true}
]`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Databases["demo"].Catalog.File = path
	return cfg
}

// laneInstances asks micro's discovery for every instance of db's lane
// serving its endpoint (a worker adds it just after the service shows)
// and returns their stats.
func laneInstances(t *testing.T, nc *nats.Conn, db string) []micro.Stats {
	t.Helper()
	subj, err := micro.ControlSubject(micro.StatsVerb, schemas.DirectService(db), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []micro.Stats
	for _, data := range testutil.Gather(t, nc, subj) {
		var st micro.Stats
		if len(data) > 0 && json.Unmarshal(data, &st) == nil && len(st.Endpoints) > 0 {
			out = append(out, st)
		}
	}
	return out
}

// workersServing counts db's workers on s that serve a tag: each is one
// instance of the lane (a Lead that keeps no tag runs no worker).
func workersServing(s *server.Server, db string) int {
	n := 0
	for _, q := range s.Lead(db).Queues() {
		if len(q.Tags) > 0 {
			n++
		}
	}
	return n
}

func lastSeq(t *testing.T, js jetstream.JetStream, db string) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), schemas.StreamName(db))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// TestDirectLane: through a whole instance, a direct entry is answered on
// the lane — by the instance's client (which learns the flag from KV),
// by a plain client with Direct(), by REST — without a message in the
// request stream, and micro's stats count each; a read that is not
// direct and a write stay on their queues; a direct write is refused at
// load; Direct() on an entry that is not direct is a 400; every worker
// is one instance of the service.
func TestDirectLane(t *testing.T) {
	s := start(t, directConfig(t))
	nc := s.NATS()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	// One worker per tag (the default queues): four instances.
	testutil.Eventually(t, 10*time.Second, "every worker serves the lane", func() bool {
		return workersServing(s, "demo") == 4 && len(laneInstances(t, nc, "demo")) == 4
	})
	for _, st := range laneInstances(t, nc, "demo") {
		if st.Name != "dqm_demo" || len(st.Endpoints) != 1 || st.Endpoints[0].Subject != "db.demo.direct" || st.Endpoints[0].QueueGroup != micro.DefaultQueueGroup {
			t.Fatalf("instance %+v", st)
		}
	}
	cat, _ := s.Catalog("demo")
	if _, ok := cat.Lookup(refDirectWrite); ok {
		t.Fatal("the direct write was loaded")
	}
	plain, err := client.New(nc, client.WithSource("/test/plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	// The instance's client knows the entry is direct once KV has it.
	testutil.Eventually(t, 10*time.Second, "the instance's client sends the direct entry to the lane", func() bool {
		res, err := s.Client().Query(ctx, "demo", refDirect, ints("N", 7))
		return err == nil && res.QueueUsed == schemas.Direct && res.RowCount == 1
	})
	before := lastSeq(t, js, "demo")
	if res, err := s.Client().Query(ctx, "demo", refDirect, ints("N", 6)); err != nil || res.QueueUsed != schemas.Direct {
		t.Fatalf("instance client: %+v %v", res, err)
	}
	res, err := plain.Query(ctx, "demo", refDirect, ints("N", 8), client.Direct())
	if err != nil || res.QueueUsed != schemas.Direct || string(res.Rows) != `[{"numbers":8}]` {
		t.Fatalf("plain client, Direct(): %+v %v", res, err)
	}
	code, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":200,"database":"demo","params":{"INTEGER":{"N":9}}}`)
	if code != 200 || body["queue_used"] != schemas.Direct || body["success"] != true {
		t.Fatalf("REST: %d %v", code, body)
	}
	if after := lastSeq(t, js, "demo"); after != before {
		t.Fatalf("the request stream got %d messages for direct reads", after-before)
	}
	// Both count after the reply is out.
	var served int
	testutil.Eventually(t, 5*time.Second, "micro's stats and dqm_requests_total{tag=direct} agree", func() bool {
		served = 0
		for _, st := range laneInstances(t, nc, "demo") {
			served += st.Endpoints[0].NumRequests
		}
		return served >= 4 && promtest.ToFloat64(s.Metrics().Requests.WithLabelValues("demo", schemas.Direct, "ok")) == float64(served)
	})

	// A plain client without Direct() does not know the entry: the queue.
	if res, err := plain.Query(ctx, "demo", refDirect, ints("N", 1)); err != nil || res.QueueUsed != schemas.TagMedium {
		t.Fatalf("plain client: %+v %v", res, err)
	}
	if res, err := s.Client().Query(ctx, "demo", refNotDirect, ints("N", 1), client.Queue("fast")); err != nil || res.QueueUsed != schemas.TagFast {
		t.Fatalf("a read that is not direct: %+v %v", res, err)
	}
	code, body, _ = call(t, s, "POST", "/api/conduit/query", `{"query_ref":203,"database":"demo","params":{"INTEGER":{"N":20000}}}`)
	if code != 200 || body["queue_used"] != schemas.TagMedium {
		t.Fatalf("a write over REST: %d %v", code, body)
	}
	if after := lastSeq(t, js, "demo"); after != before+3 {
		t.Fatalf("the queues got %d messages, want 3", after-before)
	}
	code, body, _ = call(t, s, "POST", "/api/conduit/query", `{"query_ref":202,"database":"demo","params":{"INTEGER":{"N":1}}}`)
	if body["error"] != "query_not_found" {
		t.Fatalf("the refused direct write: %d %v", code, body)
	}
	// Forced onto the lane, an entry that is not on it is refused.
	for _, ref := range []int64{refNotDirect, refWriteQueued} {
		_, err := plain.Query(ctx, "demo", ref, ints("N", 1), client.Direct())
		if schemas.CodeOf(err) != schemas.CodeBadRequest || !strings.Contains(err.Error(), "not on the direct lane") {
			t.Fatalf("ref %d with Direct(): %v", ref, err)
		}
	}
}

// TestDirectLaneGuards: a raw core request on db.<name>.direct whose
// reply subject is dqm's own is neither run nor answered, and counted
// rejected; one whose deadline passed is answered 408 without running.
func TestDirectLaneGuards(t *testing.T) {
	s := start(t, directConfig(t))
	nc := s.NATS()
	testutil.Eventually(t, 10*time.Second, "the lane is served", func() bool {
		return workersServing(s, "demo") == 4 && len(laneInstances(t, nc, "demo")) == 4
	})
	data, _ := json.Marshal(schemas.QueryRequest{QueryRef: refDirect, Params: ints("N", 1)})
	rejected := func() float64 {
		return promtest.ToFloat64(s.Metrics().Rejected.WithLabelValues("demo", schemas.DLQReasonReplySubject))
	}
	for i, to := range []string{"$KV.dqm_leaders.demo", "dqm.demo.changes.numbers.insert", "db.demo.fast", "svc.replies.1"} {
		watch, err := nc.SubscribeSync(to)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { watch.Unsubscribe() }) // a sync subscription left behind holds up the landing's drain
		m := wireRequest(schemas.DirectSubject("demo"), "hostile-"+string(rune('a'+i)), "", time.Now().Add(10*time.Second), data)
		delete(m.Header, schemas.HeaderReplyTo)
		m.Reply = to
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, "rejected and counted", func() bool { return rejected() == float64(i+1) })
		// The Lead's own lease refreshes go to $KV.dqm_leaders.demo: what
		// must not come is a reply.
		for {
			got, err := watch.NextMsg(200 * time.Millisecond)
			if err != nil {
				break
			}
			if got.Header.Get("ce-type") == schemas.TypeQueryResult || got.Header.Get("Status") != "" {
				t.Fatalf("answered on %s: %v %s", to, got.Header, got.Data)
			}
		}
		watch.Unsubscribe()
	}
	if n := promtest.ToFloat64(s.Metrics().Requests.WithLabelValues("demo", schemas.Direct, "ok")); n != 0 {
		t.Fatalf("%v hostile requests ran", n)
	}

	m := wireRequest(schemas.DirectSubject("demo"), "late-1", "", time.Now().Add(-time.Second), data)
	reply, err := nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal(reply.Data, &body)
	if body["error"] != "timeout" || body["status"] != 408.0 {
		t.Fatalf("expired: %v", body)
	}
	if n := promtest.ToFloat64(s.Metrics().Requests.WithLabelValues("demo", schemas.Direct, "timeout")); n != 1 {
		t.Fatalf("dqm_requests_total{tag=direct,outcome=timeout} = %v", n)
	}
}

// TestDirectFallback: on a database with no direct entry and direct_reads
// off, no worker serves the lane, and a query sent with Direct() is
// answered through its queue. The demo's one direct entry (ref 60, its
// queries table's is_direct) is taken off the lane first: the workers
// follow the catalog reload.
func TestDirectFallback(t *testing.T) {
	cfg := testConfig(t)
	s := start(t, cfg)
	nc := s.NATS()
	js, _ := jetstream.New(nc)
	testutil.Eventually(t, 10*time.Second, "workers started", func() bool { return workersServing(s, "demo") == 4 })
	testutil.Eventually(t, 10*time.Second, "the demo's lane", func() bool { return len(laneInstances(t, nc, "demo")) > 0 })
	direct := testutil.DirectDB(t, "sqlite", string(cfg.Databases["demo"].DSN))
	if _, err := direct.Exec("UPDATE queries SET is_direct = 0 WHERE ref = 60"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "lane stopped", func() bool { return len(laneInstances(t, nc, "demo")) == 0 })
	if _, err := nc.Request(schemas.DirectSubject("demo"), nil, time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request on the lane: %v", err)
	}
	before := lastSeq(t, js, "demo")
	plain, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	res, err := plain.Query(context.Background(), "demo", 55, ints("START", 1, "FINISH", 3), client.Direct())
	if err != nil || res.QueueUsed != schemas.TagMedium || res.RowCount != 3 {
		t.Fatalf("Direct() without a lane: %+v %v", res, err)
	}
	if after := lastSeq(t, js, "demo"); after != before+1 {
		t.Fatalf("the queue got %d messages, want 1", after-before)
	}
}

// TestDirectReadsPostgres: with databases.<name>.direct_reads, every read
// of a PostgreSQL database goes on the lane without a catalog flag, over
// REST and by the client.
func TestDirectReadsPostgres(t *testing.T) {
	cfg := pgConfig(t)
	pg := cfg.Databases["pg"]
	pg.DirectReads = true
	pg.Queues = map[string]config.Queue{"slow": {Min: 2, Max: 2}}
	s := start(t, cfg)
	nc := s.NATS()
	testutil.Eventually(t, 10*time.Second, "both workers serve the lane", func() bool {
		return len(laneInstances(t, nc, "pg")) == 2
	})
	code, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":10,"database":"pg","params":{"FLOAT":{"SECONDS":0.01}}}`)
	if code != 200 || body["queue_used"] != schemas.Direct || body["rows"] == nil {
		t.Fatalf("REST on a direct_reads database: %d %v", code, body)
	}
	res, err := s.Client().Query(context.Background(), "pg", 10, sleepFor(10*time.Millisecond), client.Direct())
	if err != nil || res.QueueUsed != schemas.Direct {
		t.Fatalf("client: %+v %v", res, err)
	}
}

// TestDirectLaneSharedPermissions: on a shared NATS, dqm with the
// permissions README lists, the direct lane's included (subscribe
// db.demo.direct and $SRV.>), serves the lane to a service that has only
// db.demo.> and its inbox, with no permissions violation.
func TestDirectLaneSharedPermissions(t *testing.T) {
	ns := sharedNATS(t, dqmPermissions)

	cfg := testConfig(t)
	path := filepath.Join(t.TempDir(), "direct.json")
	if err := os.WriteFile(path, []byte(`[{"ref": 200, "name": "point, direct", "sql": "SELECT numbers FROM numbers WHERE numbers = :N", "queue": "fast", "public": true, "direct": true}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Databases["demo"].Catalog.File = path
	cfg.NATS.URL, cfg.NATS.User, cfg.NATS.Password = ns.ClientURL(), "dqm", "dqm-pw"
	s, logs := startLogged(t, cfg, "text")
	testutil.Eventually(t, 15*time.Second, "databases ready", s.Ready)

	c, errs := svcClient(t, ns)
	testutil.Eventually(t, 10*time.Second, "answered on the lane", func() bool {
		res, err := c.Query(context.Background(), "demo", refDirect, ints("N", 5), client.Direct())
		return err == nil && res.QueueUsed == schemas.Direct
	})
	if code, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":200,"database":"demo","params":{"INTEGER":{"N":5}}}`); code != 200 || body["queue_used"] != schemas.Direct {
		t.Fatalf("REST: %d %v", code, body)
	}
	errs.none(t)
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "permission") || strings.Contains(line, "level=ERROR") {
			t.Errorf("dqm log: %s", line)
		}
	}
}
