package testutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Proc is one nats-server process of a ProcCluster. Unlike an embedded
// server it can be killed (SIGKILL) or frozen (SIGSTOP) for real.
type Proc struct {
	Name string // server name, n0, n1, ...
	URL  string // client URL, nats://127.0.0.1:port

	args []string
	log  string // file the process writes its output to

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the running process has exited
}

// ProcCluster is n nats-server processes with JetStream, routed into one
// cluster on loopback ports; see NATSProcesses.
type ProcCluster struct {
	Procs []*Proc
}

// URLs is the comma-separated client URL list of every node.
func (c *ProcCluster) URLs() string {
	urls := make([]string, len(c.Procs))
	for i, p := range c.Procs {
		urls[i] = p.URL
	}
	return strings.Join(urls, ",")
}

// NATSProcesses starts n nats-server processes (the binary NATSServerBin
// gives) clustered on random loopback ports, each with its own store, and
// waits until every node answers JetStream requests. The processes are
// killed when the test ends; their output is logged if the test failed.
func NATSProcesses(t testing.TB, n int) *ProcCluster {
	t.Helper()
	bin := NATSServerBin(t)
	dir := t.TempDir()
	clientPorts, routePorts := make([]int, n), make([]int, n)
	for i := range n {
		clientPorts[i], routePorts[i] = freePort(t), freePort(t)
	}
	routes := make([]string, n)
	for i, p := range routePorts {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	c := &ProcCluster{}
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		p := &Proc{
			Name: name,
			URL:  fmt.Sprintf("nats://127.0.0.1:%d", clientPorts[i]),
			log:  filepath.Join(dir, name+".log"),
			args: []string{bin, "-n", name, "-a", "127.0.0.1", "-p", fmt.Sprint(clientPorts[i]),
				"-js", "-sd", filepath.Join(dir, name), "--cluster_name", "dqm-procs",
				"--cluster", routes[i], "--routes", strings.Join(routes, ",")},
		}
		c.Procs = append(c.Procs, p)
		t.Cleanup(func() {
			p.Kill(t)
			if t.Failed() {
				out, _ := os.ReadFile(p.log)
				t.Logf("nats-server %s output:\n%s", p.Name, tail(out, 40))
			}
		})
		p.Start(t)
	}
	for _, p := range c.Procs {
		p.WaitReady(t)
	}
	return c
}

// Start runs the node's process (again, after Kill: same ports, same
// store).
func (p *Proc) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("nats-server %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		out.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
}

// WaitReady waits until the node answers a JetStream account-info request,
// which needs a meta leader in the cluster.
func (p *Proc) WaitReady(t testing.TB) {
	t.Helper()
	Eventually(t, 60*time.Second, "nats-server "+p.Name+" serves JetStream", func() bool {
		nc, err := nats.Connect(p.URL, nats.Timeout(time.Second))
		if err != nil {
			return false
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = js.AccountInfo(ctx)
		return err == nil
	})
}

// Kill ends the node with SIGKILL (after SIGCONT, should it be stopped)
// and waits for the process to exit. Killing a node that is not running
// does nothing.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// Stop freezes the node (SIGSTOP): its sockets stay open and nothing
// answers, as a hung machine.
func (p *Proc) Stop(t testing.TB) { p.signal(t, syscall.SIGSTOP) }

// Cont resumes a node frozen by Stop (SIGCONT).
func (p *Proc) Cont(t testing.TB) { p.signal(t, syscall.SIGCONT) }

func (p *Proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		t.Fatalf("nats-server %s is not running", p.Name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("nats-server %s: %v: %v", p.Name, sig, err)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// NATSServerBin is the nats-server binary for process tests:
// $DQM_NATS_SERVER when set, else one built from the nats-server module
// this module requires (the version dqm embeds) into the temporary
// directory, once per version, so the tests need nothing installed.
// Without a Go toolchain the test skips, or fails under CI.
func NATSServerBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("DQM_NATS_SERVER"); p != "" {
		return p
	}
	binOnce.Do(func() { binPath, binErr = buildNATSServer() })
	Need(t, "nats-server binary (set DQM_NATS_SERVER or have go on PATH)", binErr)
	return binPath
}

func buildNATSServer() (string, error) {
	const mod = "github.com/nats-io/nats-server/v2"
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == mod {
				version = d.Version
			}
		}
	}
	path := filepath.Join(os.TempDir(), "dqm-nats-server-"+version)
	if _, err := os.Stat(path); err == nil && version != "unknown" {
		return path, nil
	}
	// Built beside, then renamed: test binaries of other packages may
	// build the same file at the same time.
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if out, err := exec.Command("go", "build", "-o", tmp, mod).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", mod, err, out)
	}
	return path, os.Rename(tmp, path)
}

// tail returns the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}
