package server

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/config"
)

// The in-process user's password never leaves the process, and even with
// it, nobody can connect as that user over TCP.
func TestNATSInProcessUserIsInProcessOnly(t *testing.T) {
	e, err := Embed(config.NATS{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats"),
		Embedded: config.Embedded{Users: []config.NATSUser{{User: "svc", Password: "pw"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(); e.WaitForShutdown() })
	if len(e.password) < 64 {
		t.Fatalf("in-process password %d hex digits", len(e.password))
	}
	nc, err := Connect(config.NATS{}, e, "in-process")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	_, err = nats.Connect(e.ClientURL(), nats.UserInfo(config.InProcessUser, e.password), nats.MaxReconnects(0))
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("TCP as %s: %v, want an authorization violation", config.InProcessUser, err)
	}

	// Without users the server is open and dqm connects without a password.
	open, err := Embed(config.NATS{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "open")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Shutdown(); open.WaitForShutdown() })
	if open.password != "" {
		t.Error("a password without users")
	}
	nc, err = Connect(config.NATS{}, open, "in-process")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}
