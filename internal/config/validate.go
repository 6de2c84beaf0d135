package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	nameRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	tableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)
)

// Validate checks the whole configuration and returns nil or a
// *ValidationError listing every problem. It does no I/O: files named in the
// configuration are not opened and addresses are not dialed.
func (c *Config) Validate() error {
	var ps problems
	c.validate(&ps)
	return ps.err()
}

func (c *Config) validate(ps *problems) {
	c.NATS.validate(ps)

	h := c.HTTP
	hostPort(ps, "http.listen", h.Listen)
	atLeast(ps, "http.max_body_bytes", h.MaxBodyBytes, 1)
	atLeast(ps, "http.max_queries_per_request", int64(h.MaxQueriesPerRequest), 1)
	atLeast(ps, "http.shutdown_timeout_ms", int64(h.ShutdownTimeoutMS), 1)
	atLeast(ps, "http.max_response_bytes", h.MaxResponseBytes, 1024)
	atLeast(ps, "http.read_timeout_ms", int64(h.ReadTimeoutMS), 1)
	atLeast(ps, "http.read_header_timeout_ms", int64(h.ReadHeaderTimeoutMS), 1)
	if h.ReadHeaderTimeoutMS > h.ReadTimeoutMS && h.ReadTimeoutMS >= 1 {
		ps.add("http.read_header_timeout_ms", "must be <= read_timeout_ms (%d), got %d", h.ReadTimeoutMS, h.ReadHeaderTimeoutMS)
	}
	atLeast(ps, "http.write_timeout_ms", int64(h.WriteTimeoutMS), 1)
	atLeast(ps, "http.idle_timeout_ms", int64(h.IdleTimeoutMS), 1)
	atLeast(ps, "http.max_header_bytes", int64(h.MaxHeaderBytes), 1024)
	atLeast(ps, "http.max_in_flight", int64(h.MaxInFlight), 1)
	c.Auth.validate(ps)

	atLeast(ps, "cache.max_entries", int64(c.Cache.MaxEntries), 0)
	atLeast(ps, "dead_letters.max_age_s", int64(c.DeadLetters.MaxAgeS), 1)
	atLeast(ps, "dead_letters.max_msgs", c.DeadLetters.MaxMsgs, 1)
	atLeast(ps, "cache.max_bytes", c.Cache.MaxBytes, 0)
	atLeast(ps, "cache.watermark_ms", int64(c.Cache.WatermarkMS), 50)

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		ps.add("log.level", "unknown level %q (want debug, info, warn, error)", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		ps.add("log.format", "unknown format %q (want text, json)", c.Log.Format)
	}

	if t := c.Tracing; t.SampleRatio < 0 || t.SampleRatio > 1 {
		ps.add("tracing.sample_ratio", "must be between 0 and 1, got %v", t.SampleRatio)
	}
	if e := c.Tracing.OTLPEndpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.add("tracing.otlp_endpoint", "want an http:// or https:// URL such as http://127.0.0.1:4318, got %q", e)
		}
	}

	// No databases is valid: the CLI's configs often name only NATS. `dqm
	// serve` refuses to start without one.
	for key, d := range c.Databases {
		d.validate(ps, key)
	}
}

func (a Auth) validate(ps *problems) {
	if n := len(a.JWTSecret.Reveal()); n > 0 && n < MinHMACSecretBytes {
		// Never echo the secret, not even its length's neighbourhood.
		ps.add("auth.jwt_secret", "too short: at least %d bytes (e.g. openssl rand -hex 32)", MinHMACSecretBytes)
	}
	atLeast(ps, "auth.leeway_s", int64(a.LeewayS), 0)
	if a.LeewayS > 600 {
		ps.add("auth.leeway_s", "must be <= 600, got %d", a.LeewayS)
	}
	if a.AltRequiresDatabasesClaim && !a.Enabled() {
		ps.add("auth.alt_requires_databases_claim", "set, but no key is configured (jwt_secret, jwt_public_key_file or jwks_file)")
	}
	if !adminClaimRE.MatchString(a.AdminClaim) || slices.Contains(reservedClaims, a.AdminClaim) {
		ps.add("auth.admin_claim", "want a claim name of letters, digits and _ . : / - (at most 100), not a registered claim or database(s); got %q", a.AdminClaim)
	}
}

