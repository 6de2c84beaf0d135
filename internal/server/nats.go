package server

import (
	"fmt"
	"net"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/config"
)

// StartEmbedded runs nats-server in-process with JetStream, listening on
// listen (host:port; port 0 picks a free one) and storing in storeDir.
func StartEmbedded(listen, storeDir string) (*natsserver.Server, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats.listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats.listen %q: bad port", listen)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	ns, err := natsserver.NewServer(&natsserver.Options{
		ServerName: "dqm-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true,
		MaxPayload: 8 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready on %s", listen)
	}
	return ns, nil
}

// Connect opens the instance's NATS connection: in-process to an embedded
// server (no loopback TCP on the hot path), else to the configured URLs,
// reconnecting forever.
func Connect(cfg config.NATS, ns *natsserver.Server, name string) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
	if ns != nil {
		return nats.Connect(ns.ClientURL(), append(opts, nats.InProcessServer(ns))...)
	}
	url := cfg.URL
	if url == "embedded" {
		// Another process (the CLI) reaching an instance's embedded server.
		url = "nats://" + cfg.Listen
	}
	if cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(cfg.Credentials))
	}
	if cfg.TLS.CA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLS.CA))
	}
	if cfg.TLS.Cert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLS.Cert, cfg.TLS.Key))
	}
	return nats.Connect(url, opts...)
}
