package workers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// directCatalog is the unit tests' catalog with the read refRead on the
// direct lane (direct: true) or, with none, no direct entry at all.
func directCatalog(t *testing.T, direct bool) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Compile("demo", "fake", params.Question, 5*time.Second, []catalog.Entry{
		{Ref: refRead, Name: "read", SQL: "SELECT n FROM numbers WHERE n = :N", Queue: "fast", Direct: direct},
		{Ref: refWrite, Name: "write", SQL: "INSERT INTO numbers (n) VALUES (:N)", Queue: "fast"},
		{Ref: refSmall, Name: "small", SQL: "SELECT n FROM numbers", Queue: "fast", MaxRows: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// loads is a catalog that a test swaps, with the signal a Lead fires at
// each load (Config.CatalogChanged).
type loads struct {
	mu  sync.Mutex
	cat *catalog.Catalog
	ch  chan struct{}
}

func (l *loads) current() *catalog.Catalog { l.mu.Lock(); defer l.mu.Unlock(); return l.cat }

func (l *loads) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch == nil {
		l.ch = make(chan struct{})
	}
	return l.ch
}

func (l *loads) load(cat *catalog.Catalog) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cat = cat
	if l.ch != nil {
		close(l.ch)
		l.ch = nil
	}
}

// runWorker runs h's worker on a real stream and consumer of its tag
// (fast) with catalog l, until the returned stop.
func runWorker(t *testing.T, h *harness, l *loads) (stop func()) {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(h.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamName("demo"), Subjects: schemas.RequestSubjects("demo"),
		Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: schemas.ConsumerName("demo", "fast"),
		FilterSubject: schemas.RequestSubject("demo", "fast"), AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	h.w.cfg.Stream, h.w.cfg.Catalog, h.w.cfg.CatalogChanged = st, l.current, l.changed
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.w.Run(wctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// directRequest is queryMsg, for the direct lane: no inbox header, the
// reply goes to the NATS reply subject.
func directRequest(id string, ref int64, deadline time.Time) *nats.Msg {
	m := queryMsg(id, ref, "", deadline)
	m.Subject = schemas.DirectSubject("demo")
	delete(m.Header, schemas.HeaderReplyTo)
	return m
}

// ask sends m on the direct lane and decodes the reply's body.
func ask(t *testing.T, nc *nats.Conn, m *nats.Msg) (*nats.Msg, map[string]any) {
	t.Helper()
	r, err := nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatalf("direct request %s: %v", m.Header.Get(schemas.HeaderID), err)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Data, &body); err != nil {
		t.Fatalf("reply %q: %v", r.Data, err)
	}
	return r, body
}

// instances asks micro's discovery (INFO of the service) how many
// instances of the database's lane serve its endpoint.
func instances(t *testing.T, nc *nats.Conn) int {
	t.Helper()
	subj, err := micro.ControlSubject(micro.InfoVerb, schemas.DirectService("demo"), "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, data := range testutil.Gather(t, nc, subj) {
		var info micro.Info // with its endpoint, added just after the service shows
		if json.Unmarshal(data, &info) == nil && len(info.Endpoints) > 0 {
			n++
		}
	}
	return n
}

// TestDirectLane: a worker of a database with a direct entry serves the
// lane as a micro service instance. The direct read is answered there
// (queue_used direct, nothing in the stream); a read that is not direct
// and a write are refused 400 without running; an expired deadline is a
// 408 without running; a reply subject outside the allowed prefixes is
// neither run nor answered and is counted as rejected; micro's stats
// count the requests and the failures. A stopped worker hands a request
// still queued back as "no responders", and leaves the service.
func TestDirectLane(t *testing.T) {
	h := newHarness(t)
	h.w.cfg.Observe = nil // counted in h.m
	h.all.Unsubscribe()   // it would be a responder of every subject
	l := &loads{cat: directCatalog(t, true)}
	stop := runWorker(t, h, l)
	testutil.Eventually(t, 5*time.Second, "the lane is served", func() bool { return instances(t, h.nc) == 1 })

	r, body := ask(t, h.nc, directRequest("d-ok", refRead, time.Now().Add(5*time.Second)))
	if body["success"] != true || body["queue_used"] != schemas.Direct || body["row_count"] != 1.0 || body["status"] != 200.0 {
		t.Fatalf("direct read: %v", body)
	}
	if r.Header.Get(schemas.HeaderRequestID) != "d-ok" || r.Header.Get(schemas.HeaderType) != schemas.TypeQueryResult || r.Header.Get(micro.ErrorCodeHeader) != "" {
		t.Fatalf("reply headers %v", r.Header)
	}
	if n := promtest.ToFloat64(h.m.Requests.WithLabelValues("demo", schemas.Direct, "ok")); n != 1 {
		t.Fatalf("dqm_requests_total{tag=direct,outcome=ok} = %v", n)
	}

	_, runs := h.e.counts()
	for _, c := range []struct {
		ref  int64
		name string
	}{{refSmall, "a read that is not direct"}, {refWrite, "a write"}} {
		r, body := ask(t, h.nc, directRequest("d-refused-"+c.name, c.ref, time.Now().Add(5*time.Second)))
		if body["error"] != "bad_request" || !strings.Contains(body["message"].(string), "not on the direct lane") || r.Header.Get(micro.ErrorCodeHeader) != "400" {
			t.Fatalf("%s on the lane: %v %v", c.name, body, r.Header)
		}
	}
	_, body = ask(t, h.nc, directRequest("d-late", refRead, time.Now().Add(-time.Second)))
	if body["error"] != "timeout" || body["status"] != 408.0 {
		t.Fatalf("expired: %v", body)
	}
	if _, after := h.e.counts(); after != runs {
		t.Fatalf("%d statements ran for requests refused before running", after-runs)
	}

	// A hostile requester names dqm's own subjects as the reply subject.
	for i, to := range []string{"$KV.dqm_leaders.demo", "db.demo.fast", "svc.elsewhere"} {
		watch, _ := h.nc.SubscribeSync(to)
		m := directRequest("d-hostile-"+string(rune('a'+i)), refRead, time.Now().Add(5*time.Second))
		m.Reply = to
		if err := h.nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, "rejected and counted", func() bool {
			return promtest.ToFloat64(h.m.Rejected.WithLabelValues("demo", schemas.DLQReasonReplySubject)) == float64(i+1)
		})
		if got, err := watch.NextMsg(100 * time.Millisecond); err == nil {
			t.Fatalf("answered on %s: %s", to, got.Data)
		}
		watch.Unsubscribe()
	}
	if _, after := h.e.counts(); after != runs {
		t.Fatal("a request with a hostile reply subject ran")
	}

	stats := serviceStats(t, h.nc)
	if len(stats.Endpoints) != 1 || stats.Endpoints[0].Name != schemas.DirectEndpoint ||
		stats.Endpoints[0].Subject != schemas.DirectSubject("demo") || stats.Endpoints[0].NumRequests != 7 || stats.Endpoints[0].NumErrors != 3 {
		t.Fatalf("micro stats %+v", stats.Endpoints[0])
	}
	if stats.Version != "0.0.0" || stats.Metadata["worker"] != "DQM-Demo-01-F" {
		t.Fatalf("service identity %+v", stats.ServiceIdentity)
	}

	// Closed, the lane answers what still reaches it as no responders: the
	// client sends it to the queue.
	h.w.direct.close()
	if _, err := h.nc.RequestMsg(directRequest("d-closed", refRead, time.Now().Add(5*time.Second)), 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request to a closed lane: %v", err)
	}
	stop()
	if n := instances(t, h.nc); n != 0 {
		t.Fatalf("%d instances after the worker stopped", n)
	}
	if _, err := h.nc.RequestMsg(directRequest("d-stopped", refRead, time.Now().Add(5*time.Second)), 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request after the worker stopped: %v", err)
	}
}

func serviceStats(t *testing.T, nc *nats.Conn) micro.Stats {
	t.Helper()
	subj, _ := micro.ControlSubject(micro.StatsVerb, schemas.DirectService("demo"), "")
	m, err := nc.Request(subj, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var st micro.Stats
	if err := json.Unmarshal(m.Data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDirectBounds: the queue path's bounds hold on the lane — max_rows
// and the NATS max payload are a 413, a panic is a 500 — and the worker
// goes on answering.
func TestDirectBounds(t *testing.T) {
	h := newHarness(t)
	cat, err := catalog.Compile("demo", "fake", params.Question, 5*time.Second, []catalog.Entry{
		{Ref: refRead, Name: "read", SQL: "SELECT n FROM numbers WHERE n = :N", Queue: "fast", Direct: true, MaxRows: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	big := `[{"n":"` + strings.Repeat("x", int(h.nc.MaxPayload())) + `"}]`
	h.e.script = func(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
		switch v, _ := stmts[0].Args[0].(int64); v {
		case 2:
			return rows(big, 1)(ctx, stmts)
		case 3:
			return rows(`[{"n":1},{"n":2},{"n":3}]`, 3)(ctx, stmts)
		case 4:
			panic("boom")
		}
		return rows(`[{"n":1}]`, 1)(ctx, stmts)
	}
	runWorker(t, h, &loads{cat: cat})
	testutil.Eventually(t, 5*time.Second, "the lane is served", func() bool { return instances(t, h.nc) == 1 })
	withN := func(id string, n int) *nats.Msg {
		m := directRequest(id, refRead, time.Now().Add(5*time.Second))
		m.Data, _ = json.Marshal(schemas.QueryRequest{QueryRef: refRead, Params: schemas.Params{"INTEGER": {"N": json.RawMessage(strconv.Itoa(n))}}})
		return m
	}
	for _, c := range []struct {
		n      int
		status float64
		error  string
	}{{2, 413, "too_large"}, {3, 413, "too_large"}, {4, 500, "internal"}, {1, 200, ""}} {
		_, body := ask(t, h.nc, withN("d-bound-"+strconv.Itoa(c.n), c.n))
		if body["status"] != c.status || c.error != "" && body["error"] != c.error {
			t.Fatalf("N=%d: %v", c.n, body)
		}
	}
}

// TestDirectStructured: a structured-mode request on the lane gets a
// structured reply, on the NATS reply subject.
func TestDirectStructured(t *testing.T) {
	h := newHarness(t)
	runWorker(t, h, &loads{cat: directCatalog(t, true)})
	testutil.Eventually(t, 5*time.Second, "the lane is served", func() bool { return instances(t, h.nc) == 1 })
	ev, _ := json.Marshal(map[string]any{"specversion": "1.0", "type": schemas.TypeQueryRequest, "source": "/svc/test", "id": "d-structured",
		"datacontenttype": "application/json", "data": map[string]any{"query_ref": refRead, "params": map[string]any{"INTEGER": map[string]any{"N": 1}}}})
	m := &nats.Msg{Subject: schemas.DirectSubject("demo"), Header: nats.Header{"content-type": {schemas.ContentTypeStructured}}, Data: ev}
	r, err := h.nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Type      string         `json:"type"`
		RequestID string         `json:"dqmrequestid"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.Data, &reply); err != nil || reply.Type != schemas.TypeQueryResult || reply.RequestID != "d-structured" ||
		reply.Data["success"] != true || reply.Data["queue_used"] != schemas.Direct {
		t.Fatalf("structured reply %s (%v)", r.Data, err)
	}
}

// TestDirectFollowsCatalog: the lane is served while the catalog has a
// direct entry, from the load that adds one to the load that removes it;
// direct_reads serves it whatever the catalog says.
func TestDirectFollowsCatalog(t *testing.T) {
	h := newHarness(t)
	l := &loads{cat: directCatalog(t, false)}
	runWorker(t, h, l)
	if n := instances(t, h.nc); n != 0 {
		t.Fatalf("%d instances without a direct entry", n)
	}
	l.load(directCatalog(t, true))
	testutil.Eventually(t, 5*time.Second, "served after the load that adds a direct entry", func() bool { return instances(t, h.nc) == 1 })
	l.load(directCatalog(t, false))
	testutil.Eventually(t, 5*time.Second, "not served after the load that removes it", func() bool { return instances(t, h.nc) == 0 })

	h2 := newHarness(t)
	h2.w.cfg.DirectReads = true
	runWorker(t, h2, &loads{cat: directCatalog(t, false)})
	testutil.Eventually(t, 5*time.Second, "direct_reads serves the lane", func() bool { return instances(t, h2.nc) == 1 })
}

func TestServiceVersion(t *testing.T) {
	old := metrics.Version
	t.Cleanup(func() { metrics.Version = old })
	for in, want := range map[string]string{"dev": "0.0.0", "v1.4.2": "1.4.2", "2.0.0-rc.1": "2.0.0-rc.1", "1.2": "0.0.0", "": "0.0.0"} {
		metrics.Version = in
		if got := serviceVersion(); got != want {
			t.Errorf("version %q: %q, want %q", in, got, want)
		}
	}
}
