package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

func ints(kv ...any) schemas.Params {
	g := map[string]json.RawMessage{}
	for i := 0; i < len(kv); i += 2 {
		b, _ := json.Marshal(kv[i+1])
		g[kv[i].(string)] = b
	}
	return schemas.Params{"INTEGER": g}
}

func TestClient(t *testing.T) {
	s := start(t, testConfig(t))
	c := s.Client()
	ctx := context.Background()
	cases := []struct {
		name  string
		db    string
		ref   int64
		p     schemas.Params
		queue string
		code  schemas.Code
	}{
		{"success", "demo", 55, ints("START", 1, "FINISH", 10), "slow", ""},
		{"unknown database", "nope", 55, nil, "slow", schemas.CodeInvalidDatabase},
		{"unknown ref", "demo", 999, nil, "fast", schemas.CodeQueryNotFound},
		{"missing param", "demo", 55, ints("START", 1), "slow", schemas.CodeBadParams},
		{"wrong type", "demo", 2, schemas.Params{"INTEGER": {"N": json.RawMessage(`"x"`)}}, "fast", schemas.CodeBadParams},
		{"database error", "demo", 100, nil, "fast", schemas.CodeDatabaseError},
		{"timeout in database", "demo", 101, nil, "slow", schemas.CodeTimeout},
		{"bad queue", "demo", 2, nil, "turbo", schemas.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Query(ctx, tc.db, tc.ref, tc.p, client.Queue(tc.queue))
			if got := schemas.CodeOf(err); got != tc.code {
				t.Fatalf("code %q, want %q (err %v, res %+v)", got, tc.code, err, res)
			}
			if res == nil || res.Success != (tc.code == "") || res.Error != tc.code {
				t.Fatalf("result %+v", res)
			}
		})
	}
	t.Run("private refs are allowed to trusted clients", func(t *testing.T) {
		if _, err := c.Query(ctx, "demo", 4, nil, client.Queue("fast")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deadline already passed in queue", func(t *testing.T) {
		// Stop the fast workers from seeing it in time: a deadline in the
		// past is answered 408 without running.
		nc := s.NATS()
		inbox := nats.NewInbox()
		sub, _ := nc.SubscribeSync(inbox)
		defer sub.Unsubscribe()
		data, _ := json.Marshal(schemas.QueryRequest{QueryRef: 2, Params: ints("N", 1)})
		js, _ := jetstream.New(nc)
		msg := wireRequest("db.demo.fast", "expired-1", inbox, time.Now().Add(-time.Second), data)
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
		reply := nextReply(t, sub)
		if reply["error"] != "timeout" || reply["status"] != 408.0 {
			t.Fatalf("reply %v", reply)
		}
	})
}

// TestMalformedEvents publishes broken events straight to the stream: each
// gets a bad_request reply on its inbox and is acked, never redelivered.
func TestMalformedEvents(t *testing.T) {
	s := start(t, testConfig(t))
	nc := s.NATS()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	cases := []struct {
		name   string
		mutate func(m *nats.Msg)
	}{
		{"not json", func(m *nats.Msg) { m.Data = []byte("{nope") }},
		{"no query_ref", func(m *nats.Msg) { m.Data = []byte(`{"params":{}}`) }},
		{"wrong type", func(m *nats.Msg) { m.Header.Set("ce-type", "com.example.other") }},
		{"no specversion", func(m *nats.Msg) { m.Header.Del("ce-specversion") }},
		{"no id", func(m *nats.Msg) { m.Header.Del("ce-id") }},
		{"bad deadline", func(m *nats.Msg) { m.Header.Set("ce-dqmdeadline", "tomorrow") }},
		{"bad params", func(m *nats.Msg) { m.Data = []byte(`{"query_ref":2,"params":{"INTEGER":{"N":"x"}}}`) }},
		{"xml", func(m *nats.Msg) { m.Header.Set("content-type", "application/xml") }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inbox := nats.NewInbox()
			sub, _ := nc.SubscribeSync(inbox)
			defer sub.Unsubscribe()
			data, _ := json.Marshal(schemas.QueryRequest{QueryRef: 2, Params: ints("N", 1)})
			msg := wireRequest("db.demo.fast", "bad-"+string(rune('a'+i)), inbox, time.Now().Add(10*time.Second), data)
			tc.mutate(msg)
			if _, err := js.PublishMsg(ctx, msg); err != nil {
				t.Fatal(err)
			}
			reply := nextReply(t, sub)
			if reply["success"] != false || (reply["error"] != "bad_request" && reply["error"] != "bad_params") {
				t.Fatalf("reply %v", reply)
			}
		})
	}
	cons, err := js.Consumer(ctx, schemas.StreamName("demo"), schemas.ConsumerName("demo", "fast"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "every malformed event acked", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	})
}

