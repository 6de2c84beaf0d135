package config

import (
	"strings"
	"testing"
)

// TestAdminClaim: auth.admin_claim defaults to dqm_admin, may be renamed,
// and is refused when empty, malformed or a claim tokens carry for
// another reason.
func TestAdminClaim(t *testing.T) {
	if c := Default(); c.Auth.AdminClaim != "dqm_admin" {
		t.Fatalf("default %q", c.Auth.AdminClaim)
	}
	if c := mustParse(t, `{"auth": {"admin_claim": "https://example.com/dqm:admin"}}`, env()); c.Auth.AdminClaim != "https://example.com/dqm:admin" {
		t.Fatalf("set: %q", c.Auth.AdminClaim)
	}
	for _, bad := range []string{"", "sub", "databases", "has space", "1st", strings.Repeat("a", 101)} {
		_, err := Parse([]byte(`{"auth": {"admin_claim": "`+bad+`"}}`), env())
		if err == nil || !strings.Contains(err.Error(), "auth.admin_claim") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
