package server

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/dqmhq/dqm/internal/config"
)

// clusterOptions routes the embedded server into the cluster c names
// (nats.embedded.cluster), so three `dqm serve` form one JetStream cluster
// among themselves. JetStream needs each member's server name unique and
// stable: c.ServerName, or dqm-<hostname>-<route port>.
func clusterOptions(opts *natsserver.Options, c config.Cluster) error {
	if c.Name == "" {
		return nil
	}
	host, portStr, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("nats.embedded.cluster.listen %q: %w", c.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("nats.embedded.cluster.listen %q: bad port", c.Listen)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	opts.ServerName = c.ServerName
	if opts.ServerName == "" {
		opts.ServerName = defaultServerName(portStr)
	}
	opts.Cluster = natsserver.ClusterOpts{Name: c.Name, Host: host, Port: port}
	opts.Routes = natsserver.RoutesFromStr(strings.Join(c.Routes, ","))
	return nil
}

// defaultServerName is dqm-<hostname>-<port>, in the characters a server
// name may hold.
func defaultServerName(port string) string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' {
			return '_'
		}
		return r
	}, host)
	if host == "" {
		host = "host"
	}
	return "dqm-" + host + "-" + port
}