// adminClaimRE and reservedClaims bound auth.admin_claim: a claim of its
// own, never one a token carries for another reason.
var (
	adminClaimRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:/-]{0,99}$`)
	reservedClaims = []string{"exp", "nbf", "iat", "aud", "iss", "sub", "jti", "database", "databases"}
)

func (d *Database) validate(ps *problems, key string) {
	p := "databases." + key
	if !nameRE.MatchString(strings.ToLower(key)) {
		ps.add(p, "invalid database name (want [a-z][a-z0-9_]{0,62}, case-insensitive)")
	}
	if d == nil {
		ps.add(p, "must be an object")
		return
	}
	if d.Name != "" && d.Name != strings.ToLower(key) {
		ps.add(p, "Name %q does not match the key", d.Name)
	}
	want := strings.Join(engines, ", ")
	switch {
	case d.Engine == "":
		ps.add(p+".engine", "required (want %s)", want)
	case !slices.Contains(engines, d.Engine):
		ps.add(p+".engine", "unknown engine %q (want %s)", d.Engine, want)
	}
	if d.DSN == "" {
		ps.add(p+".dsn", "required")
	}
	switch {
	case d.Catalog.Table == "":
		ps.add(p+".catalog.table", "required")
	case !tableRE.MatchString(d.Catalog.Table):
		ps.add(p+".catalog.table", "invalid table name %q (want name or schema.name, letters, digits and _)", d.Catalog.Table)
	}
	for tag, q := range d.Queues {
		qk := p + ".queues." + tag
		if !slices.Contains(tags, tag) {
			ps.add(qk, "unknown queue tag (want %s)", strings.Join(tags, ", "))
		}
		switch {
		case q.Min < 0:
			ps.add(qk+".min", "must be >= 0, got %d", q.Min)
		case q.Max == 0 && q.Min > 0:
			ps.add(qk+".min", "must be 0 when max is 0 (the Lead serves the tag), got %d", q.Min)
		case q.Max < q.Min:
			ps.add(qk+".max", "must be >= min (%d), got %d", q.Min, q.Max)
		}
	}
	atLeast(ps, p+".heartbeat_s", int64(d.HeartbeatS), 1)
	atLeast(ps, p+".queue_depth_limit", int64(d.QueueDepthLimit), 1)
	seen := map[string]bool{}
	for i, t := range d.Triggers.Tables {
		tk := fmt.Sprintf("%s.triggers.tables[%d]", p, i)
		switch {
		case !tableRE.MatchString(t):
			ps.add(tk, "invalid table name %q (want name or schema.name, letters, digits and _)", t)
		case seen[t]:
			ps.add(tk, "duplicate table %q", t)
		}
		seen[t] = true
	}
	atLeast(ps, p+".triggers.poll_ms", int64(d.Triggers.PollMS), 1)
	atLeast(ps, p+".max_deliver", int64(d.MaxDeliver), 1)
	atLeast(ps, p+".default_timeout_ms", int64(d.DefaultTimeoutMS), 1)
	if d.AckWaitMS < d.DefaultTimeoutMS {
		ps.add(p+".ack_wait_ms", "must be >= default_timeout_ms (%d), got %d", d.DefaultTimeoutMS, d.AckWaitMS)
	} else {
		atLeast(ps, p+".ack_wait_ms", int64(d.AckWaitMS), 1)
	}
	atLeast(ps, p+".stmt_cache_size", int64(d.StmtCacheSize), 0)
	atLeast(ps, p+".scale_down_after_s", int64(d.ScaleDownAfterS), 1)
	atLeast(ps, p+".lead_ttl_s", int64(d.LeadTTLS), 1)
	if d.DuplicateWindowMS != 0 {
		// JetStream refuses a window under 100 ms; under a second would
		// not cover one publish retry.
		atLeast(ps, p+".duplicate_window_ms", int64(d.DuplicateWindowMS), 1000)
	}
	atLeast(ps, p+".max_rows", int64(d.MaxRows), 1)
	atLeast(ps, p+".idempotency_window_s", int64(d.IdempotencyWindowS), 1)
}

func atLeast(ps *problems, key string, v, lo int64) {
	if v < lo {
		ps.add(key, "must be >= %d, got %d", lo, v)
	}
}

// hostPort checks a listen address such as "127.0.0.1:8080" or ":8080".
func hostPort(ps *problems, key, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		ps.add(key, "want host:port, got %q", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		ps.add(key, "invalid port %q in %q", port, addr)
	}
}

// validNATSURL accepts host[:port] or a nats, tls, ws or wss URL with a host.
func validNATSURL(s string) bool {
	if s == "" {
		return false
	}
	if !strings.Contains(s, "://") {
		return !strings.ContainsAny(s, "/ ")
	}
	u, err := url.Parse(s)
	return err == nil && slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme) && u.Host != ""
}
