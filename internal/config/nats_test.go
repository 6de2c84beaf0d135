package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNATSSecurityProblems(t *testing.T) {
	for _, tt := range []struct {
		name, nats string
		want       []string
	}{
		{"user without password", `{"url": "nats://a:4222", "user": "svc"}`,
			[]string{"nats.password: required when nats.user is set"}},
		{"password without user", `{"url": "nats://a:4222", "password": "pw"}`,
			[]string{"nats.user: required when nats.password is set"}},
		{"token with user", `{"url": "nats://a:4222", "user": "svc", "password": "pw", "token": "t"}`,
			[]string{"nats.token: cannot be used together with nats.user (one authentication method)"}},
		{"creds with nkey", `{"url": "nats://a:4222", "nkey_seed_file": "s.nk", "credentials": "c.creds"}`,
			[]string{"nats.credentials: cannot be used together with nats.nkey_seed_file (one authentication method)"}},
		{"one method each", `{"url": "nats://a:4222", "token": "t"}`, nil},
		{"embedded block on a remote URL", `{"url": "nats://a:4222", "embedded": {"users": [{"user": "a", "password": "b"}]}}`,
			[]string{`nats.embedded: set only when nats.url is "embedded"`}},
		{"embedded tls halves", `{"embedded": {"tls": {"key": "k.pem", "ca": "ca.pem"}}}`,
			[]string{
				"nats.embedded.tls.cert: required when nats.embedded.tls.ca is set (client verification needs server TLS)",
				"nats.embedded.tls.cert: required when nats.embedded.tls.key is set",
			}},
		{"embedded users", `{"embedded": {"users": [
			{"user": "svc", "password": "pw", "publish": ["db.demo.>"], "subscribe": ["_INBOX.>"]},
			{"user": "svc", "password": "pw2"},
			{"user": "", "password": ""},
			{"user": "dqm-in-process", "password": "x"},
			{"user": "bad", "password": "x", "publish": ["db..x", "a.>.b", "a b", "ab*"], "subscribe": ["", "*.ok.>"]}]}}`,
			[]string{
				`nats.embedded.users[1].user: duplicate user "svc"`,
				`nats.embedded.users[2].password: required`,
				`nats.embedded.users[2].user: required`,
				`nats.embedded.users[3].user: "dqm-in-process" is reserved for dqm's own in-process connection`,
				`nats.embedded.users[4].publish[0]: invalid subject "db..x" (tokens separated by ".", wildcards * and a final >)`,
				`nats.embedded.users[4].publish[1]: invalid subject "a.>.b" (tokens separated by ".", wildcards * and a final >)`,
				`nats.embedded.users[4].publish[2]: invalid subject "a b" (tokens separated by ".", wildcards * and a final >)`,
				`nats.embedded.users[4].publish[3]: invalid subject "ab*" (tokens separated by ".", wildcards * and a final >)`,
				`nats.embedded.users[4].subscribe[0]: invalid subject "" (tokens separated by ".", wildcards * and a final >)`,
			}},
		{"no insecure_skip_verify", `{"url": "tls://a:4222", "tls": {"insecure_skip_verify": true}}`,
			[]string{"nats.tls.insecure_skip_verify: unknown key (line 1, column 42)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(`{"nats": `+tt.nats+`}`), env())
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := problemsOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestNATSEmbeddedUsers(t *testing.T) {
	data := `{"nats": {"user": "svc", "password": "{$env.SVC_PW}", "embedded": {
		"tls": {"cert": "s.pem", "key": "s.key"},
		"users": [{"user": "svc", "password": "{$env.SVC_PW}", "publish": ["db.demo.>"], "subscribe": ["_INBOX.>"]},
		          {"user": "ops", "password": "x"}]}}}`
	c := mustParse(t, data, env("SVC_PW", "pw-from-env", "DQM_NATS_EMBEDDED_USERS_1_PASSWORD", "ops-pw",
		"DQM_NATS_EMBEDDED_USERS_1_SUBSCRIBE", "a.>, b.*"))
	users := c.NATS.Embedded.Users
	if len(users) != 2 || users[0].Password.Reveal() != "pw-from-env" || c.NATS.Password.Reveal() != "pw-from-env" {
		t.Fatalf("substitution: %+v", c.NATS)
	}
	if users[1].Password.Reveal() != "ops-pw" || !slices.Equal(users[1].Subscribe, []string{"a.>", "b.*"}) {
		t.Errorf("override of a list element: %+v", users[1])
	}
	if !slices.Equal(users[0].Publish, []string{"db.demo.>"}) || users[1].Publish != nil {
		t.Errorf("publish: %+v", users)
	}
	// Secrets in the NATS block print redacted everywhere.
	for _, s := range []string{fmt.Sprint(c.NATS), fmt.Sprintf("%+v %#v", c.NATS, c.NATS), mustJSON(t, c.NATS)} {
		if strings.Contains(s, "pw-from-env") || strings.Contains(s, "ops-pw") {
			t.Errorf("secret printed: %s", s)
		}
	}

	// An unset variable names the list element's key.
	_, err := Parse([]byte(data), env())
	want := []string{
		"nats.embedded.users[0].password: environment variable SVC_PW is not set",
		"nats.password: environment variable SVC_PW is not set",
	}
	if got := problemsOf(t, err); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadChecksNATSFiles(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dqm.json")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf(`{"nats": {"url": "tls://a:4222", "nkey_seed_file": %q, "tls": {"ca": %q, "cert": %q, "key": %q}}}`,
		filepath.Join(dir, "none.nk"), ca, dir, filepath.Join(dir, "k.pem")))
	_, err := Load(path)
	want := []string{
		fmt.Sprintf("nats.nkey_seed_file: file %q: no such file or directory", filepath.Join(dir, "none.nk")),
		fmt.Sprintf("nats.tls.cert: file %q: is a directory", dir),
		fmt.Sprintf("nats.tls.key: file %q: no such file or directory", filepath.Join(dir, "k.pem")),
	}
	if got := problemsOf(t, err); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	write(fmt.Sprintf(`{"nats": {"embedded": {"tls": {"cert": %q, "key": %q, "ca": %q}}}}`, ca, ca, ca))
	if _, err := Load(path); err != nil {
		t.Errorf("existing files: %v", err)
	}
}

func TestNATSReplication(t *testing.T) {
	if c := mustParse(t, ``, env()); c.NATS.Replicas != 1 || c.NATS.Placement.Cluster != "" || c.NATS.Placement.Tags != nil {
		t.Fatalf("default replication: %d %+v", c.NATS.Replicas, c.NATS.Placement)
	}
	c := mustParse(t, `{"nats": {"url": "nats://a:4222", "replicas": 3, "placement": {"cluster": "east", "tags": ["ssd", "az:1"]}}}`, env())
	if c.NATS.Replicas != 3 || c.NATS.Placement.Cluster != "east" || !slices.Equal(c.NATS.Placement.Tags, []string{"ssd", "az:1"}) {
		t.Fatalf("replication: %d %+v", c.NATS.Replicas, c.NATS.Placement)
	}
	c = mustParse(t, ``, env("DQM_NATS_REPLICAS", "5", "DQM_NATS_PLACEMENT_TAGS", "ssd, fast"))
	if c.NATS.Replicas != 5 || !slices.Equal(c.NATS.Placement.Tags, []string{"ssd", "fast"}) {
		t.Fatalf("replication from the environment: %d %+v", c.NATS.Replicas, c.NATS.Placement)
	}
	for _, tt := range []struct {
		name, nats string
		want       []string
	}{
		{"even", `{"replicas": 2}`, []string{"nats.replicas: must be 1, 3 or 5, got 2"}},
		{"zero", `{"replicas": 0}`, []string{"nats.replicas: must be 1, 3 or 5, got 0"}},
		{"past JetStream's most", `{"replicas": 7}`, []string{"nats.replicas: must be 1, 3 or 5, got 7"}},
		{"a word", `{"replicas": "three"}`, []string{"nats.replicas: want an integer, got a string (line 1, column 23)"}},
		{"bad placement", `{"placement": {"cluster": "a b", "tags": ["ssd", "", "SSD", "x y"], "zone": "z"}}`, []string{
			`nats.placement.cluster: invalid cluster name "a b" (no whitespace, '.', '*' or '>')`,
			`nats.placement.tags[1]: invalid tag "" (non-empty, no whitespace)`,
			`nats.placement.tags[2]: duplicate tag "SSD"`,
			`nats.placement.tags[3]: invalid tag "x y" (non-empty, no whitespace)`,
			`nats.placement.zone: unknown key (line 1, column 78)`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(`{"nats": `+tt.nats+`}`), env())
			if got := problemsOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
