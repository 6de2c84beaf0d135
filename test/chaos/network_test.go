//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// network puts each NATS node in a network namespace of its own, joined to
// the test's namespace by a veth pair on one bridge: a node is then a host
// whose link can be cut (a partition), not a port on loopback.
type network struct {
	id     string // short, in every interface and namespace name
	subnet string // 10.213.K
	bridge string
}

// netnsAvailable reports why network namespaces cannot be used here ("" if
// they can): they need root and iproute2.
func netnsAvailable() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no ip (iproute2)"
	}
	probe := fmt.Sprintf("dqcprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		return "ip netns add: " + strings.TrimSpace(string(out))
	}
	exec.Command("ip", "netns", "del", probe).Run()
	return ""
}

// newNetwork makes the bridge and n namespaces, host i at 10.213.K.i; the
// test's namespace is 10.213.K.254. Everything is removed when the test
// ends.
func newNetwork(t *testing.T, n int) *network {
	t.Helper()
	id := fmt.Sprintf("%04x", os.Getpid()%0xffff)
	nw := &network{id: id, bridge: "dqc" + id + "br"}
	// A subnet no interface here has yet.
	out, _ := exec.Command("ip", "-o", "addr").Output()
	for k := 20 + os.Getpid()%200; ; k++ {
		nw.subnet = fmt.Sprintf("10.213.%d", k%250)
		if !strings.Contains(string(out), " "+nw.subnet+".") {
			break
		}
	}
	t.Cleanup(nw.remove)
	nw.remove() // a run killed before its cleanup left these
	must := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	must("link", "add", nw.bridge, "type", "bridge")
	must("addr", "add", nw.subnet+".254/24", "dev", nw.bridge)
	must("link", "set", nw.bridge, "up")
	for i := 1; i <= n; i++ {
		ns, host, peer := nw.ns(i), nw.hostLink(i), fmt.Sprintf("dqc%sp%d", id, i)
		must("netns", "add", ns)
		must("link", "add", host, "type", "veth", "peer", "name", peer)
		must("link", "set", peer, "netns", ns)
		must("link", "set", host, "master", nw.bridge)
		must("link", "set", host, "up")
		must("-n", ns, "addr", "add", nw.ip(i)+"/24", "dev", peer)
		must("-n", ns, "link", "set", peer, "up")
		must("-n", ns, "link", "set", "lo", "up")
	}
	return nw
}

func (nw *network) ns(i int) string       { return fmt.Sprintf("dqc%sn%d", nw.id, i) }
func (nw *network) hostLink(i int) string { return fmt.Sprintf("dqc%sh%d", nw.id, i) }
func (nw *network) ip(i int) string       { return fmt.Sprintf("%s.%d", nw.subnet, i) }

// cut takes host i off the bridge: it reaches neither its peers nor dqm.
func (nw *network) cut(i int) error { return ipLink(nw.hostLink(i), "down") }

// heal puts host i back.
func (nw *network) heal(i int) error { return ipLink(nw.hostLink(i), "up") }

func ipLink(dev, state string) error {
	if out, err := exec.Command("ip", "link", "set", dev, state).CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set %s %s: %v: %s", dev, state, err, out)
	}
	return nil
}

// remove deletes the namespaces (their veth pairs go with them) and the
// bridge, ignoring what is not there.
func (nw *network) remove() {
	for i := 1; i <= 9; i++ {
		exec.Command("ip", "netns", "del", nw.ns(i)).Run()
	}
	exec.Command("ip", "link", "del", nw.bridge).Run()
}
