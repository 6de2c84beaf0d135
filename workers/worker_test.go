package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Catalog of the unit tests: a read, a write, a read bounded to 2 rows.
const (
	refRead  = 1
	refWrite = 2
	refSmall = 3
)

type harness struct {
	t       *testing.T
	w       *Worker
	e       *fakeEngine
	nc      *nats.Conn
	all     *nats.Subscription // every subject, to see where the worker published
	m       *metrics.Metrics
	abort   context.CancelFunc
	observe []schemas.Code
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	nc := testutil.Connect(t, testutil.NATS(t))
	cat, err := catalog.Compile("demo", "fake", params.Question, 5*time.Second, []catalog.Entry{
		{Ref: refRead, Name: "read", SQL: "SELECT n FROM numbers WHERE n = :N", Queue: "fast"},
		{Ref: refWrite, Name: "write", SQL: "INSERT INTO numbers (n) VALUES (:N)", Queue: "fast"},
		{Ref: refSmall, Name: "small", SQL: "SELECT n FROM numbers", Queue: "fast", MaxRows: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := nc.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	abort, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, e: &fakeEngine{script: rows(`[{"n":1}]`, 1), applied: map[string]bool{}}, nc: nc, all: all, m: metrics.New(), abort: cancel}
	h.w = New(Config{
		Database: "demo", Label: "DQM-Demo-01-F", Tags: []string{"fast"}, Engine: h.e,
		Catalog: func() *catalog.Catalog { return cat }, NC: nc, Source: "/dqm/test",
		Idempotent: true, Abort: abort, Metrics: h.m,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(_ string, code schemas.Code, _, _ time.Duration) { h.observe = append(h.observe, code) },
	})
	return h
}

// queryMsg builds a valid request for ref with {"INTEGER":{"N":n}}.
func queryMsg(id string, ref int64, replyTo string, deadline time.Time) *nats.Msg {
	data, _ := json.Marshal(schemas.QueryRequest{QueryRef: ref, Params: schemas.Params{"INTEGER": {"N": json.RawMessage("1")}}})
	if ref == refSmall {
		data, _ = json.Marshal(schemas.QueryRequest{QueryRef: ref})
	}
	return wire.NewRequest("db.demo.fast", id, "/svc/test", replyTo, deadline, data, ref)
}

// handle runs m through the worker and returns the message as settled and
// everything the worker published, by subject.
func (h *harness) handle(m *nats.Msg) (*fakeMsg, map[string][]*nats.Msg) {
	h.t.Helper()
	fm := newFakeMsg(m)
	h.w.handle(context.Background(), "fast", fm)
	if err := h.nc.Flush(); err != nil {
		h.t.Fatal(err)
	}
	out := map[string][]*nats.Msg{}
	for {
		got, err := h.all.NextMsg(50 * time.Millisecond)
		if err != nil {
			break
		}
		out[got.Subject] = append(out[got.Subject], got)
	}
	return fm, out
}

// reply is the one reply on inbox.
func reply(t *testing.T, out map[string][]*nats.Msg, inbox string) (*nats.Msg, map[string]any) {
	t.Helper()
	if len(out[inbox]) != 1 {
		t.Fatalf("want one reply on %s, got %d (published: %v)", inbox, len(out[inbox]), subjects(out))
	}
	m := out[inbox][0]
	var body map[string]any
	if err := json.Unmarshal(m.Data, &body); err != nil {
		t.Fatal(err)
	}
	return m, body
}

func subjects(out map[string][]*nats.Msg) []string {
	var s []string
	for k := range out {
		s = append(s, k)
	}
	return s
}

func TestSuccess(t *testing.T) {
	h := newHarness(t)
	inbox := nats.NewInbox()
	fm, out := h.handle(queryMsg("ok-1", refRead, inbox, time.Now().Add(time.Minute)))
	m, body := reply(t, out, inbox)
	if body["success"] != true || body["row_count"] != 1.0 || body["queue_used"] != "fast" || body["status"] != 200.0 {
		t.Fatalf("reply %v", body)
	}
	if m.Header.Get(schemas.HeaderRequestID) != "ok-1" || m.Header.Get(schemas.HeaderType) != schemas.TypeQueryResult {
		t.Fatalf("reply headers %v", m.Header)
	}
	if fm.outcome() != "ack" || len(h.observe) != 1 || h.observe[0] != "" {
		t.Fatalf("settled %q, observed %v", fm.outcome(), h.observe)
	}
	if p, f := h.w.Stats(); p != 1 || f != 0 {
		t.Fatalf("stats %d %d", p, f)
	}
}

func TestBadRequest(t *testing.T) {
	h := newHarness(t)
	inbox := nats.NewInbox()
	m := queryMsg("bad-1", refRead, inbox, time.Time{})
	m.Data = []byte("{")
	fm, out := h.handle(m)
	if _, body := reply(t, out, inbox); body["error"] != "bad_request" || body["status"] != 400.0 {
		t.Fatalf("reply %v", body)
	}
	m = queryMsg("bad-2", refRead, inbox, time.Time{})
	m.Data = []byte(`{"query_ref":1,"params":{"INTEGER":{"N":"x"}}}`)
	fm2, out := h.handle(m)
	if _, body := reply(t, out, inbox); body["error"] != "bad_params" {
		t.Fatalf("reply %v", body)
	}
	if _, runs := h.e.counts(); runs != 0 || fm.outcome() != "ack" || fm2.outcome() != "ack" {
		t.Fatalf("runs %d, settled %q %q", runs, fm.outcome(), fm2.outcome())
	}
}

func TestDeadlinePassed(t *testing.T) {
	h := newHarness(t)
	inbox := nats.NewInbox()
	fm, out := h.handle(queryMsg("late-1", refRead, inbox, time.Now().Add(-time.Second)))
	if _, body := reply(t, out, inbox); body["error"] != "timeout" || body["status"] != 408.0 {
		t.Fatalf("reply %v", body)
	}
	if _, runs := h.e.counts(); runs != 0 || fm.outcome() != "ack" {
		t.Fatalf("runs %d, settled %q", runs, fm.outcome())
	}
}

func TestIdempotentDuplicate(t *testing.T) {
	h := newHarness(t)
	inbox := nats.NewInbox()
	_, out := h.handle(queryMsg("write-1", refWrite, inbox, time.Time{}))
	_, body := reply(t, out, inbox)
	if body["success"] != true || len(body["affected_rows"].([]any)) != 1 {
		t.Fatalf("first delivery %v", body)
	}
	if len(out["dqm.demo.invalidate.numbers"]) != 1 {
		t.Fatalf("a write invalidates its table before the reply: %v", subjects(out))
	}
	fm, out := h.handle(queryMsg("write-1", refWrite, inbox, time.Time{}))
	_, again := reply(t, out, inbox)
	if again["success"] != true || !strings.Contains(again["message"].(string), "already applied") {
		t.Fatalf("redelivery %v", again)
	}
	// The first attempt's outcome, from its record: rows and counts.
	for _, k := range []string{"rows", "row_count", "affected_rows"} {
		if fmt.Sprint(again[k]) != fmt.Sprint(body[k]) {
			t.Errorf("redelivery %s = %v, first %v", k, again[k], body[k])
		}
	}
	if _, runs := h.e.counts(); runs != 1 || fm.outcome() != "ack" {
		t.Fatalf("the write ran %d times; settled %q", runs, fm.outcome())
	}
	// The same id with another body: refused, not run.
	other := queryMsg("write-1", refWrite, inbox, time.Time{})
	other.Data = []byte(`{"query_ref":2,"params":{"INTEGER":{"N":2}}}`)
	_, out = h.handle(other)
	if _, body := reply(t, out, inbox); body["error"] != "idempotency_mismatch" || body["status"] != 422.0 {
		t.Fatalf("another body under the same id: %v", body)
	}
	if _, runs := h.e.counts(); runs != 1 {
		t.Fatalf("the write ran %d times", runs)
	}
}

func TestRetryOnce(t *testing.T) {
	deadlock := &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: "40P01", Message: "deadlock detected", Retryable: true}
	for _, c := range []struct {
		name     string
		failures int
		want     any // success
		runs     int
	}{{"cleared", 1, true, 2}, {"twice", 2, false, 2}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			left := c.failures
			h.e.script = func(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
				if left > 0 {
					left--
					return nil, deadlock
				}
				return rows(`[{"n":1}]`, 1)(ctx, stmts)
			}
			inbox := nats.NewInbox()
			_, out := h.handle(queryMsg("retry-"+c.name, refRead, inbox, time.Time{}))
			if _, body := reply(t, out, inbox); body["success"] != c.want {
				t.Fatalf("reply %v", body)
			}
			if _, runs := h.e.counts(); runs != c.runs {
				t.Fatalf("runs %d, want %d", runs, c.runs)
			}
		})
	}
}

