// Package node_test runs the Node.js example (query.mjs, the nats npm
// package) against a live dqm: CI proves that a service without Go can
// call dqm with nothing but the wire contract.
package node_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"

	_ "github.com/dqmhq/dqm/engines/sqlite"
)

func TestNodeExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, _ := tools(t, ctx)

	dir := t.TempDir()
	cfg := config.Demo()
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.NATS.StoreDir = filepath.Join(dir, "nats")
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Databases["demo"].DSN = config.DSN(filepath.Join(dir, "demo.db"))
	s, err := server.Start(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	testutil.Eventually(t, 15*time.Second, "ready", s.Ready)

	for _, tc := range []struct {
		name, ref, params string
		ok                bool
		rows              int
		code              string
	}{
		{"range", "55", `{"INTEGER":{"START":10,"FINISH":14}}`, true, 5, ""},
		{"unknown ref", "999", `{}`, false, 0, "query_not_found"},
		{"missing param", "55", `{}`, false, 0, "bad_params"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, node, "query.mjs", "demo", tc.ref, tc.params)
			cmd.Env = append(cmd.Environ(), "NATS_URL="+s.NATS().ConnectedUrl())
			out, err := cmd.Output()
			if tc.ok != (err == nil) {
				t.Fatalf("exit: %v, output %s", err, out)
			}
			var res struct {
				Success  bool   `json:"success"`
				RowCount int    `json:"row_count"`
				Error    string `json:"error"`
				Status   int    `json:"status"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("reply %q: %v", out, err)
			}
			if res.Success != tc.ok || res.RowCount != tc.rows || res.Error != tc.code || res.Status == 0 {
				t.Fatalf("reply %s", out)
			}
		})
	}
}
