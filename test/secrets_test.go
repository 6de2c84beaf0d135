package test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/lead"
)

const secretsCatalog = `[
 {"ref":1,"name":"one","sql":"SELECT 1 AS one","queue":"fast","public":true},
 {"ref":2,"name":"broken","sql":"SELECT * FROM no_such_table","queue":"fast","public":true},
 {"ref":3,"name":"private","sql":"SELECT 2 AS two","queue":"fast","public":false}
]`

// secretsFixture is dqm configured with known secrets: database users with
// passwords (PostgreSQL as a URL and as key=value, MariaDB), a wrong
// MariaDB password, an unreachable PostgreSQL with a password, a JWT
// secret and an embedded NATS user's password.
type secretsFixture struct {
	cfg     *config.Config
	secrets []string
	jwt     string
}

func newSecretsFixture(t *testing.T) secretsFixture {
	t.Helper()
	suffix := testutil.Unique("")
	pgPW, myPW := "S3cret-pg-"+suffix, "S3cret-my-"+suffix
	wrongPW, downPW := "Wr0ng-my-"+suffix, "S3cret-down-"+suffix
	jwtSecret := "S3cret-jwt-" + suffix + "-0123456789abcdef"
	natsPW := "S3cret-nats-" + suffix

	// PostgreSQL: a role of the test's own in a scratch schema. Local trust
	// auth accepts any password; the point is that this one never shows.
	pgBase := testutil.PostgresSchema(t)
	role := testutil.Unique("dqm_secret_test_")
	admin := testutil.DirectDB(t, "postgres", pgBase)
	u, _ := url.Parse(pgBase)
	schema := u.Query().Get("search_path")
	for _, stmt := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", role, pgPW),
		fmt.Sprintf("GRANT ALL ON SCHEMA %s TO %s", schema, role),
	} {
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		admin.Exec("DROP OWNED BY " + role)
		admin.Exec("DROP ROLE " + role)
	})
	u.User = url.UserPassword(role, pgPW)
	pgURL := u.String()
	pgKV := fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=disable search_path=%s",
		u.Hostname(), u.Port(), role, pgPW, strings.TrimPrefix(u.Path, "/"), schema)
	u.Host = "127.0.0.1:1" // nobody listens
	u.User = url.UserPassword(role, downPW)
	pgDown := u.String()

	// MariaDB: a user with a password, and the same user with a wrong one.
	myBase := testutil.MySQLDatabase(t)
	mu, _ := url.Parse(myBase)
	myAdmin := testutil.DirectDB(t, "mysql", myBase)
	myUser := testutil.Unique("dqs_")
	for _, host := range []string{"%", "localhost", "127.0.0.1"} {
		for _, stmt := range []string{
			fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", myUser, host, myPW),
			fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%s'", strings.TrimPrefix(mu.Path, "/"), myUser, host),
		} {
			if _, err := myAdmin.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		t.Cleanup(func() { myAdmin.Exec(fmt.Sprintf("DROP USER '%s'@'%s'", myUser, host)) })
	}
	mu.User = url.UserPassword(myUser, myPW)
	myURL := mu.String()
	mu.User = url.UserPassword(myUser, wrongPW)
	myWrong := mu.String()

	catalogFile := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(catalogFile, []byte(secretsCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	base := *cfg.Databases["demo"]
	cfg.Databases = map[string]*config.Database{}
	for name, d := range map[string]struct{ engine, dsn string }{
		"pg":       {"postgres", pgURL},
		"pgkv":     {"postgres", pgKV},
		"pgdown":   {"postgres", pgDown},
		"maria":    {"mysql", myURL},
		"mariabad": {"mysql", myWrong},
	} {
		db := base
		db.Name, db.Engine, db.DSN = name, d.engine, config.DSN(d.dsn)
		db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: catalogFile}
		db.Triggers = config.Triggers{PollMS: 1000}
		db.HeartbeatS = 1
		cfg.Databases[name] = &db
	}
	cfg.Auth.JWTSecret = config.Secret(jwtSecret)
	cfg.NATS.Listen = freeListen(t)
	cfg.NATS.Embedded.Users = []config.NATSUser{{User: "svc", Password: config.Secret(natsPW),
		Publish: []string{"db.>"}, Subscribe: []string{"_INBOX.>"}}}
	return secretsFixture{
		cfg:     cfg,
		secrets: []string{pgPW, myPW, wrongPW, downPW, jwtSecret, natsPW},
		jwt:     jwtSecret,
	}
}

// Known secrets never reach a log line (text or JSON), an HTTP body or
// header, the Go client's errors, or a KV value, on success and failure
// paths alike.
func TestSecretsNeverLeave(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			fx := newSecretsFixture(t)
			s, logs := startLogged(t, fx.cfg, format)
			for _, name := range []string{"pg", "pgkv", "maria"} {
				testutil.Eventually(t, 20*time.Second, name+" ready", s.Lead(name).Ready)
			}
			for _, name := range []string{"pgdown", "mariabad"} {
				testutil.Eventually(t, 20*time.Second, name+" failed", func() bool {
					return s.Lead(name).State() == lead.StateError
				})
			}
			var seen []string // everything dqm said to the outside
			record := func(what, s string) { seen = append(seen, what+": "+s) }

			exp := expiry(time.Hour)
			good := ingress.SignJWT(ingress.Claims{Database: "pg", RegisteredClaims: exp}, []byte(fx.jwt))
			forged := ingress.SignJWT(ingress.Claims{Database: "pg", RegisteredClaims: exp}, []byte("not the secret"))
			type req struct{ method, path, token, body string }
			var reqs []req
			for _, db := range []string{"pg", "pgkv", "pgdown", "maria", "mariabad", "nope"} {
				for _, ref := range []int{1, 2, 3, 99} {
					reqs = append(reqs, req{"POST", "/api/conduit/query", "", fmt.Sprintf(`{"database":%q,"query_ref":%d}`, db, ref)})
				}
				reqs = append(reqs, req{"GET", fmt.Sprintf("/api/query/%s/1/auto/%%7B%%7D", db), "", ""})
				reqs = append(reqs, req{"POST", "/api/conduit/alt_query", good, fmt.Sprintf(`{"database":%q,"query_ref":3}`, db)})
			}
			reqs = append(reqs,
				req{"POST", "/api/conduit/auth_query", good, `{"query_ref":3}`},
				req{"POST", "/api/conduit/auth_query", forged, `{"query_ref":3}`},
				req{"POST", "/api/conduit/queries", "", `{"database":"maria","queries":[{"query_ref":1},{"query_ref":2}]}`},
				req{"POST", "/api/conduit/query", "", `{"database":`},
				req{"GET", "/api/conduit/status", "", ""},
				req{"GET", "/api/conduit/status", good, ""},
				req{"GET", "/readyz", "", ""},
				req{"GET", "/healthz", "", ""},
				req{"GET", "/metrics", "", ""},
				req{"GET", "/openapi.json", "", ""},
			)
			for _, r := range reqs {
				hr, _ := http.NewRequest(r.method, "http://"+s.HTTPAddr()+r.path, strings.NewReader(r.body))
				if r.token != "" {
					hr.Header.Set("Authorization", "Bearer "+r.token)
				}
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				record(r.method+" "+r.path+" "+r.body, fmt.Sprintf("%d %v %s", resp.StatusCode, resp.Header, body))
			}

			// A service through NATS, as the embedded server's user.
			ctx := context.Background()
			nc, err := nats.Connect("nats://"+fx.cfg.NATS.Listen, nats.UserInfo("svc", fx.cfg.NATS.Embedded.Users[0].Password.Reveal()))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			c, err := client.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, db := range []string{"pg", "pgdown", "maria", "mariabad"} {
				for _, ref := range []int64{1, 2} {
					qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					res, err := c.Query(qctx, db, ref, nil)
					cancel()
					record(fmt.Sprintf("client %s %d", db, ref), fmt.Sprintf("%v %+v", err, res))
				}
			}
			// A wrong NATS password: the refusal must not echo it either.
			_, err = nats.Connect("nats://"+fx.cfg.NATS.Listen, nats.UserInfo("svc", fx.secrets[0]), nats.MaxReconnects(0))
			record("nats wrong password", fmt.Sprint(err))

			// What `dqm status` and `dqm catalog` show: the KV buckets.
			js, _ := jetstream.New(s.NATS())
			for _, bucket := range []string{"dqm_status", "dqm_leaders", "dqm_catalog"} {
				kv, err := js.KeyValue(ctx, bucket)
				if err != nil {
					t.Fatal(err)
				}
				keys, _ := kv.Keys(ctx)
				for _, k := range keys {
					if e, err := kv.Get(ctx, k); err == nil {
						record("kv "+bucket+" "+k, string(e.Value()))
					}
				}
			}
			record("metrics text", metricsText(t, s))
			// The `dqm status` table itself.
			hbs, err := lead.ReadStatus(ctx, js, "")
			if err != nil {
				t.Fatal(err)
			}
			// cmd/dqm prints the table from these fields alone.
			record("dqm status", fmt.Sprintf("%+v", hbs))

			// Land, so shutdown logs are in too.
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			s.Shutdown(sctx)
			cancel()
			for _, l := range strings.Split(logs.String(), "\n") {
				record("log", l)
			}
			if !strings.Contains(logs.String(), "mariabad") || !strings.Contains(logs.String(), "pgdown") {
				t.Error("the failure paths were not logged")
			}
			if os.Getenv("DQM_SHOW_SEEN") != "" {
				for _, l := range seen {
					if strings.Contains(l, "mariabad") || strings.Contains(l, "pgdown") || strings.Contains(l, "client") || strings.Contains(l, "nats wrong") {
						t.Logf("%.300s", l)
					}
				}
			}
			leaks := 0
			for _, line := range seen {
				for _, sec := range fx.secrets {
					if strings.Contains(line, sec) || strings.Contains(line, url.QueryEscape(sec)) {
						leaks++
						t.Errorf("secret %.12s… leaked in %.400s", sec, line)
					}
				}
			}
			t.Logf("%d lines checked, %d leaks", len(seen), leaks)
		})
	}
}

func metricsText(t *testing.T, s *server.Server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A NATS URL or password that cannot connect is reported without the
// secret it carries.
func TestSecretsNATSConnectFailure(t *testing.T) {
	const pw = "S3cret-nats-url-pw"
	for _, n := range []config.NATS{
		{URL: "nats://dqm:" + pw + "@127.0.0.1:1"},
		{URL: "nats://127.0.0.1:1", User: "dqm", Password: pw},
		{URL: "nats://127.0.0.1:1", Token: pw},
	} {
		cfg := testConfig(t)
		cfg.NATS.URL, cfg.NATS.User, cfg.NATS.Password, cfg.NATS.Token = n.URL, n.User, n.Password, n.Token
		buf := &syncBuffer{}
		_, err := server.Start(context.Background(), cfg, slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err == nil {
			t.Fatal("started without NATS")
		}
		if out := err.Error() + buf.String(); strings.Contains(out, pw) {
			t.Errorf("secret in %s", out)
		}
	}
}
