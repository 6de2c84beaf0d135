package test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
)

// userSeed is an NKey user seed from nats.go's own tests.
const userSeed = "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY"

func authServer(t *testing.T, opts *natsserver.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.NoSigs = "127.0.0.1", natsserver.RANDOM_PORT, true
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

// Connect presents each configured credential to a server that requires it.
func TestNATSConnectAuthMethods(t *testing.T) {
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, []byte(userSeed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The public key of the seed, as nats.go derives it.
	nkeyOpt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	var o nats.Options
	if err := nkeyOpt(&o); err != nil {
		t.Fatal(err)
	}
	wrongSeed := filepath.Join(t.TempDir(), "other.nk")
	os.WriteFile(wrongSeed, []byte("SUAPM67TC4RHQLKBX55NIQXSMATZDOZK6FNEOSS36CAYA7F7TY66LP4BOM\n"), 0o600)
	notASeed := filepath.Join(t.TempDir(), "junk.nk")
	os.WriteFile(notASeed, []byte("not a seed\n"), 0o600)

	tokenURL := authServer(t, &natsserver.Options{Authorization: "s3cret-token"})
	userURL := authServer(t, &natsserver.Options{Username: "dqm", Password: "s3cret-pw"})
	nkeyURL := authServer(t, &natsserver.Options{Nkeys: []*natsserver.NkeyUser{{Nkey: o.Nkey}}})
	for _, tc := range []struct {
		name string
		cfg  config.NATS
		ok   bool
	}{
		{"token", config.NATS{URL: tokenURL, Token: "s3cret-token"}, true},
		{"wrong token", config.NATS{URL: tokenURL, Token: "nope"}, false},
		{"no token", config.NATS{URL: tokenURL}, false},
		{"user and password", config.NATS{URL: userURL, User: "dqm", Password: "s3cret-pw"}, true},
		{"wrong password", config.NATS{URL: userURL, User: "dqm", Password: "nope"}, false},
		{"nkey seed", config.NATS{URL: nkeyURL, NKeySeedFile: seedFile}, true},
		{"another nkey", config.NATS{URL: nkeyURL, NKeySeedFile: wrongSeed}, false},
		{"not a seed", config.NATS{URL: nkeyURL, NKeySeedFile: notASeed}, false},
		{"missing creds file", config.NATS{URL: userURL, Credentials: filepath.Join(t.TempDir(), "none.creds")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := server.Connect(tc.cfg, nil, "auth test", nats.MaxReconnects(0))
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				if err := nc.Flush(); err != nil {
					t.Fatal(err)
				}
				nc.Close()
			}
		})
	}
}
