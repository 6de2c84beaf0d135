package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dqmhq/dqm/schemas"
)

// DefaultPath is the configuration file Load reads when given "". When the
// file at DefaultPath does not exist, Load falls back to Default().
const DefaultPath = "dqm.json"

var (
	engines = schemas.Engines
	tags    = schemas.Tags
)

// Config is dqm's whole configuration, as read from dqm.json.
type Config struct {
	NATS      NATS                 `json:"nats"`
	HTTP      HTTP                 `json:"http"`
	Auth      Auth                 `json:"auth"`
	Log       Log                  `json:"log"`
	Cache     Cache                `json:"cache"`
	Databases map[string]*Database `json:"databases"`
	// DeadLetters bounds stream DQM_DLQ, which keeps every database's dead
	// letters for `dqm dlq`.
	DeadLetters DeadLetters `json:"dead_letters"`
	// Tracing exports OpenTelemetry spans; off unless OTLPEndpoint is set.
	Tracing Tracing `json:"tracing"`
}

// Tracing configures OpenTelemetry: spans for ingress, queue wait and
// execution, exported over OTLP/HTTP (protobuf). The W3C trace context of
// requests rides through (ce-traceparent) and logs carry trace_id either
// way.
type Tracing struct {
	// OTLPEndpoint is the collector's base URL, e.g. http://127.0.0.1:4318
	// (spans go to /v1/traces unless it has a path); "" (the default) is off.
	OTLPEndpoint string `json:"otlp_endpoint"`
	// SampleRatio is the share of new traces sampled, 0 to 1 (default 1);
	// a request with a sampled parent follows its parent.
	SampleRatio float64 `json:"sample_ratio"`
}

// DeadLetters bounds what the dead-letter stream keeps: the oldest go
// first past either bound.
type DeadLetters struct {
	MaxAgeS int   `json:"max_age_s"`
	MaxMsgs int64 `json:"max_msgs"`
}

// MaxAge is MaxAgeS as a duration.
func (d DeadLetters) MaxAge() time.Duration { return time.Duration(d.MaxAgeS) * time.Second }

// Cache bounds each instance's result cache of cache-tag queries.
// WatermarkMS is how often each instance tells every cache (the instance
// caches and the Go clients' near-caches) how many invalidations it
// published per database: a cache that missed one drops that database
// within one interval, and one that hears nothing for two intervals drops
// it too.
type Cache struct {
	MaxEntries  int   `json:"max_entries"`
	MaxBytes    int64 `json:"max_bytes"`
	WatermarkMS int   `json:"watermark_ms"`
}

// Watermark is WatermarkMS as a duration.
func (c Cache) Watermark() time.Duration { return ms(c.WatermarkMS) }

// NATS configures the JetStream connection. URL "embedded" runs an
// in-process server listening on Listen and storing in StoreDir; any other
// value is a client URL (or comma-separated list) and Listen and StoreDir are
// ignored.
//
// User and Password, Token, NKeySeedFile and Credentials are the ways dqm's
// connection authenticates (at most one); they are not used for an
// instance's own connection to its embedded server, which authenticates as
// an in-process user of its own (see Embedded), but they are what the CLI
// presents when it reaches an embedded server at Listen.
type NATS struct {
	URL      string `json:"url"`
	Listen   string `json:"listen"`
	StoreDir string `json:"store_dir"`
	User     string `json:"user"`
	Password Secret `json:"password"`
	Token    Secret `json:"token"`
	// NKeySeedFile is the path of a file holding an NKey user seed (SU...).
	NKeySeedFile string `json:"nkey_seed_file"`
	Credentials  string `json:"credentials"` // optional path to a .creds file
	// TLS is the client side: CA verifies the server (default: the system
	// roots), Cert and Key are the client certificate. Verification cannot
	// be turned off.
	TLS TLS `json:"tls"`
	// Embedded secures the embedded server; used only when URL is "embedded".
	Embedded Embedded `json:"embedded"`
	// ReplyPrefixes are the subject prefixes a request's reply inbox may
	// start with (default _INBOX.); see schemas.CheckReplySubject.
	ReplyPrefixes []string `json:"reply_prefixes"`
	// Sync is the embedded server's fsync policy for JetStream's files:
	// "always" (fsync before every acknowledgement) or an interval such as
	// "1s" (the default; nats-server's own default is 2m). See SyncPolicy.
	Sync string `json:"sync"`
	// SetupTimeoutMS bounds how long launch retries creating streams,
	// consumers and KV buckets while a NATS cluster forms or elects a
	// leader ("no suitable peers for placement"); then launch fails.
	SetupTimeoutMS int `json:"setup_timeout_ms"`
	// Replicas is how many NATS nodes hold each stream, consumer and KV
	// bucket dqm creates: 1, 3 or 5.
	Replicas int `json:"replicas"`
}

