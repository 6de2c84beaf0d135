package client

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/internal/testutil"
)

// forbidden are the packages a service must not link by importing the
// client: a database driver, the NATS server, a JWT library, the
// OpenTelemetry SDK (its API is fine), Prometheus, and dqm's server side.
var forbidden = regexp.MustCompile(`pgx|mysql|sqlite|nats-server|golang-jwt|otel/sdk|otel/exporters|prometheus|` +
	`dqm/(ingress|workers|lead|engines)(/|$)|dqm/internal/(server|catalog|config|metrics|tracing)(/|$)`)

// TestDependencies: the client links nothing forbidden, whatever comes
// to import it later.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	testutil.Need(t, "the go command", err)
	out, err := exec.Command(goTool, "list", "-deps", "github.com/dqmhq/dqm/client").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		if forbidden.MatchString(d) {
			t.Errorf("the client links %s", d)
		}
	}
	t.Logf("%d packages", len(deps))
}
