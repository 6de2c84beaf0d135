package test

import (
	"context"
	"errors"
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
)

// asyncErrs collects a connection's asynchronous errors.
type asyncErrs struct {
	mu   sync.Mutex
	errs []string
}

func (a *asyncErrs) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs = append(a.errs, err.Error())
}

// none fails the test if any error was reported.
func (a *asyncErrs) none(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.errs) > 0 {
		t.Errorf("service async errors: %q", a.errs)
	}
}

// waitFor waits until an error containing every part has been reported.
func (a *asyncErrs) waitFor(t *testing.T, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		for _, e := range a.errs {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(e, p)
			}
			if ok {
				a.mu.Unlock()
				return
			}
		}
		a.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t.Fatalf("no async error with %q; got %q", parts, a.errs)
}

const (
	svcPassword = "svc-Pa55-word-for-the-test"
	opsPassword = "ops-Pa55-word-for-the-test"
)

// nearCacheCatalogPublish is what a service's near-cache publishes to
// watch KV dqm_catalog (README, Permissions), besides its requests.
var nearCacheCatalogPublish = []string{"db.demo.>", "$JS.API.STREAM.INFO.KV_dqm_catalog",
	"$JS.API.CONSUMER.CREATE.KV_dqm_catalog.>", "$JS.API.CONSUMER.DELETE.KV_dqm_catalog.>", "$JS.FC.KV_dqm_catalog.>"}

// securedConfig is the demo on an embedded server that requires users: svc
// may only send requests to demo and read its inbox; ops may do anything.
func securedConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.NATS.Listen = freeListen(t)
	cfg.NATS.Embedded.Users = []config.NATSUser{
		{User: "svc", Password: svcPassword, Publish: []string{"db.demo.>"}, Subscribe: []string{"_INBOX.>"}},
		{User: "ops", Password: opsPassword, Publish: []string{">"}, Subscribe: []string{">"}},
		{User: "cached", Password: svcPassword, Publish: []string{"db.demo.>"}, Subscribe: []string{"_INBOX.>", "dqm.*.invalidate.>"}},
		{User: "kvcached", Password: svcPassword, Publish: nearCacheCatalogPublish, Subscribe: []string{"_INBOX.>", "dqm.*.invalidate.>"}},
	}
	// A lease refreshed every ~100 s: its revision holds still during the test.
	cfg.Databases["demo"].LeadTTLS = 300
	return cfg
}

