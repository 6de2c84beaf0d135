//go:build chaos

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// natsServerBin finds nats-server: $DQM_NATS_SERVER, then $GOBIN, GOPATH's
// bin (where `go install` puts it) and PATH. Debian's packaged one is too
// old for this suite and is not looked for.
func natsServerBin() (string, error) {
	cands := []string{os.Getenv("DQM_NATS_SERVER"), os.Getenv("GOBIN")}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			cands = append(cands, filepath.Join(p, "bin"))
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			c = filepath.Join(c, "nats-server")
		}
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	if p, err := exec.LookPath("nats-server"); err == nil && p != "/usr/sbin/nats-server" {
		return p, nil
	}
	return "", fmt.Errorf("nats-server not found (go install github.com/nats-io/nats-server/v2@v2.15.3, or set DQM_NATS_SERVER)")
}

// node is one nats-server process: a host of the cluster.
type node struct {
	i       int
	name    string
	bin     string
	ns      string // network namespace ("" on loopback)
	ip      string
	client  int
	cluster int
	monitor int
	conf    string
	log     string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// newNodes writes the configuration of n routed nodes: in the network's
// namespaces when nw is set, else on loopback with free ports.
func newNodes(t *testing.T, bin, dir string, nw *network, n int) []*node {
	t.Helper()
	nodes := make([]*node, n)
	for i := range nodes {
		nd := &node{i: i + 1, name: fmt.Sprintf("n%d", i+1), bin: bin, ip: "127.0.0.1"}
		if nw != nil {
			nd.ns, nd.ip = nw.ns(i+1), nw.ip(i+1)
			nd.client, nd.cluster, nd.monitor = 4222, 6222, 8222
		} else {
			nd.client, nd.cluster, nd.monitor = freePort(t), freePort(t), freePort(t)
		}
		nodes[i] = nd
	}
	var routes []string
	for _, nd := range nodes {
		routes = append(routes, fmt.Sprintf("nats://%s:%d", nd.ip, nd.cluster))
	}
	for _, nd := range nodes {
		store := filepath.Join(dir, nd.name)
		nd.conf, nd.log = filepath.Join(dir, nd.name+".conf"), filepath.Join(dir, nd.name+".log")
		conf := fmt.Sprintf(`server_name: %s
listen: "%s:%d"
http: "%s:%d"
jetstream { store_dir: %q }
cluster {
  name: chaos
  listen: "%s:%d"
  routes: [%s]
}
`, nd.name, nd.ip, nd.client, nd.ip, nd.monitor, store, nd.ip, nd.cluster, strings.Join(quoteAll(routes), ", "))
		if err := os.WriteFile(nd.conf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nd.kill)
	}
	return nodes
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func (nd *node) url() string { return fmt.Sprintf("nats://%s:%d", nd.ip, nd.client) }

// start runs the node (again, on the same store after a kill).
func (nd *node) start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		return fmt.Errorf("%s already running", nd.name)
	}
	lf, err := os.OpenFile(nd.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{nd.bin, "-c", nd.conf}
	if nd.ns != "" {
		// ip netns exec execs the server itself: its pid is the server's.
		args = append([]string{"ip", "netns", "exec", nd.ns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); lf.Close(); close(exited) }()
	nd.cmd, nd.exited = cmd, exited
	return nil
}

// signal sends sig to the running node.
func (nd *node) signal(sig syscall.Signal) error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return fmt.Errorf("%s not running", nd.name)
	}
	return nd.cmd.Process.Signal(sig)
}

// kill is kill -9, then waits for the process to be gone.
func (nd *node) kill() {
	nd.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.cmd = nil
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies on SIGKILL too, but be sure
	cmd.Process.Kill()
	<-exited
}

// pid is the running server's process id (0 if none).
func (nd *node) pid() int {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return 0
	}
	return nd.cmd.Process.Pid
}

var monitorClient = &http.Client{Timeout: time.Second}

// healthy is the node's /healthz: JetStream on, current with its meta
// group, its streams and consumers.
func (nd *node) healthy(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s:%d/healthz", nd.ip, nd.monitor), nil)
	resp, err := monitorClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// metaLeader is the JetStream meta leader as this node sees it.
func (nd *node) metaLeader(ctx context.Context) string {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s:%d/jsz", nd.ip, nd.monitor), nil)
	resp, err := monitorClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var jsz struct {
		Meta *struct {
			Leader string `json:"leader"`
		} `json:"meta_cluster"`
	}
	if json.NewDecoder(resp.Body).Decode(&jsz) != nil || jsz.Meta == nil {
		return ""
	}
	return jsz.Meta.Leader
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
