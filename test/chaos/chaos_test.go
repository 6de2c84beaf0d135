//go:build chaos

package chaos

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

var (
	flagRuns    = flag.Int("chaos.runs", 1, "runs of each fault")
	flagFaults  = flag.String("chaos.faults", "", "comma-separated faults to run (default: all)")
	flagResults = flag.String("chaos.results", "", "write the results as JSON to this file")
	flagDoc     = flag.String("chaos.doc", "", "rewrite the generated chaos table in this Markdown file")
	flagHold    = flag.Duration("chaos.hold", 10*time.Second, "how long each fault lasts")
	flagKeep    = flag.Bool("chaos.keep", false, "keep the logs directory")
)

// harness is the cluster under test.
type harness struct {
	t     *testing.T
	nw    *network // nil: loopback, no partitions
	nodes []*node
	dqms  []*dqmProc
	nc    *nats.Conn
	js    jetstream.JetStream
	pgURL string
	dir   string
	bin   string // dqm
}

// setup is the whole system for the fault runs: the cluster and two dqm
// instances at R3, ready.
func setup(t *testing.T) *harness {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h.startDQMs(ctx, 3)
	return h
}

// newHarness builds dqm, makes the network, the database and the NATS
// cluster, and waits until the cluster is healthy; no dqm runs yet.
func newHarness(t *testing.T) *harness {
	bin, err := natsServerBin()
	testutil.Need(t, "nats-server", err)
	pgBase := testutil.PostgresURL(t)
	dir := t.TempDir()
	if *flagKeep {
		dir, _ = os.MkdirTemp("", "dqm-chaos-")
		t.Logf("logs in %s", dir)
	}
	h := &harness{t: t, dir: dir}
	if why := netnsAvailable(); why == "" {
		h.nw = newNetwork(t, 3)
	} else {
		t.Logf("network namespaces unavailable (%s): nodes on loopback, partitions skip", why)
	}
	h.bin = buildDQM(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h.pgURL = pgSetup(t, ctx, pgBase)
	h.nodes = newNodes(t, bin, dir, h.nw, 3)
	for _, nd := range h.nodes {
		if err := nd.start(); err != nil {
			t.Fatal(err)
		}
	}
	h.waitNodes(ctx)
	var urls []string
	for _, nd := range h.nodes {
		urls = append(urls, nd.url())
	}
	if h.nc, err = nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.PingInterval(time.Second), nats.MaxPingsOutstanding(2)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.nc.Close)
	h.js, _ = jetstream.New(h.nc)
	return h
}

// startDQMs starts two dqm instances at replicas and waits until the
// system is healthy.
func (h *harness) startDQMs(ctx context.Context, replicas int) {
	h.t.Helper()
	h.dqms = newDQMs(h.t, h.bin, h.dir, h.pgURL, h.nodes, 2, replicas)
	for _, p := range h.dqms {
		if err := p.start(); err != nil {
			h.t.Fatal(err)
		}
	}
	h.waitHealthy(ctx)
}

// waitNodes waits until every node is healthy and they agree on a meta
// leader.
func (h *harness) waitNodes(ctx context.Context) {
	h.t.Helper()
	h.poll(ctx, "NATS cluster healthy", func() bool {
		leader := ""
		for _, nd := range h.nodes {
			if !nd.healthy(ctx) {
				return false
			}
			l := nd.metaLeader(ctx)
			if l == "" || leader != "" && l != leader {
				return false
			}
			leader = l
		}
		return true
	})
}

// waitHealthy waits for the whole system: every node healthy, the request
// stream led with every replica current, both instances ready.
func (h *harness) waitHealthy(ctx context.Context) {
	h.t.Helper()
	h.waitNodes(ctx)
	h.poll(ctx, "request stream led, replicas current, instances ready", func() bool {
		if l, current := h.streamLeader(ctx); l == "" || current != h.replicas()-1 {
			return false
		}
		for _, p := range h.dqms {
			if !p.ready(ctx) {
				return false
			}
		}
		return true
	})
}

