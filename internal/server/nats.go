package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/config"
)

// Embedded is an in-process nats-server and the credentials of the
// instance's own connection to it.
type Embedded struct {
	*natsserver.Server
	// password of config.InProcessUser; "" when the server has no users.
	password string
}

// StartEmbedded runs nats-server in-process with JetStream, listening on
// listen (host:port; port 0 picks a free one) and storing in storeDir, with
// no authentication and no TLS.
func StartEmbedded(listen, storeDir string) (*natsserver.Server, error) {
	e, err := Embed(config.NATS{Listen: listen, StoreDir: storeDir})
	if err != nil {
		return nil, err
	}
	return e.Server, nil
}

// Embed runs nats-server in-process as cfg says: JetStream, listening on
// cfg.Listen, storing in cfg.StoreDir, with cfg.Embedded's TLS and users.
// With users, the server also gets config.InProcessUser, with every
// permission, a random password made for this start and the right to
// connect only in-process: Connect uses it, and nothing outside the process
// can.
func Embed(cfg config.NATS) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats.listen %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats.listen %q: bad port", cfg.Listen)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	opts := &natsserver.Options{
		ServerName: "dqm-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
		MaxPayload: 8 << 20,
	}
	if err := clusterOptions(opts, cfg.Embedded.Cluster); err != nil {
		return nil, err
	}
	// Validated config has a valid policy; a hand-built one (tests, bench)
	// may leave it empty: nats-server's own default then.
	if always, every, err := cfg.SyncPolicy(); err == nil {
		opts.SyncAlways, opts.SyncInterval = always, every
	}
	e := &Embedded{}
	if t := cfg.Embedded.TLS; t.Cert != "" {
		tc, err := natsserver.GenTLSConfig(&natsserver.TLSConfigOpts{
			CertFile: t.Cert, KeyFile: t.Key, CaFile: t.CA, Verify: t.CA != "",
		})
		if err != nil {
			return nil, fmt.Errorf("nats.embedded.tls: %w", err)
		}
		opts.TLS, opts.TLSConfig, opts.TLSVerify = true, tc, t.CA != ""
	}
	if users := cfg.Embedded.Users; len(users) > 0 {
		if e.password, err = randomPassword(); err != nil {
			return nil, err
		}
		opts.Users = append(opts.Users, &natsserver.User{
			Username: config.InProcessUser,
			Password: e.password,
			// No Permissions: everything.
			AllowedConnectionTypes: map[string]struct{}{inProcess: {}},
		})
		for _, u := range users {
			opts.Users = append(opts.Users, &natsserver.User{
				Username: u.User,
				Password: u.Password.Reveal(),
				Permissions: &natsserver.Permissions{
					// Non-nil lists: an absent list allows nothing.
					Publish:   &natsserver.SubjectPermission{Allow: append([]string{}, u.Publish...)},
					Subscribe: &natsserver.SubjectPermission{Allow: append([]string{}, u.Subscribe...)},
				},
			})
		}
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready on %s", cfg.Listen)
	}
	e.Server = ns
	return e, nil
}

// inProcess is jwt.ConnectionTypeInProcess (nats-io/jwt, which dqm does
// not import).
const inProcess = "IN_PROCESS"

func randomPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("embedded nats: in-process password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Connect opens the instance's NATS connection: in-process to an embedded
// server e (no loopback TCP on the hot path), else to the configured URLs
// with the configured credentials and TLS, reconnecting forever. extra
// options come last (an error handler, say).
func Connect(cfg config.NATS, e *Embedded, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		// A node that hangs (SIGSTOP, a partition) keeps the TCP
		// connection open: only pings notice. nats.go's default (2 min,
		// 2 outstanding) leaves an instance stuck on such a node for
		// minutes; this moves it to a live node within ~6 s.
		nats.PingInterval(2 * time.Second),
		nats.MaxPingsOutstanding(2),
	}
	if e != nil {
		opts = append(opts, nats.InProcessServer(e.Server))
		if e.password != "" {
			opts = append(opts, nats.UserInfo(config.InProcessUser, e.password))
		}
		// In-process is plain even when the server has TLS: the server
		// does not require it there, and a tls:// URL would make the
		// client insist on it.
		url := strings.Replace(e.ClientURL(), "tls://", "nats://", 1)
		return nats.Connect(url, append(opts, extra...)...)
	}
	url := cfg.URL
	if url == "embedded" {
		// Another process (the CLI) reaching an instance's embedded server.
		url = "nats://" + cfg.Listen
	}
	auth, err := authOptions(cfg)
	if err != nil {
		return nil, err
	}
	opts = append(opts, auth...)
	return nats.Connect(url, append(opts, extra...)...)
}

// authOptions turns the nats.* credentials and TLS files into options.
func authOptions(cfg config.NATS) ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password.Reveal()))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token.Reveal()))
	case cfg.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			// The error may quote the file; the seed itself is never echoed.
			return nil, fmt.Errorf("nats.nkey_seed_file: %w", err)
		}
		opts = append(opts, o)
	case cfg.Credentials != "":
		if _, err := os.Stat(cfg.Credentials); err != nil {
			return nil, fmt.Errorf("nats.credentials: %w", err)
		}
		opts = append(opts, nats.UserCredentials(cfg.Credentials))
	}
	if cfg.TLS.CA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLS.CA))
	}
	if cfg.TLS.Cert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLS.Cert, cfg.TLS.Key))
	}
	if cfg.TLS != (config.TLS{}) {
		// Any TLS setting means TLS, even if the server would allow plain.
		opts = append(opts, nats.Secure())
	}
	return opts, nil
}

// asyncErrors logs what the server reports asynchronously, a permissions
// violation above all: without it a denied publish or subscription is
// silent.
func asyncErrors(log *slog.Logger) nats.ErrHandler {
	return func(_ *nats.Conn, sub *nats.Subscription, err error) {
		if sub != nil {
			log.Error("nats", "subject", sub.Subject, "err", err)
			return
		}
		log.Error("nats", "err", err)
	}
}
