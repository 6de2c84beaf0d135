//go:build !db2

package test

import (
	"context"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/internal/server"
)

// TestEngineNotBuiltIn: a database (or a catalog host) on an engine this
// binary lacks is a start error naming the key, not a panic.
func TestEngineNotBuiltIn(t *testing.T) {
	cfg := testConfig(t)
	host := *cfg.Databases["demo"]
	host.Name, host.Engine, host.DSN = "hub", "db2", "HOSTNAME=localhost;PORT=1;DATABASE=x;UID=u;PWD=p"
	cfg.Databases["hub"] = &host
	cfg.Databases["demo"].Catalog.Host = "hub"
	_, err := server.Start(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "databases.hub.engine: db2 is not built into this binary") {
		t.Fatalf("err %v", err)
	}
}
