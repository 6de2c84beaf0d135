package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/lead"
	"github.com/dqmhq/dqm/schemas"
)

// TestScaling pushes a burst of heavy queries at a fast queue with min 1,
// max 4: the Lead raises it to 4 within 2 s and, after the cool-down,
// lowers it to 1, with every request answered.
func TestScaling(t *testing.T) {
	cfg := pgConfig(t)
	pg := cfg.Databases["pg"]
	pg.Queues["fast"] = config.Queue{Min: 1, Max: 4}
	pg.ScaleDownAfterS = 1
	s := start(t, cfg)
	l := s.Lead("pg")
	testutil.Eventually(t, 5*time.Second, "lease taken", l.IsLeader)

	const n = 48
	var wg sync.WaitGroup
	var failed atomic.Int32
	burst := time.Now()
	for range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if _, err := s.Client().Query(ctx, "pg", 10, sleepFor(200*time.Millisecond), ingress.Queue("fast")); err != nil {
				t.Logf("query: %v", err)
				failed.Add(1)
			}
		})
	}
	testutil.Eventually(t, 2*time.Second, "fast scaled to 4 workers", func() bool { return l.Desired("fast") == 4 })
	t.Logf("scale-up to 4 took %v", time.Since(burst).Round(time.Millisecond))
	testutil.Eventually(t, 5*time.Second, "4 fast workers running", func() bool { return l.Workers("fast") == 4 })
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	idle := time.Now()
	testutil.Eventually(t, 10*time.Second, "fast back to 1", func() bool { return l.Desired("fast") == 1 && l.Workers("fast") == 1 })
	t.Logf("scale-down after %v idle (cool-down 1s)", time.Since(idle).Round(time.Millisecond))

	// The decisions are counted in the metrics.
	resp, err := http.Get("http://" + s.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`dqm_scale_decisions_total{db="pg",direction="up",tag="fast"} 3`,
		`dqm_scale_decisions_total{db="pg",direction="down",tag="fast"} 1`,
		`dqm_requests_total{db="pg",outcome="ok",tag="fast"} 48`,
		`dqm_queue_wait_seconds_bucket`, `dqm_connection_state{db="pg",state="CONNECTED"} 1`, `dqm_leader{db="pg"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestQueueFull fills a queue to its depth limit: further publishes are
// refused with 429 queue_full, and nothing accepted is lost.
func TestQueueFull(t *testing.T) {
	cfg := pgConfig(t)
	pg := cfg.Databases["pg"]
	pg.QueueDepthLimit = 3
	pg.Queues["slow"] = config.Queue{Min: 1, Max: 1}
	s := start(t, cfg)
	var wg sync.WaitGroup
	codes := make(chan schemas.Code, 10)
	for range 10 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := s.Client().Query(ctx, "pg", 10, sleepFor(300*time.Millisecond), ingress.Queue("slow"))
			codes <- schemas.CodeOf(err)
		})
	}
	wg.Wait()
	close(codes)
	count := map[schemas.Code]int{}
	for c := range codes {
		count[c]++
	}
	if count[schemas.CodeQueueFull] == 0 || count[""] < 3 || count[""]+count[schemas.CodeQueueFull] != 10 {
		t.Fatalf("outcomes %v", count)
	}
	t.Logf("outcomes %v", count)

	// Through REST: fill the queue with three long requests, then ask.
	for range 3 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s.Client().Query(ctx, "pg", 10, sleepFor(2*time.Second), ingress.Queue("slow"))
		})
	}
	js, _ := jetstream.New(s.NATS())
	testutil.Eventually(t, 5*time.Second, "queue full", func() bool {
		st, err := js.Stream(context.Background(), schemas.StreamName("pg"))
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 3
	})
	status, body, h := call(t, s, "POST", "/api/conduit/query", `{"query_ref":10,"database":"pg","params":{"FLOAT":{"SECONDS":0}}}`)
	if status != 429 || body["error"] != "queue_full" || h.Get("Retry-After") == "" {
		t.Fatalf("REST on a full queue: %d %v", status, body)
	}
	wg.Wait()
}

// TestDeadLetter: a request that a consumer delivers max_deliver times
// without an answer goes to dqm.<db>.dlq with the reason, its requester
// gets a 503, and it leaves the work queue.
func TestDeadLetter(t *testing.T) {
	ns := testutil.NATS(t)
	nc := testutil.Connect(t, ns)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	db := &config.Database{Name: "dl", QueueDepthLimit: 100, MaxDeliver: 2, AckWaitMS: 200}
	st, err := lead.EnsureStream(ctx, js, db, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deadletter.EnsureStream(ctx, js, deadletter.Limits{}); err != nil {
		t.Fatal(err)
	}
	stop, err := lead.DeadLetters(ctx, nc, st, "dl", "/test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	dlq, _ := nc.SubscribeSync(schemas.DLQSubject("dl"))
	inbox := nats.NewInbox()
	replies, _ := nc.SubscribeSync(inbox)
	data, _ := json.Marshal(schemas.QueryRequest{QueryRef: 7})
	if _, err := js.PublishMsg(ctx, wireRequest("db.dl.slow", "doomed", inbox, time.Now().Add(time.Minute), data)); err != nil {
		t.Fatal(err)
	}
	// A "worker" that crashes on the request: it takes it and never answers.
	cons, _ := st.Consumer(ctx, schemas.ConsumerName("dl", "slow"))
	// It keeps pulling, as a worker does: the server notices the exhausted
	// message on the next delivery attempt.
	pulls, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer pulls.Stop()
	go func() {
		for {
			m, err := pulls.Next()
			if err != nil {
				return
			}
			m.Nak()
		}
	}()
	m, err := dlq.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no dead letter: %v", err)
	}
	if m.Header.Get(lead.HeaderDLQReason) == "" || m.Header.Get("ce-id") != "doomed" || string(m.Data) != string(data) {
		t.Fatalf("dead letter %v %s", m.Header, m.Data)
	}
	reply := nextReply(t, replies)
	if reply["error"] != "unavailable" || reply["status"] != 503.0 {
		t.Fatalf("reply %v", reply)
	}
	testutil.Eventually(t, 5*time.Second, "removed from the work queue", func() bool {
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs == 0
	})
}

// TestFailover runs two instances on a 3-node NATS cluster, kills the one
// holding the Lead lease mid-load, and checks that the other takes the
// lease within the TTL, heartbeats resume, and every one of 2,000 requests
// gets a successful reply. It runs DQM_FAILOVER_RUNS times (default 1, 3
// under CI), each on a new cluster; -count repeats the whole.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	runs := 1
	if testutil.InCI() {
		runs = 3
	}
	if v := os.Getenv("DQM_FAILOVER_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("DQM_FAILOVER_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	passed := 0
	for i := range runs {
		if t.Run(fmt.Sprintf("run%d", i+1), failover) {
			passed++
		}
	}
	t.Logf("failover: %d/%d runs passed", passed, runs)
}

func failover(t *testing.T) {
	cluster := testutil.Cluster(t, 3)
	cfg := testConfig(t)
	cfg.NATS.URL = testutil.URLs(cluster)
	demo := cfg.Databases["demo"]
	demo.LeadTTLS = 2
	demo.HeartbeatS = 1
	demo.AckWaitMS = 3000
	demo.DefaultTimeoutMS = 2000
	a := start(t, cfg)
	testutil.Eventually(t, 5*time.Second, "a leads", a.Lead("demo").IsLeader)
	cfgB := *cfg
	cfgB.HTTP.Listen = "127.0.0.1:0"
	b := start(t, &cfgB)

	nc, err := nats.Connect(testutil.URLs(cluster))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	beats := make(chan schemas.Heartbeat, 100)
	nc.Subscribe(schemas.HeartbeatSubject("demo"), func(m *nats.Msg) {
		var hb schemas.Heartbeat
		json.Unmarshal(m.Data, &hb)
		select {
		case beats <- hb:
		default:
		}
	})
	client, err := ingress.NewClient(nc)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var wg sync.WaitGroup
	var done atomic.Int32
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	// A failed check stops the requests still waiting and waits for them.
	base, stop := context.WithCancel(context.Background())
	defer wg.Wait()
	defer stop()
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(base, 60*time.Second)
			defer cancel()
			_, err := client.Query(ctx, "demo", 2, ints("N", i%10000), ingress.Queue("fast"))
			if err != nil {
				errs <- err
			}
			done.Add(1)
		})
	}
	defer func() {
		if t.Failed() { // where the requests were: queued, delivered, acked
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			js, _ := jetstream.New(nc)
			if c, err := js.Consumer(ctx, schemas.StreamName("demo"), schemas.ConsumerName("demo", "fast")); err == nil {
				if info, err := c.Info(ctx); err == nil {
					t.Logf("fast consumer: delivered %d, ack floor %d, pending %d, ack pending %d, waiting pulls %d, done %d",
						info.Delivered.Stream, info.AckFloor.Stream, info.NumPending, info.NumAckPending, info.NumWaiting, done.Load())
				}
			}
		}
	}()
	testutil.Eventually(t, 30*time.Second, "load under way", func() bool { return done.Load() > n/4 })
	killed := time.Now()
	a.Kill()
	testutil.Eventually(t, 10*time.Second, "b takes the lease", b.Lead("demo").IsLeader)
	took := time.Since(killed)
	t.Logf("failover: b leads %v after the kill (TTL 2s)", took.Round(time.Millisecond))
	// The lease key vanishes when JetStream expires it (the bucket's TTL,
	// internal/server/options.go), and nats-server's expiry check may run
	// up to 2 s after the due time; b then takes it at its next refresh.
	if bound := 2*time.Second + time.Second + 2*time.Second; took > bound {
		t.Errorf("failover took %v, over TTL plus one refresh plus JetStream's expiry slack (%v)", took, bound)
	}
	testutil.Eventually(t, 5*time.Second, "heartbeat from b", func() bool {
		for {
			select {
			case hb := <-beats:
				if hb.Instance == b.Instance() && hb.Leader {
					return true
				}
			default:
				return false
			}
		}
	})
	wg.Wait()
	close(errs)
	codes, failed := map[schemas.Code]int{}, 0
	for err := range errs {
		codes[schemas.CodeOf(err)]++
		if failed++; failed <= 5 {
			t.Errorf("request failed: %v", err)
		}
	}
	if len(codes) > 0 {
		t.Errorf("failed requests by code: %v", codes)
	}
}

// TestClusterForming: dqm starts beside a NATS cluster that has just
// started (no meta leader yet, peers not known): creating its buckets and
// streams is retried until the cluster places them, and queries are then
// answered.
func TestClusterForming(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	cluster := testutil.ClusterForming(t, 3)
	cfg := testConfig(t)
	cfg.NATS.URL = testutil.URLs(cluster)
	s := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().Query(ctx, "demo", 2, ints("N", 1), ingress.Queue("fast")); err != nil {
		t.Fatal(err)
	}
}

// TestLongQueryNotRedelivered: a query that runs longer than the ack wait
// is kept in progress, so JetStream does not hand it to another worker
// while it runs: it runs once and is answered once.
func TestLongQueryNotRedelivered(t *testing.T) {
	cfg := pgConfig(t)
	pg := cfg.Databases["pg"]
	pg.AckWaitMS = 1000
	pg.DefaultTimeoutMS = 1000
	pg.Queues["slow"] = config.Queue{Min: 2, Max: 2} // an idle worker that could take a redelivery
	s := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().Query(ctx, "pg", 10, sleepFor(2500*time.Millisecond), ingress.Queue("slow")); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(s.NATS())
	cons, err := js.Consumer(ctx, schemas.StreamName("pg"), schemas.ConsumerName("pg", "slow"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 || info.Delivered.Consumer != 1 {
		t.Fatalf("delivered %d times, %d redelivered", info.Delivered.Consumer, info.NumRedelivered)
	}
}
