package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/wire"
)

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Demo()
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.NATS.StoreDir = filepath.Join(dir, "nats")
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Databases["demo"].DSN = config.DSN(filepath.Join(dir, "demo.db"))
	s, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	testutil.Eventually(t, 10*time.Second, "ready", s.Ready)
	// Another process would use a config pointing at the instance's NATS.
	path := filepath.Join(dir, "cli.json")
	os.WriteFile(path, []byte(`{"nats":{"url":"`+s.NATS().ConnectedUrl()+`"}}`), 0o644)
	testutil.Eventually(t, 10*time.Second, "lead", s.Lead("demo").IsLeader)
	testutil.Eventually(t, 10*time.Second, "status in KV", func() bool {
		var out bytes.Buffer
		run(context.Background(), []string{"status", "-config", filepath.Join(dir, "cli.json")}, &out, &out)
		return strings.Contains(out.String(), "DQM-Demo-04-C")
	})

	full := filepath.Join(dir, "full.json")
	os.WriteFile(full, []byte(`{"databases":{"demo":{"engine":"sqlite","dsn":"`+filepath.Join(dir, "demo.db")+`"}}}`), 0o644)
	fresh := filepath.Join(dir, "fresh.json")
	os.WriteFile(fresh, []byte(`{"databases":{"fresh":{"engine":"sqlite","dsn":"`+filepath.Join(dir, "fresh.db")+`"}}}`), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"databases":{"x":{"engine":"oracle"}}}`), 0o644)

	cases := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"version"}, 0, "dqm"},
		{[]string{"status", "-config", path}, 0, "DQM-Demo-01-S"},
		{[]string{"status", "-config", path}, 0, "KV_dqm_leaders"},
		{[]string{"status", "-config", path, "demo"}, 0, "CONNECTED"},
		{[]string{"query", "-config", path, "demo", "55", `{"INTEGER":{"START":1,"FINISH":2}}`}, 0, `"row_count": 2`},
		{[]string{"query", "-config", path, "demo", "999"}, 1, "query_not_found"},
		{[]string{"query", "-config", path, "demo"}, 2, "usage"},
		{[]string{"catalog", "check", "-config", full}, 0, "demo (sqlite): 6 entries [1 2 3 4 5 55]"},
		{[]string{"catalog", "check", "-config", fresh}, 1, "fresh: catalog table queries does not exist: dqm creates it at start"},
		{[]string{"serve", "-config", bad}, 2, "databases.x.engine"},
		{[]string{"serve", "-config", filepath.Join(dir, "missing.json")}, 2, "missing.json"},
		{[]string{"triggers", "remove", "-config", full, "demo", "numbers"}, 0, "triggers removed from demo"},
		{[]string{"triggers", "remove", "-config", full, "nope"}, 2, `no database "nope"`},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{nil, 2, "usage"},
		// Flags after the positional arguments.
		{[]string{"status", "demo", "-config", path}, 0, "CONNECTED"},
		{[]string{"query", "demo", "55", `{"INTEGER":{"START":1,"FINISH":2}}`, "-config", path}, 0, `"row_count": 2`},
		{[]string{"query", "demo", "55", `{"INTEGER":{"START":3,"FINISH":4}}`, "-config", path, "-o", "table", "-queue", "fast", "-timeout", "3s"}, 0, "NUMBERS\n3\n4\n(2 rows)"},
		{[]string{"query", "demo", "55", "-config", path, "-queue", "nosuch"}, 2, `-queue "nosuch"`},
		{[]string{"query", "demo", "x", "-config", path}, 2, `ref "x" must be an integer`},
		{[]string{"query", "demo", "55", "{bad", "-config", path}, 2, "params must be a JSON object"},
		// Databases are checked against the configuration, or the instances
		// reporting in KV when the configuration lists none.
		{[]string{"status", "nosuchdb", "-config", path}, 1, `no running instance serves database "nosuchdb"`},
		{[]string{"changes", "nosuch", "-config", path}, 1, `no running instance serves database "nosuch"`},
		{[]string{"catalog", "check", "nosuch", "-config", full}, 2, `no database "nosuch"`},
		{[]string{"status", "nosuchdb", "-config", full}, 2, `no database "nosuchdb" in the configuration`},
		// Help exits 0, per command too.
		{[]string{"help"}, 0, "commands:"},
		{[]string{"-h"}, 0, "commands:"},
		{[]string{"--help"}, 0, "commands:"},
		{[]string{"help", "query"}, 0, "-queue"},
		{[]string{"query", "-h"}, 0, "usage: dqm query <db> <ref>"},
		{[]string{"catalog", "check", "--help"}, 0, "usage: dqm catalog check"},
		{[]string{"help", "nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"completion", "bash"}, 0, "complete -F _dqm dqm"},
		{[]string{"completion", "zsh"}, 0, "compdef _dqm dqm"},
		{[]string{"completion", "fish"}, 2, "unknown shell"},
	}
	t.Run("changes", func(t *testing.T) {
		testutil.Eventually(t, 10*time.Second, "capturing", s.Lead("demo").Capturing)
		ctx, cancel := context.WithCancel(context.Background())
		direct := testutil.DirectDB(t, "sqlite", string(cfg.Databases["demo"].DSN))
		out := &syncBuffer{}
		done := make(chan int)
		go func() { done <- run(ctx, []string{"changes", "-config", path, "demo", "numbers"}, out, out) }()
		// Tail starts at new events: keep writing until one shows.
		n := 20000
		testutil.Eventually(t, 10*time.Second, "a change event", func() bool {
			n++
			direct.Exec("INSERT INTO numbers (numbers) VALUES (?)", n)
			return strings.Contains(out.String(), `"op":"insert"`)
		})
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("exit %d: %s", code, out.String())
		}
	})
	t.Run("dlq round trip", func(t *testing.T) {
		// A dead letter of a valid request whose requester still waits.
		nc := s.NATS()
		inbox := nats.NewInbox()
		replies, _ := nc.SubscribeSync(inbox)
		req := wire.NewRequest("db.demo.fast", "dlq-cli-1", "/test", inbox, time.Time{},
			[]byte(`{"query_ref":55,"params":{"INTEGER":{"START":7,"FINISH":8}}}`), 55)
		dl := wire.NewDeadLetter("demo", wire.DeadLetter{Subject: req.Subject, Header: req.Header, Data: req.Data, Reason: "test", Deliveries: 5})
		if err := nc.PublishMsg(dl); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		testutil.Eventually(t, 5*time.Second, "listed", func() bool {
			out.Reset()
			return run(context.Background(), []string{"dlq", "ls", "demo", "-config", path}, &out, &out) == 0 &&
				strings.Contains(out.String(), "dlq-cli-1") && strings.Contains(out.String(), "(1 dead letters)")
		})
		out.Reset()
		if code := run(context.Background(), []string{"dlq", "replay", "demo", "dlq-cli-1", "-config", path}, &out, &out); code != 0 ||
			!strings.Contains(out.String(), "replayed dlq-cli-1") {
			t.Fatalf("replay: %d %s", code, out.String())
		}
		m, err := replies.NextMsg(10 * time.Second)
		if err != nil || !strings.Contains(string(m.Data), `"row_count":2`) || wire.RequestID(m.Header) != "dlq-cli-1" {
			t.Fatalf("reply to the replayed request: %v %v", m, err)
		}
		out.Reset()
		run(context.Background(), []string{"dlq", "ls", "demo", "-config", path}, &out, &out)
		if !strings.Contains(out.String(), "(0 dead letters)") {
			t.Fatalf("after replay: %s", out.String())
		}
		out.Reset()
		if code := run(context.Background(), []string{"dlq", "purge", "demo", "-config", path}, &out, &out); code != 0 || !strings.Contains(out.String(), "purged 0") {
			t.Fatalf("purge: %d %s", code, out.String())
		}
	})
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), c.args, &out, &out)
			if code != c.code || !strings.Contains(out.String(), c.out) {
				t.Fatalf("exit %d (want %d), output:\n%s\nwant it to contain %q", code, c.code, out.String(), c.out)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
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