// SetupTimeout returns SetupTimeoutMS as a duration.
func (n NATS) SetupTimeout() time.Duration { return ms(n.SetupTimeoutMS) }

// SyncPolicy reads Sync: always, or the interval between fsyncs.
func (n NATS) SyncPolicy() (always bool, every time.Duration, err error) {
	if n.Sync == "always" {
		return true, 0, nil
	}
	d, err := time.ParseDuration(n.Sync)
	if err != nil || d <= 0 {
		return false, 0, fmt.Errorf(`want "always" or a positive duration such as "1s"`)
	}
	return false, d, nil
}

// TLS holds optional PEM file paths for the NATS connection. Cert and Key
// must be set together.
type TLS struct {
	CA   string `json:"ca"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Embedded secures the embedded nats-server. TLS is the server side: Cert
// and Key are the server certificate, CA (optional) makes the server require
// and verify client certificates. Users, when any are given, make the server
// require authentication; each user may publish and subscribe only to the
// subjects listed (an absent list allows nothing).
type Embedded struct {
	TLS   TLS        `json:"tls"`
	Users []NATSUser `json:"users"`
	// Cluster, when Name is set, routes the embedded server into a NATS
	// cluster with other dqm instances' embedded servers (cluster.go).
	Cluster Cluster `json:"cluster"`
}

// NATSUser is one user of the embedded server and its subject permissions
// (NATS subjects, wildcards * and > allowed).
type NATSUser struct {
	User      string   `json:"user"`
	Password  Secret   `json:"password"`
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// HTTP configures the ingress HTTP server.
type HTTP struct {
	Listen               string `json:"listen"`
	MaxBodyBytes         int64  `json:"max_body_bytes"`
	MaxQueriesPerRequest int    `json:"max_queries_per_request"`
	// ShutdownTimeoutMS bounds how long shutdown waits for in-flight work.
	ShutdownTimeoutMS int `json:"shutdown_timeout_ms"`
	// MaxResponseBytes bounds one response body, a batch's included: a
	// larger one is answered 413 too_large instead.
	MaxResponseBytes int64 `json:"max_response_bytes"`
	// ReadTimeoutMS bounds reading a whole request, body included, so a
	// body trickled slowly cannot hold a connection.
	ReadTimeoutMS int `json:"read_timeout_ms"`
	// ReadHeaderTimeoutMS bounds reading a request's headers.
	ReadHeaderTimeoutMS int `json:"read_header_timeout_ms"`
	// WriteTimeoutMS bounds a request from the end of its headers to the
	// end of its response; it must cover the longest query timeout.
	WriteTimeoutMS int `json:"write_timeout_ms"`
	// IdleTimeoutMS is how long a keep-alive connection may wait for its
	// next request.
	IdleTimeoutMS int `json:"idle_timeout_ms"`
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int `json:"max_header_bytes"`
	// MaxInFlight bounds the /api/ requests served at once; past it a
	// request is answered 503 unavailable with Retry-After.
	MaxInFlight int `json:"max_in_flight"`
}

// ShutdownTimeout returns ShutdownTimeoutMS as a duration.
func (h HTTP) ShutdownTimeout() time.Duration { return ms(h.ShutdownTimeoutMS) }

// ReadTimeout returns ReadTimeoutMS as a duration.
func (h HTTP) ReadTimeout() time.Duration { return ms(h.ReadTimeoutMS) }

// ReadHeaderTimeout returns ReadHeaderTimeoutMS as a duration.
func (h HTTP) ReadHeaderTimeout() time.Duration { return ms(h.ReadHeaderTimeoutMS) }

// WriteTimeout returns WriteTimeoutMS as a duration.
func (h HTTP) WriteTimeout() time.Duration { return ms(h.WriteTimeoutMS) }

// IdleTimeout returns IdleTimeoutMS as a duration.
func (h HTTP) IdleTimeout() time.Duration { return ms(h.IdleTimeoutMS) }

// MinHMACSecretBytes is the shortest auth.jwt_secret accepted: an HS256
// key shorter than its hash is guessable offline from one token.
const MinHMACSecretBytes = 32

// Auth configures bearer tokens (JWT) for the auth_* and alt_* endpoints.
// With no key at all (no secret, no public key file, no JWKS file) those
// endpoints answer 401 saying auth is not configured.
type Auth struct {
	// JWTSecret is the HMAC key (HS256, HS384, HS512), at least
	// MinHMACSecretBytes long.
	JWTSecret Secret `json:"jwt_secret"`
	// JWTPublicKeyFile is a PEM public key (RSA → RS256/384/512, ECDSA →
	// ES256/384/512 by curve, Ed25519 → EdDSA).
	JWTPublicKeyFile string `json:"jwt_public_key_file"`
	// JWKSFile is a JSON Web Key Set file (RSA, EC and OKP keys); a token's
	// kid picks its key.
	JWKSFile string `json:"jwks_file"`
	// LeewayS is the clock skew allowed on exp, nbf and iat.
	LeewayS int `json:"leeway_s"`
	// Audience, when set, must be in the token's aud.
	Audience string `json:"audience"`
	// Issuer, when set, must equal the token's iss.
	Issuer string `json:"issuer"`
	// AltRequiresDatabasesClaim makes alt_* refuse (403) a token without a
	// databases claim; otherwise such a token may target any database.
	AltRequiresDatabasesClaim bool `json:"alt_requires_databases_claim"`
}

// Leeway returns LeewayS as a duration.
func (a Auth) Leeway() time.Duration { return time.Duration(a.LeewayS) * time.Second }

// Enabled reports whether any token key is configured.
func (a Auth) Enabled() bool {
	return a.JWTSecret != "" || a.JWTPublicKeyFile != "" || a.JWKSFile != ""
}

// Log configures logging: Level is debug, info, warn or error; Format is
// text or json.
type Log struct {
	Level  string `json:"level"`
	Format string `json:"format"`
}

// SlogLevel returns Level as a slog.Level (info for unknown values; Validate
// rejects those).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Database is one database served by dqm, keyed by its name in
// Config.Databases.
type Database struct {
	// Name is the lower-cased key under "databases"; it is not in the JSON.
	Name    string  `json:"-"`
	Engine  string  `json:"engine"` // postgres, mysql, sqlite or db2
	DSN     DSN     `json:"dsn"`
	Catalog Catalog `json:"catalog"`
	// Queues maps a tag (slow, medium, fast, cache) to its worker bounds.
	// Tags absent from the map are not configured.
	Queues          map[string]Queue `json:"queues"`
	HeartbeatS      int              `json:"heartbeat_s"`
	QueueDepthLimit int              `json:"queue_depth_limit"`
	Triggers        Triggers         `json:"triggers"`
	// MaxDeliver is how many times JetStream delivers a query message.
	MaxDeliver int `json:"max_deliver"`
	// AckWaitMS is the JetStream ack wait; it must be at least the largest
	// query timeout (Validate checks it against DefaultTimeoutMS only).
	AckWaitMS int `json:"ack_wait_ms"`
	// DefaultTimeoutMS is the query timeout when the catalog entry says 0.
	DefaultTimeoutMS int `json:"default_timeout_ms"`
	// StmtCacheSize is the prepared-statement cache size per connection
	// (an LRU keyed by SQL text); 0 means the engine default (128).
	StmtCacheSize int `json:"stmt_cache_size"`
	// IdempotentWrites (default true) records each write's request id in
	// dqm_requests in the write's own transaction, so a redelivered or
	// retried write is answered from the record instead of running twice.
	// The table must exist (catalog.manage_tables creates it).
	IdempotentWrites bool `json:"idempotent_writes"`
	// DirectReads (default false) puts every read-only catalog entry of
	// the database on the direct lane: core NATS request/reply to its
	// workers (db.<name>.direct) instead of its JetStream queues. Writes
	// stay on the queues. An entry may also opt in alone ("direct": true
	// in a catalog file).
	DirectReads bool `json:"direct_reads"`
	// IdempotencyWindowS is how long a write's record (its request id,
	// body hash and first outcome) is kept: a retry with the same id or
	// Idempotency-Key within it is answered with that outcome; after it,
	// the id is new again. The Lead prunes older records.
	IdempotencyWindowS int `json:"idempotency_window_s"`
	// ScaleDownAfterS is how long a worker above Min idles before it stops.
	ScaleDownAfterS int `json:"scale_down_after_s"`
	// LeadTTLS is the lifetime of the Lead's lease.
	LeadTTLS int `json:"lead_ttl_s"`
	// MaxRows bounds the rows of one result for entries without their own
	// max_rows; a result over it is answered 413 too_large, never re-run.
	MaxRows int `json:"max_rows"`
	// DuplicateWindowMS is how long the request stream remembers a
	// request id (Nats-Msg-Id), so a publish retried within it is queued
	// once. 0 means DefaultDuplicateWindow. JetStream keeps every id of
	// the window in memory: roughly 150 bytes × requests/s × window.
	DuplicateWindowMS int `json:"duplicate_window_ms"`
}

// Catalog says where a database's query catalog lives.
type Catalog struct {
	Table string `json:"table"`
	File  string `json:"file"`
	Host  string `json:"host"`
	// ManageTables (default true) lets dqm create the catalog table (named
	// by Table) and dqm_requests when they are missing, and prune
	// dqm_requests. Off, the operator creates them (schemas/ddl/).
	ManageTables bool `json:"manage_tables"`
}

// Queue bounds the number of workers for one tag. Max 0 means the Lead
// serves the tag itself (Min must then be 0).
type Queue struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Triggers configures change polling: the tables to watch and the interval.
type Triggers struct {
	Tables []string `json:"tables"`
	PollMS int      `json:"poll_ms"`
}

// PollInterval returns PollMS as a duration.
func (t Triggers) PollInterval() time.Duration { return ms(t.PollMS) }

// Tags returns the configured queue tags in the fixed order slow, medium,
// fast, cache.
func (d *Database) Tags() []string {
	var out []string
	for _, t := range tags {
		if _, ok := d.Queues[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// Heartbeat returns HeartbeatS as a duration.
func (d *Database) Heartbeat() time.Duration { return time.Duration(d.HeartbeatS) * time.Second }

// AckWait returns AckWaitMS as a duration.
func (d *Database) AckWait() time.Duration { return ms(d.AckWaitMS) }

// DefaultTimeout returns DefaultTimeoutMS as a duration.
func (d *Database) DefaultTimeout() time.Duration { return ms(d.DefaultTimeoutMS) }

// DuplicateWindow returns DuplicateWindowMS as a duration, or
// DefaultDuplicateWindow when it is 0.
func (d *Database) DuplicateWindow() time.Duration {
	if d.DuplicateWindowMS > 0 {
		return ms(d.DuplicateWindowMS)
	}
	return DefaultDuplicateWindow(d)
}

// ScaleDownAfter returns ScaleDownAfterS as a duration.
func (d *Database) ScaleDownAfter() time.Duration {
	return time.Duration(d.ScaleDownAfterS) * time.Second
}

// IdempotencyWindow returns IdempotencyWindowS as a duration.
func (d *Database) IdempotencyWindow() time.Duration {
	return time.Duration(d.IdempotencyWindowS) * time.Second
}

// LeadTTL returns LeadTTLS as a duration.
func (d *Database) LeadTTL() time.Duration { return time.Duration(d.LeadTTLS) * time.Second }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// ValidationError lists every problem found in a configuration, sorted,
// each naming the key it is about ("databases.demo.engine: ...").
type ValidationError struct {
	Problems []string
}

// Error returns the problems, one per line.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads the configuration file at path and passes it to Parse with
// os.LookupEnv; it also reports files named under nats (certificates,
// credentials, the NKey seed) that do not exist. path "" means DefaultPath; if the file at DefaultPath does
// not exist the result is Default() plus environment overrides. Any other
// missing file is an error.
func Load(path string) (*Config, error) {
	if path == "" {
		path = DefaultPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) || filepath.Clean(path) != DefaultPath {
			return nil, fmt.Errorf("config: %w", err)
		}
		data = nil
	}
	c, err := parse(data, os.LookupEnv, true)
	var se *syntaxError
	if errors.As(err, &se) {
		se.file = path
	}
	return c, err
}

// Parse builds a validated Config from the contents of a dqm.json file,
// looking environment variables up with getenv. Empty (or all-whitespace)
// data means "no file". The steps are: start from Default(); decode the
// JSON over it (a "databases" or "queues" object replaces the default one;
// each new database starts from the per-database defaults); apply DQM_*
// overrides; substitute {$env.NAME} references in every string; validate.
//
// Malformed JSON yields an error giving line and column. Every other
// problem (unknown or duplicate keys, wrong types, bad override values,
// unset variables, invalid values) is collected into one *ValidationError.
//
// Overrides: each key can be set with DQM_ plus its upper-cased path joined
// by "_" (DQM_HTTP_MAX_BODY_BYTES, DQM_DATABASES_DEMO_QUEUES_FAST_MAX);
// numbers are parsed, lists are comma-separated. Because getenv cannot list
// variables, databases not in the file are added by naming them in
// DQM_DATABASES (comma-separated); each must then have
// DQM_DATABASES_<NAME>_ENGINE and DQM_DATABASES_<NAME>_DSN set.
//
// Substitution: "{$env.NAME}" (NAME matching [A-Za-z_][A-Za-z0-9_]*) is
// replaced by the variable's value, which may be empty but must be set.
// Values are not rescanned, and there is no escape syntax.
//
// A nil getenv means an empty environment.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	return parse(data, getenv, false)
}

// parse is Parse; with files, it also reports files named in the
// configuration (certificates, credentials) that cannot be read.
func parse(data []byte, getenv func(string) (string, bool), files bool) (*Config, error) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	c := Default()
	var ps problems
	if len(bytes.TrimSpace(data)) > 0 {
		root, err := parseJSON(data)
		if err != nil {
			return nil, err
		}
		if root.kind != kObject {
			line, col := lineCol(data, root.off)
			return nil, fmt.Errorf("config: the top-level JSON value must be an object, got %s (line %d, column %d)", root.kind, line, col)
		}
		d := decoder{data: data, ps: &ps}
		d.decode("", root, reflect.ValueOf(c).Elem())
	}
	for name, db := range c.Databases {
		if db != nil {
			db.Name = name
		}
	}
	e := envApplier{getenv: getenv, ps: &ps, origin: map[string]string{}}
	e.addDatabases(c)
	walk(nil, reflect.ValueOf(c).Elem(), e.override)
	walk(nil, reflect.ValueOf(c).Elem(), e.substitute)

	// Validation problems about a key that already failed to decode or
	// substitute would only repeat the same mistake; drop them.
	bad := map[string]bool{}
	for _, p := range ps {
		bad[p.key] = true
	}
	var vs problems
	c.validate(&vs)
	if files {
		c.NATS.checkFiles(&vs)
	}
	for _, p := range vs {
		if !bad[p.key] {
			ps = append(ps, p)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// problem is one validation finding about key.
type problem struct{ key, msg string }

type problems []problem

func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, problem{key, fmt.Sprintf(format, args...)})
}

// err returns nil or a *ValidationError with the problems sorted and deduplicated.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		// Keys and messages may quote JSON keys or variable values: escape
		// what would break "one line per problem".
		if p.key == "" {
			lines = append(lines, printable(p.msg))
		} else {
			lines = append(lines, printable(p.key)+": "+printable(p.msg))
		}
	}
	sort.Strings(lines)
	out := lines[:1]
	for _, l := range lines[1:] {
		if l != out[len(out)-1] {
			out = append(out, l)
		}
	}
	return &ValidationError{Problems: out}
}

// printable returns s with control characters and invalid UTF-8 escaped as
// in a Go string literal; other text is unchanged.
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
