package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/schemas"
)

// env returns a getenv backed by a map.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// specJSON is the example from the public contract.
const specJSON = `{"nats": {"url": "embedded", "listen": "127.0.0.1:4250", "store_dir": "./data/nats"},
 "http": {"listen": "127.0.0.1:8080", "max_body_bytes": 1048576,
          "max_queries_per_request": 10},
 "auth": {"jwt_secret": "{$env.DQM_JWT_SECRET}"},
 "databases": {
   "demo": {"engine": "sqlite", "dsn": "./data/demo.db",
            "catalog": {"table": "queries", "file": "", "host": ""},
            "queues": {"slow": {"min": 1, "max": 2}, "medium": {"min": 1, "max": 4},
                       "fast": {"min": 1, "max": 8}, "cache": {"min": 1, "max": 2}},
            "heartbeat_s": 30, "queue_depth_limit": 10000,
            "triggers": {"tables": ["numbers"], "poll_ms": 1000}}}}`

func mustParse(t *testing.T, data string, getenv func(string) (string, bool)) *Config {
	t.Helper()
	c, err := Parse([]byte(data), getenv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// problemsOf returns the problems of a *ValidationError, failing otherwise.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T: %v", err, err)
	}
	return ve.Problems
}

func TestDefault(t *testing.T) {
	if len(Default().Databases) != 0 {
		t.Errorf("Default() has databases: %v", Default().Databases)
	}
	d := Demo()
	if err := d.Validate(); err != nil {
		t.Fatalf("Demo() does not validate: %v", err)
	}
	demo := d.Databases["demo"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"nats.url", d.NATS.URL, "embedded"},
		{"nats.listen", d.NATS.Listen, "127.0.0.1:4250"},
		{"nats.store_dir", d.NATS.StoreDir, "./data/nats"},
		{"http.listen", d.HTTP.Listen, "127.0.0.1:8080"},
		{"http.max_body_bytes", d.HTTP.MaxBodyBytes, int64(1048576)},
		{"http.max_queries_per_request", d.HTTP.MaxQueriesPerRequest, 10},
		{"http.shutdown_timeout_ms", d.HTTP.ShutdownTimeoutMS, 10000},
		{"log.level", d.Log.Level, "info"},
		{"log.format", d.Log.Format, "text"},
		{"demo.name", demo.Name, "demo"},
		{"demo.engine", demo.Engine, "sqlite"},
		{"demo.dsn", demo.DSN.Reveal(), "./data/demo.db"},
		{"demo.catalog.table", demo.Catalog.Table, "queries"},
		{"demo.heartbeat_s", demo.HeartbeatS, 30},
		{"demo.queue_depth_limit", demo.QueueDepthLimit, 10000},
		{"demo.triggers.tables", demo.Triggers.Tables, []string{"numbers"}},
		{"demo.triggers.poll_ms", demo.Triggers.PollMS, 1000},
		{"demo.max_deliver", demo.MaxDeliver, 5},
		{"demo.ack_wait_ms", demo.AckWaitMS, 60000},
		{"demo.default_timeout_ms", demo.DefaultTimeoutMS, 5000},
		{"demo.stmt_cache_size", demo.StmtCacheSize, 128},
		{"demo.scale_down_after_s", demo.ScaleDownAfterS, 30},
		{"demo.lead_ttl_s", demo.LeadTTLS, 5},
		{"demo.max_rows", demo.MaxRows, 10000},
		{"demo.idempotency_window_s", demo.IdempotencyWindowS, 86400},
		{"demo.direct_reads", demo.DirectReads, false},
		{"demo.queues", demo.Queues, map[string]Queue{
			"slow": {1, 1}, "medium": {1, 1}, "fast": {1, 1}, "cache": {1, 1}}},
		{"demo.tags", demo.Tags(), []string{"slow", "medium", "fast", "cache"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	// Demo returns fresh values each time.
	d.Databases["demo"].Triggers.Tables[0] = "changed"
	if Demo().Databases["demo"].Triggers.Tables[0] != "numbers" {
		t.Error("Demo() shares state between calls")
	}

	// No file, "{}" and whitespace all mean "defaults".
	if got, err := Parse(nil, nil); err != nil || !reflect.DeepEqual(got, Default()) {
		t.Errorf("Parse(nil, nil) = %v, %v; want Default()", got, err)
	}
	for _, data := range []string{"", "  \n", "{}"} {
		if got := mustParse(t, data, env()); !reflect.DeepEqual(got, Default()) {
			t.Errorf("Parse(%q) differs from Default()", data)
		}
	}
}

func TestFileDefaults(t *testing.T) {
	tests := []struct {
		name string
		json string
		// check inspects the parsed "db" database.
		check func(t *testing.T, c *Config, d *Database)
	}{
		{"databases replace the demo", `{"databases": {"db": {"engine": "postgres", "dsn": "x"}}}`,
			func(t *testing.T, c *Config, d *Database) {
				if len(c.Databases) != 1 || c.Databases["demo"] != nil {
					t.Errorf("databases = %v, want only db", c.Databases)
				}
			}},
		{"per-database defaults", `{"databases": {"db": {"engine": "postgres", "dsn": "x"}}}`,
			func(t *testing.T, c *Config, d *Database) {
				want := newDatabase("db")
				want.Engine, want.DSN = "postgres", "x"
				if !reflect.DeepEqual(d, want) {
					t.Errorf("got %+v, want %+v", d, want)
				}
				if d.Tags() == nil || len(d.Tags()) != 4 {
					t.Errorf("absent queues: tags = %v, want all four", d.Tags())
				}
			}},
		{"queues block replaces the default", `{"databases": {"db": {"engine": "postgres", "dsn": "x",
			"queues": {"cache": {"min": 0, "max": 0}, "slow": {"max": 3}}}}}`,
			func(t *testing.T, c *Config, d *Database) {
				want := map[string]Queue{"cache": {0, 0}, "slow": {1, 3}}
				if !reflect.DeepEqual(d.Queues, want) {
					t.Errorf("queues = %v, want %v", d.Queues, want)
				}
				if got := d.Tags(); !slices.Equal(got, []string{"slow", "cache"}) {
					t.Errorf("tags = %v", got)
				}
			}},
		{"upper-case name is lower-cased", `{"databases": {"DB": {"engine": "mysql", "dsn": "x"}}}`,
			func(t *testing.T, c *Config, d *Database) {
				if d == nil || d.Name != "db" {
					t.Errorf("got %+v, want database named db", d)
				}
			}},
		{"null keeps the default", `{"http": {"listen": null}, "databases": {"db": {"engine": "db2", "dsn": "x", "triggers": null}}}`,
			func(t *testing.T, c *Config, d *Database) {
				if c.HTTP.Listen != "127.0.0.1:8080" || d.Triggers.PollMS != 1000 {
					t.Errorf("null did not keep defaults: %+v %+v", c.HTTP, d.Triggers)
				}
			}},
		{"partial nested object keeps sibling defaults", `{"nats": {"store_dir": "/var/dqm"}}`,
			func(t *testing.T, c *Config, d *Database) {
				if c.NATS.URL != "embedded" || c.NATS.Listen != "127.0.0.1:4250" || c.NATS.StoreDir != "/var/dqm" {
					t.Errorf("nats = %+v", c.NATS)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.json, env())
			tt.check(t, c, c.Databases["db"])
		})
	}
}

func TestSpecExample(t *testing.T) {
	c := mustParse(t, specJSON, env("DQM_JWT_SECRET", "hunter2-hunter2-hunter2-hunter2-"))
	if got := c.Auth.JWTSecret.Reveal(); got != "hunter2-hunter2-hunter2-hunter2-" {
		t.Errorf("jwt_secret = %q", got)
	}
	d := c.Databases["demo"]
	if d.Queues["fast"] != (Queue{1, 8}) {
		t.Errorf("queues = %v", d.Queues)
	}
}

func TestSubstitution(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		env     []string
		get     func(*Config) any
		want    any
		wantErr []string
	}{
		{
			name: "several references embedded in one string",
			json: `{"databases": {"pg": {"engine": "postgres", "dsn": "postgres://{$env.PGUSER}:{$env.PGPASS}@{$env.PGHOST}/app?sslmode=require"}}}`,
			env:  []string{"PGUSER", "dqm", "PGPASS", "p@ss", "PGHOST", "db.local"},
			get:  func(c *Config) any { return c.Databases["pg"].DSN.Reveal() },
			want: "postgres://dqm:p@ss@db.local/app?sslmode=require",
		},
		{
			name: "set but empty is allowed",
			json: `{"auth": {"jwt_secret": "a{$env.EMPTY}b0123456789abcdef0123456789abcdef"}}`,
			env:  []string{"EMPTY", ""},
			get:  func(c *Config) any { return c.Auth.JWTSecret.Reveal() },
			want: "ab0123456789abcdef0123456789abcdef",
		},
		{
			name: "values are not rescanned",
			json: `{"nats": {"store_dir": "{$env.A}"}}`,
			env:  []string{"A", "{$env.B}"},
			get:  func(c *Config) any { return c.NATS.StoreDir },
			want: "{$env.B}",
		},
		{
			name: "list elements",
			json: `{"databases": {"demo": {"engine": "sqlite", "dsn": "x", "triggers": {"tables": ["t1", "{$env.T}"]}}}}`,
			env:  []string{"T", "orders"},
			get:  func(c *Config) any { return c.Databases["demo"].Triggers.Tables },
			want: []string{"t1", "orders"},
		},
		{
			name: "override values are substituted too",
			json: `{}`,
			env:  []string{"DQM_NATS_URL", "nats://{$env.H}:4222", "H", "nats.local"},
			get:  func(c *Config) any { return c.NATS.URL },
			want: "nats://nats.local:4222",
		},
		{
			name: "an overridden value's references are not needed",
			json: `{"databases": {"demo": {"engine": "sqlite", "dsn": "{$env.UNSET}"}}}`,
			env:  []string{"DQM_DATABASES_DEMO_DSN", "./other.db"},
			get:  func(c *Config) any { return c.Databases["demo"].DSN.Reveal() },
			want: "./other.db",
		},
		{
			name:    "missing variable names the variable and the key",
			json:    `{"databases": {"demo": {"engine": "postgres", "dsn": "postgres://u:{$env.DQM_PG_PASS}@h/db"}}}`,
			wantErr: []string{"databases.demo.dsn: environment variable DQM_PG_PASS is not set"},
		},
		{
			name: "every missing variable is reported",
			json: `{"auth": {"jwt_secret": "{$env.A}{$env.B}"}, "nats": {"credentials": "{$env.A}"},
				"databases": {"demo": {"engine": "sqlite", "dsn": "x", "triggers": {"tables": ["{$env.C}"]}}}}`,
			wantErr: []string{
				"auth.jwt_secret: environment variable A is not set",
				"auth.jwt_secret: environment variable B is not set",
				"databases.demo.triggers.tables[0]: environment variable C is not set",
				"nats.credentials: environment variable A is not set",
			},
		},
		{
			name:    "missing variable in an override names the override",
			json:    `{}`,
			env:     []string{"DQM_AUTH_JWT_SECRET", "{$env.NOPE}"},
			wantErr: []string{"auth.jwt_secret: environment variable NOPE is not set (in DQM_AUTH_JWT_SECRET)"},
		},
		{
			name: "malformed references",
			json: `{"nats": {"credentials": "{$env.BAD-NAME}", "store_dir": "x{$env.OPEN"}}`,
			wantErr: []string{
				`nats.credentials: invalid environment variable name "BAD-NAME" in {$env.…}`,
				`nats.store_dir: unterminated "{$env." reference`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), env(tt.env...))
			if tt.wantErr != nil {
				if got := problemsOf(t, err); !slices.Equal(got, tt.wantErr) {
					t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// demoJSON is a file with the demo database, which Default no longer has.
const demoJSON = `{"databases": {"demo": {"engine": "sqlite", "dsn": "./data/demo.db", "triggers": {"tables": ["numbers"]}}}}`

func TestOverrides(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		env     []string
		get     func(*Config) any
		want    any
		wantErr []string
	}{
		{
			name: "top-level string",
			env:  []string{"DQM_NATS_URL", "nats://10.0.0.1:4222"},
			get:  func(c *Config) any { return c.NATS.URL },
			want: "nats://10.0.0.1:4222",
		},
		{
			name: "nested string",
			env:  []string{"DQM_NATS_TLS_CA", "/etc/ca.pem"},
			get:  func(c *Config) any { return c.NATS.TLS.CA },
			want: "/etc/ca.pem",
		},
		{
			name: "int64",
			json: specJSON,
			env:  []string{"DQM_JWT_SECRET", "", "DQM_HTTP_MAX_BODY_BYTES", " 2048 "},
			get:  func(c *Config) any { return c.HTTP.MaxBodyBytes },
			want: int64(2048),
		},
		{
			name: "database string beats the file",
			json: specJSON,
			env:  []string{"DQM_JWT_SECRET", "", "DQM_DATABASES_DEMO_DSN", "/tmp/x.db"},
			get:  func(c *Config) any { return c.Databases["demo"].DSN.Reveal() },
			want: "/tmp/x.db",
		},
		{
			name: "queue bound",
			json: specJSON,
			env:  []string{"DQM_JWT_SECRET", "", "DQM_DATABASES_DEMO_QUEUES_FAST_MAX", "16"},
			get:  func(c *Config) any { return c.Databases["demo"].Queues["fast"] },
			want: Queue{1, 16},
		},
		{
			name: "queue tag absent from the file is added",
			json: `{"databases": {"demo": {"engine": "sqlite", "dsn": "x", "queues": {"slow": {"min": 1, "max": 1}}}}}`,
			env:  []string{"DQM_DATABASES_DEMO_QUEUES_CACHE_MAX", "3"},
			get:  func(c *Config) any { return c.Databases["demo"].Queues },
			want: map[string]Queue{"slow": {1, 1}, "cache": {1, 3}},
		},
		{
			name: "list",
			json: demoJSON,
			env:  []string{"DQM_DATABASES_DEMO_TRIGGERS_TABLES", "numbers, orders,,public.items "},
			get:  func(c *Config) any { return c.Databases["demo"].Triggers.Tables },
			want: []string{"numbers", "orders", "public.items"},
		},
		{
			name: "empty list",
			json: demoJSON,
			env:  []string{"DQM_DATABASES_DEMO_TRIGGERS_TABLES", ""},
			get:  func(c *Config) any { return c.Databases["demo"].Triggers.Tables },
			want: []string{},
		},
		{
			name: "database name with underscore",
			json: `{"databases": {"my_db": {"engine": "mysql", "dsn": "x"}}}`,
			env:  []string{"DQM_DATABASES_MY_DB_CATALOG_TABLE", "dqm.catalog"},
			get:  func(c *Config) any { return c.Databases["my_db"].Catalog.Table },
			want: "dqm.catalog",
		},
		{
			name: "DQM_DATABASES adds a database",
			json: demoJSON,
			env: []string{"DQM_DATABASES", "demo, reports",
				"DQM_DATABASES_REPORTS_ENGINE", "postgres", "DQM_DATABASES_REPORTS_DSN", "postgres://r@h/db",
				"DQM_DATABASES_REPORTS_HEARTBEAT_S", "7"},
			get: func(c *Config) any {
				d := c.Databases["reports"]
				return []any{len(c.Databases), d.Name, d.Engine, d.DSN.Reveal(), d.HeartbeatS, d.Catalog.Table}
			},
			want: []any{2, "reports", "postgres", "postgres://r@h/db", 7, "queries"},
		},
		{
			name:    "DQM_DATABASES without the pair",
			env:     []string{"DQM_DATABASES", "reports", "DQM_DATABASES_REPORTS_ENGINE", "postgres"},
			wantErr: []string{"databases.reports: named in DQM_DATABASES but not in the file: set both DQM_DATABASES_REPORTS_ENGINE and DQM_DATABASES_REPORTS_DSN to add it"},
		},
		{
			name: "bad numbers name the variable",
			json: demoJSON,
			env: []string{"DQM_HTTP_MAX_BODY_BYTES", "1MB", "DQM_DATABASES_DEMO_QUEUES_FAST_MAX", "",
				"DQM_DATABASES_DEMO_HEARTBEAT_S", "99999999999999999999"},
			wantErr: []string{
				`databases.demo.heartbeat_s: DQM_DATABASES_DEMO_HEARTBEAT_S="99999999999999999999" is not a valid integer`,
				`databases.demo.queues.fast.max: DQM_DATABASES_DEMO_QUEUES_FAST_MAX="" is not a valid integer`,
				`http.max_body_bytes: DQM_HTTP_MAX_BODY_BYTES="1MB" is not a valid integer`,
			},
		},
		{
			name:    "overridden values are validated",
			json:    demoJSON,
			env:     []string{"DQM_DATABASES_DEMO_ENGINE", "oracle", "DQM_LOG_FORMAT", "xml"},
			wantErr: []string{`databases.demo.engine: unknown engine "oracle" (want postgres, mysql, sqlite, db2)`, `log.format: unknown format "xml" (want text, json)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), env(tt.env...))
			if tt.wantErr != nil {
				if got := problemsOf(t, err); !slices.Equal(got, tt.wantErr) {
					t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	data := `{
  "nats": {"url": "embedded", "listen": "nowhere", "store_dir": "", "tls": {"cert": "c.pem"}},
  "http": {"listen": "127.0.0.1:99999", "max_body_bytes": 0, "max_queries_per_request": -1, "shutdown_timeout_ms": 0},
  "log": {"level": "loud", "format": "xml"},
  "databases": {
    "9bad": {"engine": "sqlite", "dsn": "x"},
    "demo": {"engine": "oracle", "dsn": "", "catalog": {"table": "queries; drop table x"},
             "queues": {"turbo": {"min": 1, "max": 1}, "slow": {"min": -1, "max": 1},
                        "fast": {"min": 3, "max": 2}, "cache": {"min": 1, "max": 0}},
             "heartbeat_s": 0, "queue_depth_limit": 0,
             "triggers": {"tables": ["ok", "bad name", "ok"], "poll_ms": 0},
             "max_deliver": 0, "ack_wait_ms": 1000, "default_timeout_ms": 5000,
             "stmt_cache_size": -1, "scale_down_after_s": 0, "lead_ttl_s": 0, "max_rows": 0,
             "idempotency_window_s": 0},
    "pg": {"engine": "", "dsn": "x", "catalog": {"table": ""}, "default_timeout_ms": 0}
  }
}`
	want := []string{
		`databases.9bad: invalid database name (want [a-z][a-z0-9_]{0,62}, case-insensitive)`,
		`databases.demo.ack_wait_ms: must be >= default_timeout_ms (5000), got 1000`,
		`databases.demo.catalog.table: invalid table name "queries; drop table x" (want name or schema.name, letters, digits and _)`,
		`databases.demo.dsn: required`,
		`databases.demo.engine: unknown engine "oracle" (want postgres, mysql, sqlite, db2)`,
		`databases.demo.heartbeat_s: must be >= 1, got 0`,
		`databases.demo.idempotency_window_s: must be >= 1, got 0`,
		`databases.demo.lead_ttl_s: must be >= 1, got 0`,
		`databases.demo.max_deliver: must be >= 1, got 0`,
		`databases.demo.max_rows: must be >= 1, got 0`,
		`databases.demo.queue_depth_limit: must be >= 1, got 0`,
		`databases.demo.queues.cache.min: must be 0 when max is 0 (the Lead serves the tag), got 1`,
		`databases.demo.queues.fast.max: must be >= min (3), got 2`,
		`databases.demo.queues.slow.min: must be >= 0, got -1`,
		`databases.demo.queues.turbo: unknown queue tag (want slow, medium, fast, cache)`,
		`databases.demo.scale_down_after_s: must be >= 1, got 0`,
		`databases.demo.stmt_cache_size: must be >= 0, got -1`,
		`databases.demo.triggers.poll_ms: must be >= 1, got 0`,
		`databases.demo.triggers.tables[1]: invalid table name "bad name" (want name or schema.name, letters, digits and _)`,
		`databases.demo.triggers.tables[2]: duplicate table "ok"`,
		`databases.pg.catalog.table: required`,
		`databases.pg.default_timeout_ms: must be >= 1, got 0`,
		`databases.pg.engine: required (want postgres, mysql, sqlite, db2)`,
		`http.listen: invalid port "99999" in "127.0.0.1:99999"`,
		`http.max_body_bytes: must be >= 1, got 0`,
		`http.max_queries_per_request: must be >= 1, got -1`,
		`http.shutdown_timeout_ms: must be >= 1, got 0`,
		`log.format: unknown format "xml" (want text, json)`,
		`log.level: unknown level "loud" (want debug, info, warn, error)`,
		`nats.listen: want host:port, got "nowhere"`,
		`nats.store_dir: required when nats.url is "embedded"`,
		`nats.tls.key: required when nats.tls.cert is set`,
	}
	_, err := Parse([]byte(data), env())
	got := problemsOf(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("Error() is not one line per problem:\n%s", err)
	}

	// Validate on a hand-built Config reports the same kind of problems.
	c := Default()
	c.NATS.URL = "http://example.com"
	c.Databases = nil
	got = problemsOf(t, c.Validate())
	want = []string{
		`nats.url: invalid URL (want "embedded" or nats://, tls://, ws:// or wss:// URLs, comma-separated)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Validate problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidNATSURLs(t *testing.T) {
	for _, u := range []string{"embedded", "nats://a:4222", "nats://a:4222, tls://b:4222", "localhost:4222", "wss://x.example/"} {
		c := Default()
		c.NATS.URL = u
		c.NATS.Listen, c.NATS.StoreDir = "", "" // unused unless embedded
		if u == "embedded" {
			c.NATS.Listen, c.NATS.StoreDir = ":4250", "d"
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestDecodeProblems(t *testing.T) {
	data := `{
  "nats": {"urll": "embedded", "url": "embedded", "url": "again"},
  "http": {"Listen": ":80", "max_body_bytes": "1MB", "max_queries_per_request": 2.5},
  "logging": {},
  "databases": {
    "demo": {"engin": "sqlite", "dsn": "x", "queues": {"fast": {"min": 1, "maximum": 2}},
             "triggers": {"tables": "numbers"}},
    "Demo": {"engine": "sqlite", "dsn": "y"}
  }
}`
	want := []string{
		`databases.Demo: duplicate of "demo": database names are case-insensitive (line 8, column 5)`,
		`databases.demo.engin: unknown key (line 6, column 14); did you mean "engine"?`,
		`databases.demo.engine: required (want postgres, mysql, sqlite, db2)`,
		`databases.demo.queues.fast.maximum: unknown key (line 6, column 75)`,
		`databases.demo.triggers.tables: want an array, got a string (line 7, column 37)`,
		`http.Listen: unknown key (line 3, column 12); did you mean "listen"?`,
		`http.max_body_bytes: want an integer, got a string (line 3, column 47)`,
		`http.max_queries_per_request: want an integer, got 2.5 (line 3, column 81)`,
		`logging: unknown key (line 4, column 3)`,
		`nats.url: duplicate key (line 2, column 51)`,
		`nats.urll: unknown key (line 2, column 12); did you mean "url"?`,
	}
	_, err := Parse([]byte(data), env())
	got := problemsOf(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The engine is really missing ("engin" is a typo), but a wrong type does
	// not also produce a follow-up validation problem for the same key.
	_, err = Parse([]byte(`{"http": {"max_body_bytes": "big"}}`), env())
	if got := problemsOf(t, err); len(got) != 1 {
		t.Errorf("want 1 problem, got %q", got)
	}
}

func TestBadJSON(t *testing.T) {
	tests := []struct {
		json string
		want string
	}{
		{"{\n  \"nats\": {\n    \"url\": x}}", "line 3, column 12: invalid character 'x' looking for beginning of value"},
		{`{"a": 1,}`, "line 1, column 9: invalid character '}' looking for beginning of object key string"},
		{"{\"a\": 1", "line 1, column 8: unexpected end of JSON input"},
		{"{} {}", "line 1, column 4: invalid character '{' after top-level value"},
		{"{\"é\": \"ü\" x}", "line 1, column 11: invalid character 'x' after object key:value pair"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.json), env())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want …%s", tt.json, err, tt.want)
		}
		var se *json.SyntaxError
		if tt.json != "{\"a\": 1" && !errors.As(err, &se) {
			t.Errorf("Parse(%q): error does not wrap *json.SyntaxError", tt.json)
		}
	}
	if _, err := Parse([]byte(`[1]`), env()); err == nil || !strings.Contains(err.Error(), "must be an object") {
		t.Errorf("top-level array: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)

	// No file at the default path: defaults.
	for _, p := range []string{"", DefaultPath, "./" + DefaultPath} {
		c, err := Load(p)
		if err != nil {
			t.Fatalf("Load(%q): %v", p, err)
		}
		if len(c.Databases) != 0 {
			t.Errorf("Load(%q): hidden databases %v", p, c.Databases)
		}
	}
	// An explicit path that is missing is an error.
	if _, err := Load(filepath.Join(dir, "other.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing explicit file: %v", err)
	}

	t.Setenv("DQM_TEST_SECRET", "from-env-0123456789abcdef0123456789abcdef")
	t.Setenv("DQM_HTTP_LISTEN", ":9999")
	if err := os.WriteFile(DefaultPath, []byte(`{"auth": {"jwt_secret": "{$env.DQM_TEST_SECRET}"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.JWTSecret.Reveal() != "from-env-0123456789abcdef0123456789abcdef" || c.HTTP.Listen != ":9999" {
		t.Errorf("Load: jwt %q listen %q", c.Auth.JWTSecret.Reveal(), c.HTTP.Listen)
	}

	if err := os.WriteFile("bad.json", []byte("{\n\"nats\": }"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("bad.json"); err == nil || !strings.HasPrefix(err.Error(), "config: bad.json:2:9: invalid JSON: ") {
		t.Errorf("Load(bad.json) = %v", err)
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		queues map[string]Queue
		want   []string
	}{
		{nil, nil},
		{map[string]Queue{"cache": {}, "fast": {}, "slow": {}}, []string{"slow", "fast", "cache"}},
		{map[string]Queue{"medium": {}, "bogus": {}}, []string{"medium"}},
	}
	for _, tt := range tests {
		d := &Database{Queues: tt.queues}
		if got := d.Tags(); !slices.Equal(got, tt.want) {
			t.Errorf("Tags(%v) = %v, want %v", tt.queues, got, tt.want)
		}
	}
	if got := slices.Clone(schemas.Tags); !slices.Equal(got, []string{"slow", "medium", "fast", "cache"}) {
		t.Errorf("slices.Clone(schemas.Tags) = %v", got)
	}
}

const (
	jwt    = "jwt-very-secret-value-of-32-bytes-or-more"
	pgPass = "pg-very-secret-pass"
)

func secretConfig(t *testing.T) *Config {
	return mustParse(t, `{"auth": {"jwt_secret": "`+jwt+`"},
		"databases": {"pg": {"engine": "postgres", "dsn": "postgresql://user:`+pgPass+`@host/db"},
		              "lite": {"engine": "sqlite", "dsn": "/secret/path/`+pgPass+`.db"}}}`, env())
}

func TestSecretRedaction(t *testing.T) {
	c := secretConfig(t)
	s, dsn := c.Auth.JWTSecret, c.Databases["pg"].DSN

	fmtCases := []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", s, "[redacted]"},
		{"%s", s, "[redacted]"},
		{"%+v", s, "[redacted]"},
		{"%q", s, `"[redacted]"`},
		{"%12s|", s, "  [redacted]|"},
		{"%#v", s, `config.Secret("[redacted]")`},
		{"%d", s, "%!d(redacted)"},
		{"%v", c.Auth, "{[redacted]   30   false dqm_admin}"},
		{"%+v", c.Auth, "{JWTSecret:[redacted] JWTPublicKeyFile: JWKSFile: LeewayS:30 Audience: Issuer: AltRequiresDatabasesClaim:false AdminClaim:dqm_admin}"},
		{"%v", Secret(""), ""},
		{"%v", dsn, "postgresql://user:xxxxx@host/db"},
		{"%s", dsn, "postgresql://user:xxxxx@host/db"},
		{"%#v", dsn, `config.DSN("postgresql://user:xxxxx@host/db")`},
		{"%v", c.Databases["lite"].DSN, "[redacted]"},
	}
	for _, tt := range fmtCases {
		if got := fmt.Sprintf(tt.format, tt.arg); got != tt.want {
			t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
	if s.String() != "[redacted]" || s.Reveal() != jwt || dsn.Reveal() != "postgresql://user:"+pgPass+"@host/db" {
		t.Error("String/Reveal mismatch")
	}

	// Whole structures, through every printer: the secrets never appear.
	outputs := map[string]string{
		"%v config":    fmt.Sprintf("%v", c),
		"%+v config":   fmt.Sprintf("%+v", c),
		"%#v config":   fmt.Sprintf("%#v", c),
		"%+v database": fmt.Sprintf("%+v", c.Databases["pg"]),
		"%+v lite":     fmt.Sprintf("%+v", *c.Databases["lite"]),
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(b)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("loaded", "secret", s, "dsn", dsn, "db", c.Databases["pg"], "config", c)
		outputs[name] = buf.String()
	}
	for name, out := range outputs {
		if strings.Contains(out, jwt) || strings.Contains(out, pgPass) {
			t.Errorf("%s leaks a secret: %s", name, out)
		}
	}
	for _, name := range []string{"json", "slog json"} {
		if !strings.Contains(outputs[name], `"jwt_secret":"[redacted]"`) ||
			!strings.Contains(outputs[name], `"dsn":"postgresql://user:xxxxx@host/db"`) {
			t.Errorf("%s lacks the redacted values: %s", name, outputs[name])
		}
	}
	if !strings.Contains(outputs["slog json"], `"secret":"[redacted]"`) {
		t.Errorf("slog json: %s", outputs["slog json"])
	}
	if !strings.Contains(outputs["slog text"], "secret=[redacted] dsn=postgresql://user:xxxxx@host/db") {
		t.Errorf("slog text: %s", outputs["slog text"])
	}
}

func TestDSNRedaction(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"", ""},
		{"postgresql://user:secret@host/db", "postgresql://user:xxxxx@host/db"},
		{"postgres://user:p%40ss@host:5432/db?sslmode=require", "postgres://user:xxxxx@host:5432/db?sslmode=require"},
		{"postgres://user@host/db", "postgres://user@host/db"},
		{"postgres://host/db?user=u&password=secret&sslmode=disable", "postgres://host/db?user=u&password=xxxxx&sslmode=disable"},
		{"postgres://u:secret@host/db?sslpassword=secret#frag", "postgres://u:xxxxx@host/db?sslpassword=xxxxx"},
		{"mysql://u:secret@tcp/db", "mysql://u:xxxxx@tcp/db"},
		{"u:secret@tcp(127.0.0.1:3306)/db", "[redacted]"},
		{"host=h user=u password=secret", "[redacted]"},
		{"DATABASE=x;HOSTNAME=h;PWD=secret", "[redacted]"},
		{"./data/demo.db", "[redacted]"},
		{"file:demo.db?_pragma=busy_timeout(5000)", "[redacted]"},
		{"postgres://u:sec ret@h/%zz", "[redacted]"},
		{"postgres://u:12/34@h/db", "[redacted]"},
		{"postgres://u:1?2@h/db", "[redacted]"},
		{"postgres://u:p@h1:5432,h2:5432/db", "postgres://u:xxxxx@h1:5432,h2:5432/db"},
	}
	for _, tt := range tests {
		if got := DSN(tt.dsn).String(); got != tt.want {
			t.Errorf("DSN(%q).String() = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestDurations(t *testing.T) {
	d := Demo().Databases["demo"]
	if d.AckWait().Seconds() != 60 || d.DefaultTimeout().Seconds() != 5 || d.Heartbeat().Seconds() != 30 ||
		d.ScaleDownAfter().Seconds() != 30 || d.LeadTTL().Seconds() != 5 || d.Triggers.PollInterval().Seconds() != 1 ||
		Default().HTTP.ShutdownTimeout().Seconds() != 10 {
		t.Error("duration helpers disagree with the fields")
	}
	if Default().Log.SlogLevel() != slog.LevelInfo || (Log{Level: "debug"}).SlogLevel() != slog.LevelDebug {
		t.Error("SlogLevel")
	}
}

// TestTracing: tracing is off by default with sample_ratio 1; the keys
// decode from the file and the environment; bad values are problems.
func TestTracing(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	c, err := Parse([]byte(`{}`), none)
	if err != nil || c.Tracing.OTLPEndpoint != "" || c.Tracing.SampleRatio != 1 {
		t.Fatalf("%+v %v", c.Tracing, err)
	}
	c, err = Parse([]byte(`{"tracing":{"otlp_endpoint":"http://127.0.0.1:4318","sample_ratio":0.25}}`), none)
	if err != nil || c.Tracing.OTLPEndpoint != "http://127.0.0.1:4318" || c.Tracing.SampleRatio != 0.25 {
		t.Fatalf("%+v %v", c.Tracing, err)
	}
	env := map[string]string{"DQM_TRACING_SAMPLE_RATIO": "0.5", "DQM_TRACING_OTLP_ENDPOINT": "https://otel:4318"}
	c, err = Parse([]byte(`{}`), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || c.Tracing.OTLPEndpoint != "https://otel:4318" || c.Tracing.SampleRatio != 0.5 {
		t.Fatalf("%+v %v", c.Tracing, err)
	}
	_, err = Parse([]byte(`{"tracing":{"otlp_endpoint":"otel:4318","sample_ratio":2}}`), none)
	for _, want := range []string{"tracing.otlp_endpoint", "tracing.sample_ratio"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v, want %s", err, want)
		}
	}
	if _, err = Parse([]byte(`{"tracing":{"sample_ratio":"all"}}`), none); err == nil || !strings.Contains(err.Error(), "a number") {
		t.Errorf("err %v", err)
	}
}

// TestDirectReads: databases.<name>.direct_reads is read from the file and
// from DQM_DATABASES_<NAME>_DIRECT_READS; a non-boolean is a problem
// naming the key.
func TestDirectReads(t *testing.T) {
	c := mustParse(t, `{"databases": {"demo": {"engine": "sqlite", "dsn": "x", "direct_reads": true}}}`, env())
	if !c.Databases["demo"].DirectReads {
		t.Fatal("direct_reads from the file: off")
	}
	c = mustParse(t, `{"databases": {"demo": {"engine": "sqlite", "dsn": "x"}}}`, env("DQM_DATABASES_DEMO_DIRECT_READS", "true"))
	if !c.Databases["demo"].DirectReads {
		t.Fatal("direct_reads from the environment: off")
	}
	_, err := Parse([]byte(`{"databases": {"demo": {"engine": "sqlite", "dsn": "x", "direct_reads": "yes"}}}`), env())
	if err == nil || !strings.Contains(err.Error(), "databases.demo.direct_reads") {
		t.Fatalf("err %v", err)
	}
}