func wireRequest(subject, id, inbox string, deadline time.Time, data []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-type", schemas.TypeQueryRequest)
	m.Header.Set("ce-source", "/test")
	m.Header.Set("ce-id", id)
	m.Header.Set("ce-time", time.Now().UTC().Format(time.RFC3339Nano))
	m.Header.Set("ce-dqmdeadline", deadline.UTC().Format(time.RFC3339Nano))
	m.Header.Set("content-type", "application/json")
	m.Header.Set(schemas.HeaderReplyTo, inbox)
	m.Data = data
	return m
}

func nextReply(t *testing.T, sub *nats.Subscription) map[string]any {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	if m.Header.Get("ce-type") != schemas.TypeQueryResult {
		t.Errorf("reply ce-type %q", m.Header.Get("ce-type"))
	}
	var body map[string]any
	if err := json.Unmarshal(m.Data, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestUnreachableDatabase: databases that cannot be opened (a bad SQLite
// path, wrong PostgreSQL credentials, a MariaDB port nobody listens on)
// leave the instance up: each is not ready, /readyz names it, its queries
// get 503 through REST and the Go client, and the other database keeps
// serving.
func TestUnreachableDatabase(t *testing.T) {
	cfg := testConfig(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.PostgresURL(t)
	testutil.MySQLURL(t)
	broken := map[string]struct{ engine, dsn string }{
		"badpath":  {"sqlite", filepath.Join(blocker, "sub", "x.db")}, // a path under a file
		"badcreds": {"postgres", "postgresql://nosuchuser:wrong@127.0.0.1:5432/test?sslmode=disable"},
		"noserver": {"mysql", "mysql://root@127.0.0.1:1/test"},
	}
	for name, b := range broken {
		db := *cfg.Databases["demo"]
		db.Name, db.Engine, db.DSN = name, b.engine, config.DSN(b.dsn)
		db.Catalog.File = ""
		cfg.Databases[name] = &db
	}
	s, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	testutil.Eventually(t, 10*time.Second, "demo ready", func() bool { return s.Status()["demo"].Ready })
	status, body, h := call(t, s, "GET", "/readyz", "")
	if status != 503 || h.Get("Retry-After") == "" || len(body["not_ready"].([]any)) != len(broken) {
		t.Fatalf("readyz %d %v", status, body)
	}
	for name := range broken {
		t.Run(name, func(t *testing.T) {
			testutil.Eventually(t, 10*time.Second, "ERROR state", func() bool { return s.Status()[name].State == "ERROR" })
			status, body, h := call(t, s, "POST", "/api/conduit/query", `{"query_ref":1,"database":"`+name+`"}`)
			if status != 503 || body["error"] != "unavailable" || h.Get("Retry-After") == "" {
				t.Fatalf("REST %d %v", status, body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := s.Client().Query(ctx, name, 1, nil, client.Queue("fast"))
			if code := schemas.CodeOf(err); code != schemas.CodeUnavailable {
				t.Fatalf("client: %v", err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Fatalf("the password leaked into the error: %v", err)
			}
		})
	}
	if status, _, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":1,"database":"demo"}`); status != 200 {
		t.Errorf("demo status %d", status)
	}
}

// TestLanding sends requests while the instance shuts down: every request
// gets exactly one reply, either from the landing instance (in flight) or
// from a second instance that picks up what was left unacked.
func TestLanding(t *testing.T) {
	ns := testutil.NATS(t)
	cfg := pgConfig(t)
	cfg.NATS.URL = ns.ClientURL()
	a := start(t, cfg)

	nc := testutil.Connect(t, ns)
	cl, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	results := make([]error, n)
	started := make(chan struct{}, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			started <- struct{}{}
			// A query of a few ms, so some are in flight at shutdown.
			_, results[i] = cl.Query(ctx, "pg", 10, sleepFor(5*time.Millisecond), client.Queue("slow"))
		})
	}
	for range n / 4 {
		<-started
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// A second instance on the same NATS and database takes the rest.
	cfg2 := *cfg
	cfg2.HTTP.Listen = "127.0.0.1:0"
	start(t, &cfg2)
	wg.Wait()
	for i, err := range results {
		if err != nil {
			var se *schemas.Error
			errors.As(err, &se)
			t.Errorf("request %d: %v", i, err)
		}
	}
}

// TestRedeliveredWriteRunsOnce: a write whose request comes again with the
// same ce-id (a worker died between commit and ack, and JetStream
// redelivered it) is answered without running a second time.
func TestRedeliveredWriteRunsOnce(t *testing.T) {
	s := start(t, testConfig(t))
	nc := s.NATS()
	js, _ := jetstream.New(nc)
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	defer sub.Unsubscribe()
	data, _ := json.Marshal(schemas.QueryRequest{QueryRef: 104, Params: ints("N", 777777)})
	for i, msgID := range []string{"first", "second"} {
		m := wireRequest("db.demo.medium", "write-once", inbox, time.Now().Add(10*time.Second), data)
		m.Header.Set("Nats-Msg-Id", msgID) // past the publish dedupe: a redelivery
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		reply := nextReply(t, sub)
		if reply["success"] != true {
			t.Fatalf("delivery %d: %v", i, reply)
		}
		if i == 1 && !strings.Contains(fmt.Sprint(reply["message"]), "already applied") {
			t.Fatalf("redelivery ran again: %v", reply)
		}
	}
	_, body, _ := call(t, s, "POST", "/api/conduit/query", `{"query_ref":1,"database":"demo"}`)
	if n := body["rows"].([]any)[0].(map[string]any)["total"]; n != 10001.0 {
		t.Fatalf("rows after two deliveries of one insert: %v", n)
	}
}

// TestLandingBound: a query still running when the landing bound passes is
// cancelled and its request NAKed; shutdown returns promptly, and another
// instance answers the request.
func TestLandingBound(t *testing.T) {
	ns := testutil.NATS(t)
	cfg := pgConfig(t)
	cfg.NATS.URL = ns.ClientURL()
	a := start(t, cfg)
	cl, err := client.New(testutil.Connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := cl.Query(ctx, "pg", 10, sleepFor(5*time.Second), client.Queue("slow"))
		done <- err
	}()
	testutil.Eventually(t, 5*time.Second, "the query is running", func() bool { return pgRunning(a) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	a.Shutdown(ctx)
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("shutdown took %v past a 300 ms bound", took)
	}
	cfg2 := *cfg
	cfg2.HTTP.Listen = "127.0.0.1:0"
	start(t, &cfg2)
	if err := <-done; err != nil {
		t.Fatalf("the request was lost: %v", err)
	}
}

// pgRunning reports whether a worker holds the slow queue's one request.
func pgRunning(s *server.Server) bool {
	js, _ := jetstream.New(s.NATS())
	cons, err := js.Consumer(context.Background(), schemas.StreamName("pg"), schemas.ConsumerName("pg", "slow"))
	if err != nil {
		return false
	}
	info, err := cons.Info(context.Background())
	return err == nil && info.NumAckPending == 1
}

// TestStartFailsCleanly: an HTTP address that cannot be bound is an error
// from Start, after which the embedded NATS it launched is gone again.
func TestStartFailsCleanly(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg.HTTP.Listen = ln.Addr().String()
	cfg.NATS.Listen = "127.0.0.1:0"
	if _, err := server.Start(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "http.listen") {
		t.Fatalf("err %v", err)
	}
}
