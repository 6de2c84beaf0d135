package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Cluster routes an embedded nats-server into a NATS cluster, so three
// `dqm serve` processes form one JetStream cluster among themselves: each
// lists the same Name, its own Listen (the route port) and the routes of
// all (its own may be included; it is ignored). Every member needs its own
// nats.store_dir.
type Cluster struct {
	// Name is the cluster's name, the same on every member.
	Name string `json:"name"`
	// Listen is where this member accepts routes from the others
	// (host:port). Routes carry no authentication of their own: keep
	// this port on a private network.
	Listen string `json:"listen"`
	// Routes are the other members' route URLs, nats://host:port.
	Routes []string `json:"routes"`
	// ServerName names this member in JetStream's cluster and must be
	// unique in it and stable across restarts (a new name is a new peer);
	// default: dqm-<hostname>-<listen port>.
	ServerName string `json:"server_name"`
}

// empty reports whether no cluster key is set.
func (c Cluster) empty() bool {
	return c.Name == "" && c.Listen == "" && len(c.Routes) == 0 && c.ServerName == ""
}

// validate checks the block when any key of it is set.
func (c Cluster) validate(ps *problems) {
	if c.empty() {
		return
	}
	const k = "nats.embedded.cluster"
	if c.Name == "" {
		ps.add(k+".name", "required when any nats.embedded.cluster key is set")
	} else if strings.ContainsAny(c.Name, " \t\r\n.*>") {
		ps.add(k+".name", "%q: no whitespace, '.', '*' or '>'", c.Name)
	}
	if c.Listen == "" {
		ps.add(k+".listen", "required (host:port where the other members connect)")
	} else {
		hostPort(ps, k+".listen", c.Listen)
	}
	if len(c.Routes) == 0 {
		ps.add(k+".routes", "at least one route (nats://host:port of another member)")
	}
	for i, r := range c.Routes {
		switch {
		case strings.Contains(r, "@"):
			// Not echoed: it may hold a password.
			ps.add(fmt.Sprintf("%s.routes[%d]", k, i), "no credentials in a route (routes have no authentication here: keep them on a private network)")
		case !validRoute(r):
			ps.add(fmt.Sprintf("%s.routes[%d]", k, i), "%q: want nats://host:port", r)
		}
	}
	if strings.ContainsAny(c.ServerName, " \t\r\n") {
		ps.add(k+".server_name", "%q: no whitespace", c.ServerName)
	}
}

// validRoute accepts nats://host:port.
func validRoute(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "nats" || u.Path != "" && u.Path != "/" {
		return false
	}
	host, port, err := net.SplitHostPort(u.Host)
	return err == nil && host != "" && port != ""
}
