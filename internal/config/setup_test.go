package config

import (
	"strings"
	"testing"
	"time"
)

func TestSetupTimeoutAndDuplicateWindow(t *testing.T) {
	c := Default()
	if c.NATS.SetupTimeout() != 30*time.Second {
		t.Errorf("setup timeout default %v", c.NATS.SetupTimeout())
	}
	d := newDatabase("x")
	if d.DuplicateWindow() != 30*time.Second {
		t.Errorf("duplicate window default %v, want 30s", d.DuplicateWindow())
	}
	d.DefaultTimeoutMS = 45000
	if d.DuplicateWindow() != 55*time.Second {
		t.Errorf("duplicate window with a 45 s default timeout: %v, want 55s", d.DuplicateWindow())
	}
	d.DuplicateWindowMS = 5000
	if d.DuplicateWindow() != 5*time.Second {
		t.Errorf("duplicate window set: %v", d.DuplicateWindow())
	}
	c = mustParse(t, "", env("DQM_NATS_SETUP_TIMEOUT_MS", "0"))
	if c.NATS.SetupTimeout() != 0 {
		t.Errorf("setup timeout override: %v", c.NATS.SetupTimeout())
	}

	_, err := Parse([]byte(`{"nats": {"setup_timeout_ms": -1},
		"databases": {"d": {"engine": "sqlite", "dsn": "x.db", "duplicate_window_ms": 10}}}`), env())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"nats.setup_timeout_ms: must be >= 0", "databases.d.duplicate_window_ms: must be >= 1000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
