package replication

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dqmhq/dqm/internal/metrics"
	tu "github.com/dqmhq/dqm/internal/testutil"
)

func TestWarning(t *testing.T) {
	for _, tc := range []struct {
		replicas, servers int
		cluster           string
		warn              bool
	}{
		{1, 3, "c", true},
		{3, 3, "c", false},
		{1, 1, "", false},  // a single server: nothing to lose to
		{1, 1, "c", false}, // a cluster block, one server known
	} {
		got := Warning(tc.replicas, tc.cluster, tc.servers)
		if (got != "") != tc.warn {
			t.Errorf("Warning(%d, %q, %d) = %q", tc.replicas, tc.cluster, tc.servers, got)
		}
		if got != "" && !strings.Contains(got, "set nats.replicas to 3") {
			t.Errorf("warning does not say what to do: %q", got)
		}
	}
}

func TestStreams(t *testing.T) {
	got := strings.Join(Streams([]string{"pg", "demo"}), " ")
	if want := "DQM_PG DQM_DEMO DQM_CHANGES DQM_DLQ KV_dqm_leaders KV_dqm_status KV_dqm_catalog"; got != want {
		t.Fatalf("Streams = %q, want %q", got, want)
	}
}

// TestInspectSingle: on a single server a stream is led by it, with no
// cluster; a missing stream says so.
func TestInspectSingle(t *testing.T) {
	js, _ := jetstream.New(tu.Connect(t, tu.NATS(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "DQM_PG", Subjects: []string{"db.pg.>"}}); err != nil {
		t.Fatal(err)
	}
	r, cluster := Inspect(ctx, js, "DQM_PG")
	if r.Replicas != 1 || r.Current != 1 || r.Error != "" || cluster != "" {
		t.Fatalf("single server: %+v, cluster %q", r, cluster)
	}
	if r, _ := Inspect(ctx, js, "DQM_NONE"); r.Error != "no such stream" || r.Current != 0 {
		t.Fatalf("missing stream: %+v", r)
	}
}

// TestWatcherCluster: on three nodes an R3 stream shows its leader and
// three current replicas; with one node shut down, the watcher reports
// it offline and the gauge drops to two; with quorum lost, the stream has
// no leader and Led turns false.
func TestWatcherCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	servers := tu.Cluster(t, 3)
	nc, err := nats.Connect(servers[0].ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tu.Eventually(t, 30*time.Second, "R3 stream created", func() bool {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "DQM_PG", Subjects: []string{"db.pg.>"}, Replicas: 3})
		return err == nil
	})
	m := metrics.New()
	w := &Watcher{JS: js, NC: nc, Streams: []string{"DQM_PG"}, Replicas: 3, Metrics: m}
	tu.Eventually(t, 30*time.Second, "three current replicas", func() bool {
		w.Check(ctx)
		s, _ := w.Stream("DQM_PG")
		return s.Leader != "" && s.Current == 3 && w.Led("DQM_PG")
	})
	if got := testutil.ToFloat64(m.StreamReplicasCurrent.WithLabelValues("DQM_PG")); got != 3 {
		t.Fatalf("dqm_stream_replicas_current = %v", got)
	}
	if rep := w.Snapshot(); rep.Cluster != "dqm-test" || rep.Warning != "" || len(rep.Streams) != 1 {
		t.Fatalf("snapshot %+v", rep)
	}
	// The connection stays on servers[0]: shut the others down, one then
	// the other.
	servers[2].Shutdown()
	tu.Eventually(t, 30*time.Second, "n2 offline", func() bool {
		w.Check(ctx)
		s, _ := w.Stream("DQM_PG")
		return s.Current == 2 && len(s.Offline)+len(s.Lagging) == 1
	})
	if got := testutil.ToFloat64(m.StreamReplicasCurrent.WithLabelValues("DQM_PG")); got != 2 {
		t.Fatalf("dqm_stream_replicas_current = %v after a node loss", got)
	}
	servers[1].Shutdown()
	tu.Eventually(t, 30*time.Second, "no leader without quorum", func() bool {
		w.Check(ctx)
		return !w.Led("DQM_PG")
	})
	if got := testutil.ToFloat64(m.StreamReplicasCurrent.WithLabelValues("DQM_PG")); got != 0 {
		t.Fatalf("dqm_stream_replicas_current = %v without a leader", got)
	}
	if f := w.For("pg"); len(f) != 1 || f[0].Stream != "DQM_PG" {
		t.Fatalf("For(pg) = %+v", f)
	}
	if f := w.For("other"); len(f) != 0 {
		t.Fatalf("For(other) = %+v", f)
	}
}
