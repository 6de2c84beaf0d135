package config

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// positionRE is how a syntax or top-level error locates itself.
var positionRE = regexp.MustCompile(`line \d+, column \d+|:\d+:\d+: `)

// FuzzParse feeds Parse arbitrary files and environments. It must never
// panic; a success validates again; every failure names a position (bad
// JSON) or is one line per problem, each naming its key.
func FuzzParse(f *testing.F) {
	for _, s := range []struct{ data, env string }{
		{specJSON, "DQM_JWT_SECRET=x"},
		{`{}`, ""},
		{``, "DQM_DATABASES=pg\nDQM_DATABASES_PG_ENGINE=postgres\nDQM_DATABASES_PG_DSN=postgres://u:p@h/db"},
		{`{"nats": {"url": "nats://a:4222", "user": "u", "password": "{$env.PW}", "tls": {"ca": "ca.pem"}}}`, "PW=secret"},
		{`{"nats": {"embedded": {"users": [{"user": "svc", "password": "p", "publish": ["db.demo.>"], "subscribe": ["_INBOX.>"]}]}}}`,
			"DQM_NATS_EMBEDDED_USERS_0_PASSWORD=q"},
		{`{"nats": {"embedded": {"users": [{"user": 1}, null, [], {"password": {"x": 1}}]}}}`, ""},
		{`{"databases": {"Demo": {"engine": "sqlite", "dsn": "x"}, "demo": {}}}`, ""},
		{`{"databases": {"demo": {"queues": {"fast": {"min": 1e3, "max": -0}}}}}`, "DQM_DATABASES_DEMO_QUEUES_SLOW_MAX=x"},
		{`{"databases": {"a\nb": {"engine": "x\u0000"}}, "ü\n": 1}`, "DQM_DATABASES=x\ny"},
		{`{"http": {"listen": "{$env.", "max_body_bytes": 99999999999999999999}}`, ""},
		{`{"log": {"level": true}} {`, ""},
		{`[{"nats": 1}]`, ""},
		{"{\"a\": \"\xff\"}", ""},
	} {
		f.Add([]byte(s.data), s.env)
	}
	f.Fuzz(func(t *testing.T, data []byte, environ string) {
		vars := map[string]string{}
		for _, kv := range strings.Split(environ, "\n") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
		getenv := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
		c, err := Parse(data, getenv)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without an error")
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted what Validate refuses: %v", err)
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			return
		}
		if c != nil {
			t.Fatal("a config with an error")
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			if !positionRE.MatchString(err.Error()) {
				t.Fatalf("error names no position: %v", err)
			}
			return
		}
		lines := strings.Split(err.Error(), "\n")
		if len(ve.Problems) == 0 || len(lines) != len(ve.Problems) {
			t.Fatalf("%d problems in %d lines: %q", len(ve.Problems), len(lines), err.Error())
		}
		for _, l := range lines {
			if k, _, ok := strings.Cut(l, ": "); !ok || k == "" {
				t.Fatalf("problem names no key: %q", l)
			}
		}
	})
}

func TestProblemsAreOneLineEach(t *testing.T) {
	_, err := Parse([]byte(`{"nats": {"a\nb": 1}, "databases": {"x\u0000y": {}}}`), env())
	want := []string{
		`databases.x\x00y.dsn: required`,
		`databases.x\x00y.engine: required (want postgres, mysql, sqlite, db2)`,
		`databases.x\x00y: invalid database name (want [a-z][a-z0-9_]{0,62}, case-insensitive)`,
		`nats.a\nb: unknown key (line 1, column 11)`,
	}
	if got := problemsOf(t, err); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Parse([]byte(` "x"`), env()); err == nil || !strings.Contains(err.Error(), "(line 1, column 2)") {
		t.Errorf("top-level string: %v", err)
	}
}
