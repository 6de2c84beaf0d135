package test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/lead"
)

// TestReplicationStatus: at R3 on three nodes the status endpoint, the
// heartbeat in KV and the gauges show every stream led with three current
// replicas; when two nodes go, the request stream has no leader and
// /readyz turns 503 naming the database.
func TestReplicationStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	cluster := testutil.Cluster(t, 3)
	cfg := testConfig(t)
	cfg.NATS.URL = testutil.URLs(cluster)
	cfg.NATS.Replicas = 3
	s := start(t, cfg)
	testutil.Eventually(t, 30*time.Second, "every stream led, three current", func() bool {
		rep := s.Replication()
		if len(rep.Streams) != 6 || rep.Replicas != 3 || rep.Warning != "" {
			return false
		}
		for _, st := range rep.Streams {
			if st.Leader == "" || st.Current != 3 || st.Replicas != 3 {
				return false
			}
		}
		return true
	})
	code, body, _ := call(t, s, "GET", "/api/conduit/status", "")
	rep, _ := body["replication"].(map[string]any)
	demo, _ := body["databases"].(map[string]any)["demo"].(map[string]any)
	stream, _ := demo["stream"].(map[string]any)
	if code != 200 || rep == nil || len(rep["streams"].([]any)) != 6 || stream["stream"] != "DQM_DEMO" || stream["leader"] == "" {
		t.Fatalf("status %d: %v", code, body)
	}
	js, _ := jetstream.New(s.NATS())
	testutil.Eventually(t, 15*time.Second, "the heartbeat shows the streams", func() bool {
		hbs, err := lead.ReadStatus(context.Background(), js, "demo")
		return err == nil && len(hbs) == 1 && len(hbs[0].Streams) == 6 && hbs[0].Streams[0].Stream == "DQM_DEMO"
	})
	metrics := get(t, "http://"+s.HTTPAddr()+"/metrics")
	for _, want := range []string{`dqm_stream_replicas{stream="DQM_DEMO"} 3`, `dqm_stream_replicas_current{stream="KV_dqm_leaders"} 3`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Two of three nodes gone: no quorum, no leader.
	for _, ns := range cluster[1:] {
		ns.Shutdown()
	}
	testutil.Eventually(t, 60*time.Second, "not ready without a stream leader", func() bool {
		code, body, _ := call(t, s, "GET", "/readyz", "")
		nr, _ := body["not_ready"].([]any)
		return code == http.StatusServiceUnavailable && len(nr) == 1 && nr[0] == "demo"
	})
}

// TestReplicationWarning: one replica on a three-node cluster is warned
// about, in status as in the log.
func TestReplicationWarning(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	cluster := testutil.Cluster(t, 3)
	cfg := testConfig(t)
	cfg.NATS.URL = testutil.URLs(cluster)
	s := start(t, cfg)
	testutil.Eventually(t, 15*time.Second, "a warning", func() bool {
		return strings.Contains(s.Replication().Warning, "nats.replicas is 1 on NATS cluster")
	})
	_, body, _ := call(t, s, "GET", "/api/conduit/status", "")
	if w, _ := body["replication"].(map[string]any)["warning"].(string); !strings.Contains(w, "set nats.replicas to 3") {
		t.Fatalf("status: %v", body)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