func TestNATSEmbeddedPermissions(t *testing.T) {
	cfg := securedConfig(t)
	s := start(t, cfg) // dqm's own in-process connection works with users on
	ctx := context.Background()
	url := "nats://" + cfg.NATS.Listen

	t.Run("anonymous and wrong passwords are refused", func(t *testing.T) {
		for _, o := range []nats.Option{
			nil,
			nats.UserInfo("svc", "wrong"),
			nats.UserInfo(config.InProcessUser, ""),
			nats.UserInfo(config.InProcessUser, "guess"),
		} {
			opts := []nats.Option{nats.MaxReconnects(0)}
			if o != nil {
				opts = append(opts, o)
			}
			if nc, err := nats.Connect(url, opts...); err == nil {
				nc.Close()
				t.Errorf("connected with %v", o)
			} else if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("err %v, want an authorization violation", err)
			}
		}
	})

	var errs asyncErrs
	nc, err := nats.Connect(url, nats.UserInfo("svc", svcPassword), nats.ErrorHandler(errs.handler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	t.Run("the service runs a query", func(t *testing.T) {
		c, err := client.New(nc, client.WithSource("/svc/test"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		res, err := c.Query(ctx, "demo", 55, ints("START", 1, "FINISH", 10), client.Queue("fast"))
		if err != nil || !res.Success || res.RowCount != 10 {
			t.Fatalf("query: %v %+v", err, res)
		}
	})

	t.Run("a service with a near-cache", func(t *testing.T) {
		var errs asyncErrs
		nc, err := nats.Connect(url, nats.UserInfo("cached", svcPassword), nats.ErrorHandler(errs.handler))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		c, err := client.New(nc, client.WithCache(client.NewCache(100, 1<<20)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range 2 {
			res, err := c.Query(ctx, "demo", 3, nil, client.Queue("cache"), client.CacheFor(time.Minute), client.Tables("numbers"))
			if err != nil || !res.Success || res.Cached != (i == 1) {
				t.Fatalf("query %d: %v %+v", i, err, res)
			}
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		errs.mu.Lock()
		defer errs.mu.Unlock()
		if len(errs.errs) > 0 {
			t.Fatalf("async errors: %q", errs.errs)
		}
	})

	t.Run("a near-cache reading the catalog from KV", func(t *testing.T) {
		var errs asyncErrs
		nc, err := nats.Connect(url, nats.UserInfo("kvcached", svcPassword), nats.ErrorHandler(errs.handler))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		c, err := client.New(nc, client.WithCache(client.NewCache(100, 1<<20)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		testutil.Eventually(t, 5*time.Second, "cached by the catalog's rule", func() bool {
			res, err := c.Query(ctx, "demo", 3, nil, client.Queue("cache"))
			if err != nil {
				t.Fatal(err)
			}
			return res.Cached
		})
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		errs.mu.Lock()
		defer errs.mu.Unlock()
		if len(errs.errs) > 0 {
			t.Fatalf("async errors: %q", errs.errs)
		}
	})

	js, err := jetstream.New(s.NATS())
	if err != nil {
		t.Fatal(err)
	}
	leaders, err := js.KeyValue(ctx, "dqm_leaders")
	if err != nil {
		t.Fatal(err)
	}
	before, err := leaders.Get(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := js.Stream(ctx, "DQM_CHANGES")
	if err != nil {
		t.Fatal(err)
	}
	changesBefore := changes.CachedInfo().State.Msgs

	t.Run("the service may publish nowhere else", func(t *testing.T) {
		for _, subj := range []string{
			"$KV.dqm_leaders.demo",
			"$KV.dqm_catalog.demo.55",
			"$JS.API.STREAM.DELETE.DQM_DEMO",
			"dqm.demo.changes.x.insert",
			"dqm.demo.invalidate.numbers",
			"dqm.demo.heartbeat",
			"db.other.fast",
		} {
			if err := nc.Publish(subj, []byte(`{"holder":"attacker"}`)); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			errs.waitFor(t, "Permissions Violation", "Publish", subj)
		}
		if !nc.IsConnected() {
			t.Fatal("a denied publish closed the connection")
		}
	})
	t.Run("nor subscribe outside its inbox", func(t *testing.T) {
		for _, subj := range []string{"dqm.>", "db.demo.fast", "$KV.dqm_catalog.>"} {
			if _, err := nc.SubscribeSync(subj); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			errs.waitFor(t, "Permissions Violation", "Subscription", subj)
		}
	})

	after, err := leaders.Get(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if after.Revision() != before.Revision() || string(after.Value()) != string(before.Value()) {
		t.Errorf("lease changed: revision %d → %d, %s → %s", before.Revision(), after.Revision(), before.Value(), after.Value())
	}
	if info, err := changes.Info(ctx); err != nil || info.State.Msgs != changesBefore {
		t.Errorf("DQM_CHANGES: %v, %d messages, want %d", err, info.State.Msgs, changesBefore)
	}

	t.Run("the CLI connects as a configured user", func(t *testing.T) {
		cli := *cfg
		cli.NATS.User, cli.NATS.Password = "ops", opsPassword
		nc, err := server.Connect(cli.NATS, nil, "dqm status")
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		if _, err := js.KeyValue(ctx, "dqm_status"); err != nil {
			t.Fatal(err)
		}
		cli.NATS.Password = "wrong"
		if nc, err := server.Connect(cli.NATS, nil, "dqm status", nats.MaxReconnects(0)); err == nil {
			nc.Close()
			t.Fatal("connected with a wrong password")
		}
	})
}

func TestNATSEmbeddedTLS(t *testing.T) {
	pki, other := newPKI(t, "dqm"), newPKI(t, "other")
	cfg := securedConfig(t)
	cfg.NATS.Embedded.TLS = config.TLS{Cert: pki.ServerCert, Key: pki.ServerKey, CA: pki.CA}
	start(t, cfg) // in-process: no TLS needed, still authenticated
	ctx := context.Background()

	withTLS := func(tls config.TLS) config.NATS {
		return config.NATS{URL: "tls://" + cfg.NATS.Listen, User: "ops", Password: opsPassword, TLS: tls}
	}
	for _, tc := range []struct {
		name string
		nats config.NATS
		ok   bool
	}{
		{"CA and client certificate", withTLS(config.TLS{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey}), true},
		{"embedded URL as the CLI uses it", func() config.NATS {
			n := withTLS(config.TLS{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey})
			n.URL, n.Listen = "embedded", cfg.NATS.Listen
			return n
		}(), true},
		{"no client certificate", withTLS(config.TLS{CA: pki.CA}), false},
		{"client certificate of another CA", withTLS(config.TLS{CA: pki.CA, Cert: other.ClientCert, Key: other.ClientKey}), false},
		{"server not trusted (system roots)", withTLS(config.TLS{Cert: pki.ClientCert, Key: pki.ClientKey}), false},
		{"server not trusted (another CA)", withTLS(config.TLS{CA: other.CA, Cert: pki.ClientCert, Key: pki.ClientKey}), false},
		{"nats:// URL: TLS is still required and verified", func() config.NATS {
			n := withTLS(config.TLS{})
			n.URL = "nats://" + cfg.NATS.Listen
			return n
		}(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := server.Connect(tc.nats, nil, "tls test", nats.MaxReconnects(0), nats.Timeout(3*time.Second))
			if !tc.ok {
				if err == nil {
					nc.Close()
					t.Fatal("connected")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if !nc.TLSRequired() {
				t.Error("connection is not TLS")
			}
			c, err := client.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if res, err := c.Query(ctx, "demo", 55, ints("START", 1, "FINISH", 3), client.Queue("fast")); err != nil || res.RowCount != 3 {
				t.Fatalf("query over TLS: %v %+v", err, res)
			}
		})
	}
}