// TestConnLost: a connection found dead is dropped and the next run
// reconnects. A read runs again at once; a write runs again only when its
// idempotency record shows it did not commit; a second loss is a 503.
func TestConnLost(t *testing.T) {
	lostErr := &engines.DatabaseError{Code: schemas.CodeUnavailable, Message: "gone", Err: engines.ErrConnLost}
	for _, c := range []struct {
		name string
		ref  int64
		// losses is how many runs fail; committed makes the first failing
		// run commit before its connection dies.
		losses    int
		committed bool
		want      any // success
		runs      int
		message   string
	}{
		{"read once", refRead, 1, false, true, 2, ""},
		{"read twice", refRead, 2, false, false, 2, ""},
		{"write not committed", refWrite, 1, false, true, 2, ""},
		{"write committed", refWrite, 1, true, true, 1, "applied before the connection was lost"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			left := c.losses
			h.e.script = func(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
				if left > 0 {
					left--
					if c.committed {
						h.e.mu.Lock()
						h.e.applied["lost-"+c.name] = true
						h.e.mu.Unlock()
					}
					return nil, lostErr
				}
				return rows(`[{"n":1}]`, 1)(ctx, stmts)
			}
			inbox := nats.NewInbox()
			_, out := h.handle(queryMsg("lost-"+c.name, c.ref, inbox, time.Time{}))
			_, body := reply(t, out, inbox)
			if body["success"] != c.want || (c.want == false && body["error"] != "unavailable") {
				t.Fatalf("reply %v", body)
			}
			if c.message != "" && body["message"] != c.message {
				t.Fatalf("message %v", body["message"])
			}
			// Every loss drops the connection; whatever runs next (the
			// query again, or the idempotency check) opens a fresh one.
			if opens, runs := h.e.counts(); runs != c.runs || opens != 2 {
				t.Fatalf("runs %d (want %d), opens %d (want 2)", runs, c.runs, opens)
			}
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	h := newHarness(t)
	h.e.script = func(context.Context, []engines.Statement) (*engines.Result, error) { panic("driver bug") }
	inbox := nats.NewInbox()
	req := queryMsg("panic-1", refRead, inbox, time.Time{})
	fm, out := h.handle(req)
	if _, body := reply(t, out, inbox); body["error"] != "internal" || body["status"] != 500.0 {
		t.Fatalf("reply %v", body)
	}
	if fm.outcome() != "term" {
		t.Fatalf("settled %q, want term", fm.outcome())
	}
	dl := out[schemas.DLQSubject("demo")]
	if len(dl) != 1 {
		t.Fatalf("dead letters %d (published: %v)", len(dl), subjects(out))
	}
	if g := dl[0].Header; g.Get(schemas.HeaderDLQReason) != "panic" || g.Get(schemas.HeaderID) != "panic-1" ||
		g.Get(schemas.HeaderReplyTo) != inbox || g.Get(schemas.HeaderDLQSubject) != "db.demo.fast" || g.Get(schemas.HeaderDLQStreamSeq) != "7" ||
		string(dl[0].Data) != string(req.Data) {
		t.Fatalf("dead letter %v %s", g, dl[0].Data)
	}
	// The worker goes on, on a fresh connection.
	h.e.script = rows(`[{"n":1}]`, 1)
	fm, out = h.handle(queryMsg("panic-2", refRead, inbox, time.Time{}))
	if _, body := reply(t, out, inbox); body["success"] != true || fm.outcome() != "ack" {
		t.Fatalf("next request %v, settled %q", body, fm.outcome())
	}
	if opens, _ := h.e.counts(); opens != 2 {
		t.Fatalf("opens %d: the panicked connection is replaced", opens)
	}
	if !strings.Contains(scrape(t, h.m), `dqm_requests_rejected_total{db="demo",reason="panic"} 1`) {
		t.Fatal("panic not counted")
	}
}

func TestReplySubjectRejected(t *testing.T) {
	for _, to := range []string{"", "dqm.demo.heartbeat", "$JS.API.STREAM.DELETE.DQM_DEMO", "db.demo.fast", "svc.orders", "_INBOX.*", "_INBOX..x"} {
		t.Run(to, func(t *testing.T) {
			h := newHarness(t)
			m := queryMsg("rej-1", refWrite, to, time.Time{})
			if to == "svc.orders" {
				m.Data = []byte("{") // malformed too: still not answered
			}
			fm, out := h.handle(m)
			if fm.outcome() != "term" {
				t.Fatalf("settled %q, want term", fm.outcome())
			}
			if _, runs := h.e.counts(); runs != 0 {
				t.Fatal("a rejected request ran")
			}
			for subj := range out {
				if subj != schemas.DLQSubject("demo") {
					t.Fatalf("published to %s", subj)
				}
			}
			if dl := out[schemas.DLQSubject("demo")]; len(dl) != 1 || dl[0].Header.Get(schemas.HeaderDLQReason) != "reply_subject" {
				t.Fatalf("dead letter %v", dl)
			}
			if !strings.Contains(scrape(t, h.m), `dqm_requests_rejected_total{db="demo",reason="reply_subject"} 1`) {
				t.Fatal("rejection not counted")
			}
		})
	}
}

func TestAllowedReplyPrefixes(t *testing.T) {
	h := newHarness(t)
	h.w.cfg.ReplyPrefixes = []string{"svc.replies."}
	fm, out := h.handle(queryMsg("pfx-1", refRead, "svc.replies.a1", time.Time{}))
	if _, body := reply(t, out, "svc.replies.a1"); body["success"] != true || fm.outcome() != "ack" {
		t.Fatalf("reply %v", body)
	}
	if fm, _ := h.handle(queryMsg("pfx-2", refRead, nats.NewInbox(), time.Time{})); fm.outcome() != "term" {
		t.Fatal("_INBOX. is not allowed once the prefixes say otherwise")
	}
}

func TestTooManyRows(t *testing.T) {
	h := newHarness(t)
	h.e.script = rows(`[{"n":1},{"n":2},{"n":3}]`, 3)
	inbox := nats.NewInbox()
	fm, out := h.handle(queryMsg("rows-1", refSmall, inbox, time.Time{}))
	_, body := reply(t, out, inbox)
	if body["error"] != "too_large" || body["status"] != 413.0 || body["message"] != "result has more than 2 rows (max_rows)" {
		t.Fatalf("reply %v", body)
	}
	if fm.outcome() != "ack" {
		t.Fatalf("settled %q: a too-large result is answered once, never re-run", fm.outcome())
	}
}

func TestTooManyBytes(t *testing.T) {
	h := newHarness(t)
	big := `[{"n":"` + strings.Repeat("x", int(h.nc.MaxPayload())) + `"}]`
	h.e.script = rows(big, 1)
	inbox := nats.NewInbox()
	fm, out := h.handle(queryMsg("bytes-1", refRead, inbox, time.Time{}))
	_, body := reply(t, out, inbox)
	if body["error"] != "too_large" || !strings.Contains(body["message"].(string), "exceeds the NATS max payload of") {
		t.Fatalf("reply %v", body)
	}
	if _, runs := h.e.counts(); runs != 1 || fm.outcome() != "ack" {
		t.Fatalf("runs %d, settled %q", runs, fm.outcome())
	}
}

func TestLandingAbortNAKs(t *testing.T) {
	h := newHarness(t)
	h.e.script = func(ctx context.Context, _ []engines.Statement) (*engines.Result, error) {
		h.abort() // the landing bound passes while the query runs
		<-ctx.Done()
		return nil, &engines.DatabaseError{Code: schemas.CodeTimeout, Message: "canceled", Err: ctx.Err()}
	}
	inbox := nats.NewInbox()
	fm, out := h.handle(queryMsg("land-1", refRead, inbox, time.Time{}))
	if fm.outcome() != "nak" || len(out[inbox]) != 0 {
		t.Fatalf("settled %q, replies %d", fm.outcome(), len(out[inbox]))
	}
}

// TestChain: build wraps the first step outermost.
func TestChain(t *testing.T) {
	var trail []string
	mark := func(name string) step[handler] {
		return step[handler]{name, func(next handler) handler {
			return func(ctx context.Context, r *request) *result {
				trail = append(trail, name)
				return next(ctx, r)
			}
		}}
	}
	build(handler(func(context.Context, *request) *result { trail = append(trail, "h"); return &result{} }),
		[]step[handler]{mark("a"), mark("b")})(context.Background(), &request{})
	if strings.Join(trail, "") != "abh" {
		t.Fatalf("order %v", trail)
	}
}

// TestChainOrder holds the request path in its order: each step relies
// on those outside it (settle acks after respond published; respond
// answers what landing, check and deadline decided; idempotency's
// record holds what retry runs again). Changing the order is a design
// change: change doc.go's reasons with this list.
func TestChainOrder(t *testing.T) {
	h := newHarness(t)
	want := []string{"observe", "recovery", "settle", "decode", "trace", "guard", "respond",
		"landing", "check", "deadline", "resolve", "lane", "idempotency", "retry", "execute"}
	if got := h.w.stepNames(); !slices.Equal(got, want) {
		t.Fatalf("request path\n got %v\nwant %v", got, want)
	}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestLongQueryKeptInProgress: a query that may outlive half the ack wait
// tells JetStream it is still being worked on, so it is not redelivered.
func TestLongQueryKeptInProgress(t *testing.T) {
	h := newHarness(t)
	h.w.cfg.AckWait = 100 * time.Millisecond
	var fm *fakeMsg
	h.e.script = func(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
		testutil.Eventually(t, 5*time.Second, "an in-progress mark", func() bool {
			fm.mu.Lock()
			defer fm.mu.Unlock()
			return fm.progress > 0
		})
		return rows(`[{"n":1}]`, 1)(ctx, stmts)
	}
	inbox := nats.NewInbox()
	fm = newFakeMsg(queryMsg("long-1", refRead, inbox, time.Time{}))
	h.w.handle(context.Background(), "fast", fm)
	if fm.outcome() != "ack" {
		t.Fatalf("settled %q", fm.outcome())
	}
}

func TestOtherDatabase(t *testing.T) {
	h := newHarness(t)
	inbox := nats.NewInbox()
	m := queryMsg("other-1", refRead, inbox, time.Time{})
	m.Subject = "db.other.fast"
	fm, out := h.handle(m)
	if _, body := reply(t, out, inbox); body["error"] != "invalid_database" || fm.outcome() != "ack" {
		t.Fatalf("reply %v, settled %q", body, fm.outcome())
	}
}
