package main

import (
	"bytes"
	"context"
	"net"
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
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte(`{}`), 0o644)
	unreachable := filepath.Join(dir, "unreachable.json")
	os.WriteFile(unreachable, []byte(`{"nats":{"url":"nats://127.0.0.1:1"}}`), 0o644)

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
		{[]string{"catalog", "check", "-config", full}, 0, "demo (sqlite): 8 entries [1 2 3 4 5 55 60 104]"},
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
		// What went wrong, said so.
		{[]string{"--version"}, 0, "dqm "},
		{[]string{"-version"}, 0, "dqm "},
		{[]string{"dlq"}, 2, "dqm dlq: which one?\n\nusage: dqm dlq <subcommand>"},
		{[]string{"dlq", "-h"}, 0, "dlq replay <db> [request-id...]"},
		{[]string{"catalog"}, 2, "catalog check [db]"},
		{[]string{"help", "triggers"}, 0, "triggers remove <db> [table...]"},
		{[]string{"stauts"}, 2, `unknown command "stauts"; did you mean "status"?`},
		{[]string{"dlq", "lss", "demo"}, 2, `unknown command "dlq lss"; did you mean "dlq ls"?`},
		{[]string{"quer", "demo", "1"}, 2, `did you mean "query"?`},
		{[]string{"help", "stauts"}, 2, `did you mean "status"?`},
		{[]string{"status", "-config", unreachable}, 1, "dqm: cannot reach NATS at nats://127.0.0.1:1: "},
		{[]string{"status", "-config", unreachable}, 1, "The address is nats.url (DQM_NATS_URL) in " + unreachable},
		{[]string{"catalog", "check", "-config", empty}, 2, "no databases in " + empty + ": give -config FILE"},
		{[]string{"status", "-config", path, "-o", "json"}, 0, `"database": "demo"`},
		{[]string{"status", "-config", path, "-o", "yaml"}, 2, `-o "yaml": want table or json`},
		{[]string{"triggers", "remove", "-config", full, "demo", "nosuch"}, 1, "no table nosuch ("},
		{[]string{"triggers", "remove", "-config", full, "demo", "x;drop"}, 1, `"x;drop" is not a table name`},
		{[]string{"query", "-nosuchflag", "-config", path}, 2, "flag provided but not defined: -nosuchflag\nusage: dqm query"},
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
	t.Run("dlq escapes and goes on", func(t *testing.T) {
		nc := s.NATS()
		letter := func(id, subject string) {
			req := wire.NewRequest("db.demo.fast", id, "/test", nats.NewInbox(), time.Time{}, []byte(`{"query_ref":1}`), 1)
			dl := wire.NewDeadLetter("demo", wire.DeadLetter{Subject: subject, Header: req.Header, Data: req.Data, Reason: "test", Deliveries: 5})
			if err := nc.PublishMsg(dl); err != nil {
				t.Fatal(err)
			}
		}
		letter("esc-\x1b]0;pwned\x07", "db.demo.fast")
		letter("foreign", "$KV.dqm_leaders.demo")
		letter("good", "db.demo.fast")
		var out bytes.Buffer
		testutil.Eventually(t, 5*time.Second, "listed", func() bool {
			out.Reset()
			return run(context.Background(), []string{"dlq", "ls", "demo", "-config", path}, &out, &out) == 0 &&
				strings.Contains(out.String(), "(3 dead letters)")
		})
		if strings.ContainsAny(out.String(), "\x1b\x07") || !strings.Contains(out.String(), `esc-\x1b]0;pwned\a`) {
			t.Fatalf("ls printed a control character:\n%q", out.String())
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"dlq", "replay", "demo", "-config", path}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stdout.String(), "replayed good") || !strings.Contains(stdout.String(), `replayed esc-\x1b]0;pwned\a`) ||
			!strings.Contains(stderr.String(), `(request "foreign")`) || !strings.Contains(stderr.String(), "replayed 2; the letters above stay") {
			t.Fatalf("replay: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
		run(context.Background(), []string{"dlq", "purge", "demo", "-config", path}, &out, &out)
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

// TestCLIOnce: help is printed once; NATS errors are not doubled; a port
// in use is named with the key that sets it.
func TestCLIOnce(t *testing.T) {
	for _, args := range [][]string{{"query", "--help"}, {"query", "-h"}, {"help", "query"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out, &out); code != 0 || strings.Count(out.String(), "usage: dqm query") != 1 {
			t.Errorf("%v: exit %d, output:\n%s", args, code, out.String())
		}
	}
	dir := t.TempDir()
	unreachable := filepath.Join(dir, "unreachable.json")
	os.WriteFile(unreachable, []byte(`{"nats":{"url":"nats://127.0.0.1:1"}}`), 0o644)
	var out bytes.Buffer
	run(context.Background(), []string{"dlq", "ls", "demo", "-config", unreachable}, &out, &out)
	if strings.Contains(out.String(), "nats: nats:") || !strings.Contains(out.String(), "cannot reach NATS at nats://127.0.0.1:1") {
		t.Errorf("dlq ls without NATS:\n%s", out.String())
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := filepath.Join(dir, "busy.json")
	os.WriteFile(cfg, []byte(`{"nats":{"url":"embedded","listen":"`+taken.Addr().String()+`","store_dir":"`+filepath.Join(dir, "nats")+`"},
		"http":{"listen":"127.0.0.1:0"},
		"databases":{"demo":{"engine":"sqlite","dsn":"`+filepath.Join(dir, "demo.db")+`"}}}`), 0o644)
	out.Reset()
	code := run(context.Background(), []string{"serve", "-config", cfg}, &out, &out)
	if code != 1 || !strings.Contains(out.String(), taken.Addr().String()+" is in use by another process") ||
		!strings.Contains(out.String(), "nats.listen (DQM_NATS_LISTEN)") {
		t.Errorf("serve on a taken port: exit %d\n%s", code, out.String())
	}
}

// TestPrintable: what came over the wire is escaped before a terminal
// sees it.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain-id.1":           "plain-id.1",
		"esc-\x1b]0;pwned\x07": `esc-\x1b]0;pwned\a`,
		"tab\there":            `tab\there`,
		"caf\u00e9":            "caf\u00e9",
		"bad\xffutf8":          `bad\xffutf8`,
		"line\nbreak\u202eRTL": `line\nbreak\u202eRTL`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
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
