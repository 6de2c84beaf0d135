package node_test

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"

	"github.com/dqmhq/dqm/internal/testutil"
)

var installed = struct {
	once sync.Once
	out  []byte
	err  error
}{}

// tools returns node and npm after one `npm ci` for the package's tests:
// without them (or the npm registry) a test skips locally and fails
// under CI.
func tools(t *testing.T, ctx context.Context) (node, npm string) {
	t.Helper()
	node, err := exec.LookPath("node")
	testutil.Need(t, "node", err)
	npm, err = exec.LookPath("npm")
	testutil.Need(t, "npm", err)
	installed.once.Do(func() {
		installed.out, installed.err = exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput()
	})
	if installed.err != nil {
		// Most likely the npm registry cannot be reached.
		testutil.Need(t, "npm ci (the npm registry)", fmt.Errorf("%v\n%s", installed.err, installed.out))
	}
	return node, npm
}