func (h *harness) poll(ctx context.Context, what string, cond func() bool) {
	h.t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			h.t.Fatalf("not within the bound: %s (logs in %s)", what, h.dir)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// streamLeader is the request stream's leader and how many of its other
// replicas are current.
func (h *harness) streamLeader(ctx context.Context) (string, int) {
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := h.js.Stream(actx, schemas.StreamName("chaos"))
	if err != nil {
		return "", 0
	}
	info := st.CachedInfo()
	if info.Cluster == nil {
		return "", 0
	}
	current := 0
	for _, r := range info.Cluster.Replicas {
		if r.Current && !r.Offline {
			current++
		}
	}
	return info.Cluster.Leader, current
}

func (h *harness) node(name string) *node {
	for _, nd := range h.nodes {
		if nd.name == name {
			return nd
		}
	}
	h.t.Fatalf("no node %q", name)
	return nil
}

// fault is one kind of failure: inject breaks something and returns what
// heal puts right.
type fault struct {
	name   string
	what   string
	netns  bool // needs network namespaces
	inject func(ctx context.Context, h *harness) (victim string, heal func())
}

var faults = []fault{
	{name: "kill-stream-leader", what: "kill -9 of the node leading the request stream",
		inject: func(ctx context.Context, h *harness) (string, func()) {
			nd := h.streamLeaderNode(ctx)
			nd.kill()
			return nd.name, func() { h.must(nd.start()) }
		}},
	{name: "kill-meta-leader", what: "kill -9 of the JetStream meta leader",
		inject: func(ctx context.Context, h *harness) (string, func()) {
			nd := h.node(h.nodes[0].metaLeader(ctx))
			nd.kill()
			return nd.name, func() { h.must(nd.start()) }
		}},
	{name: "sigstop-node", what: "SIGSTOP of the node leading the request stream",
		inject: func(ctx context.Context, h *harness) (string, func()) {
			nd := h.streamLeaderNode(ctx)
			h.must(nd.signal(syscall.SIGSTOP))
			return nd.name, func() { h.must(nd.signal(syscall.SIGCONT)) }
		}},
	{name: "partition-node", what: "network partition isolating the node leading the request stream", netns: true,
		inject: func(ctx context.Context, h *harness) (string, func()) {
			nd := h.streamLeaderNode(ctx)
			h.must(h.nw.cut(nd.i))
			return nd.name, func() { h.must(h.nw.heal(nd.i)) }
		}},
	{name: "kill-dqm-during-node-loss", what: "kill -9 of the Lead's dqm instance while the stream leader node is down",
		inject: func(ctx context.Context, h *harness) (string, func()) {
			nd := h.streamLeaderNode(ctx)
			p := h.dqms[0]
			if h.dqms[1].leader(ctx) {
				p = h.dqms[1]
			}
			nd.kill()
			p.kill()
			return nd.name + "+" + p.name, func() { h.must(nd.start()); h.must(p.start()) }
		}},
}

func (h *harness) streamLeaderNode(ctx context.Context) *node {
	l, _ := h.streamLeader(ctx)
	if l == "" {
		h.t.Fatal("request stream has no leader")
	}
	return h.node(l)
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// runRec is one fault run.
type runRec struct {
	fault, phase, victim string
	injected, healed     time.Time
}

func TestChaos(t *testing.T) {
	h := setup(t)
	selected := faults
	if *flagFaults != "" {
		names := strings.Split(*flagFaults, ",")
		selected = slices.DeleteFunc(slices.Clone(faults), func(f fault) bool { return !slices.Contains(names, f.name) })
	}
	ld := newLoad(h.dqms)
	goClient, err := client.New(h.nc)
	if err != nil {
		t.Fatal(err)
	}
	defer goClient.Close()
	ld.goClient = goClient
	loadCtx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); ld.run(loadCtx, 4, 2, 25*time.Millisecond) }()
	defer func() { stopLoad(); <-loadDone }()

	var runs []runRec
	var skipped []string
	for _, f := range selected {
		if f.netns && h.nw == nil {
			if testutil.InCI() {
				t.Errorf("%s: network namespaces are required under CI", f.name)
			}
			skipped = append(skipped, f.name)
			continue
		}
		for r := 1; r <= *flagRuns; r++ {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			h.waitHealthy(ctx)
			phase := fmt.Sprintf("%s-%02d", f.name, r)
			ld.setPhase(phase)
			pause(time.Second) // requests flowing before the fault
			rec := runRec{fault: f.name, phase: phase, injected: time.Now()}
			victim, heal := f.inject(ctx, h)
			rec.victim = victim
			pause(*flagHold)
			rec.healed = time.Now()
			heal()
			runs = append(runs, rec)
			t.Logf("%s: victim %s", phase, victim)
			pause(3 * time.Second) // what the heal itself disturbs
			cancel()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h.waitHealthy(ctx)
	ld.setPhase("cooldown")
	pause(2 * time.Second)
	stopLoad()
	<-loadDone
	res := check(ctx, t, h, ld, runs, selected, skipped)
	report(t, res)
}

// pause lets the load run for d: the suite's clock, not a wait for a
// condition.
func pause(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}

// replicas is the request stream's configured replica count.
func (h *harness) replicas() int {
	actx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := h.js.Stream(actx, schemas.StreamName("chaos"))
	if err != nil {
		return 0
	}
	return st.CachedInfo().Config.Replicas
}
