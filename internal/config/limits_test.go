package config

import (
	"strings"
	"testing"
	"time"
)

func TestHTTPLimitsAndAuthDefaults(t *testing.T) {
	c := Default()
	h := c.HTTP
	if h.MaxResponseBytes != 16<<20 || h.ReadTimeout() != 30*time.Second || h.ReadHeaderTimeout() != 10*time.Second ||
		h.WriteTimeout() != 2*time.Minute || h.IdleTimeout() != 2*time.Minute || h.MaxHeaderBytes != 64<<10 || h.MaxInFlight != 1024 {
		t.Errorf("http defaults: %+v", h)
	}
	if c.Auth.Leeway() != 30*time.Second || c.Auth.Enabled() {
		t.Errorf("auth defaults: %+v", c.Auth)
	}
	c = mustParse(t, "", env("DQM_AUTH_JWT_SECRET", strings.Repeat("k", 32), "DQM_HTTP_MAX_IN_FLIGHT", "7"))
	if !c.Auth.Enabled() || c.HTTP.MaxInFlight != 7 {
		t.Errorf("overrides: %+v %+v", c.Auth, c.HTTP)
	}
}

func TestHTTPLimitsAndAuthProblems(t *testing.T) {
	_, err := Parse([]byte(`{"http": {"max_response_bytes": 10, "read_timeout_ms": 1000, "read_header_timeout_ms": 2000,
		"write_timeout_ms": 0, "idle_timeout_ms": -1, "max_header_bytes": 100, "max_in_flight": 0},
		"auth": {"jwt_secret": "short-secret", "leeway_s": -1}}`), env())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"http.max_response_bytes: must be >= 1024",
		"http.read_header_timeout_ms: must be <= read_timeout_ms",
		"http.write_timeout_ms: must be >= 1",
		"http.idle_timeout_ms: must be >= 1",
		"http.max_header_bytes: must be >= 1024",
		"http.max_in_flight: must be >= 1",
		"auth.jwt_secret: too short: at least 32 bytes",
		"auth.leeway_s: must be >= 0",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "short-secret") {
		t.Error("the secret is echoed")
	}
}
