package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/lead"
)

// snakeoil is the certificate Debian's PostgreSQL serves by default
// (CN and SAN localhost), used as its own root.
const snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem"

// TestSecurePostgresTLS runs PostgreSQL databases through the engine with
// the DSN's TLS settings: the connection is encrypted, and a server that
// cannot be verified is refused.
func TestSecurePostgresTLS(t *testing.T) {
	base := testutil.PostgresSchema(t)
	// Skipped locally without them, failed under CI (the CI machine's
	// PostgreSQL serves TLS with Debian's snakeoil certificate).
	var on string
	err := testutil.DirectDB(t, "postgres", base).QueryRow("SHOW ssl").Scan(&on)
	if err == nil && on != "on" {
		err = fmt.Errorf("ssl = %q", on)
	}
	testutil.Need(t, "PostgreSQL with TLS", err)
	_, err = os.Stat(snakeoil)
	testutil.Need(t, "the server's certificate "+snakeoil, err)
	other := newPKI(t, "other")
	dsn := func(host string, kv ...string) string {
		u, _ := url.Parse(base)
		u.Host = host + ":" + u.Port()
		q := u.Query()
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	good := map[string]string{
		"require":    dsn("127.0.0.1", "sslmode", "require"),
		"verifyca":   dsn("127.0.0.1", "sslmode", "verify-ca", "sslrootcert", snakeoil),
		"verifyfull": dsn("localhost", "sslmode", "verify-full", "sslrootcert", snakeoil),
	}
	bad := map[string]string{
		"wrongca":   dsn("127.0.0.1", "sslmode", "verify-ca", "sslrootcert", other.CA),
		"wronghost": dsn("127.0.0.1", "sslmode", "verify-full", "sslrootcert", snakeoil), // the certificate names localhost only
	}
	catalogFile := filepath.Join(t.TempDir(), "catalog.json")
	os.WriteFile(catalogFile, []byte(`[{"ref":1,"name":"tls","queue":"fast","public":true,
		"sql":"SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"}]`), 0o644)
	cfg := testConfig(t)
	proto := *cfg.Databases["demo"]
	cfg.Databases = map[string]*config.Database{}
	for name, d := range good {
		db := proto
		db.Name, db.Engine, db.DSN = name, "postgres", config.DSN(d)
		db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: catalogFile}
		db.Triggers = config.Triggers{PollMS: 1000}
		cfg.Databases[name] = &db
	}
	for name, d := range bad {
		db := *cfg.Databases["require"]
		db.Name, db.DSN = name, config.DSN(d)
		cfg.Databases[name] = &db
	}
	s, _ := startLogged(t, cfg, "text")
	for name := range good {
		testutil.Eventually(t, 20*time.Second, name+" ready", s.Lead(name).Ready)
		res, err := s.Client().Query(context.Background(), name, 1, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var rows []struct {
			SSL     bool   `json:"ssl"`
			Version string `json:"version"`
		}
		if err := json.Unmarshal(res.Rows, &rows); err != nil || len(rows) != 1 || !rows[0].SSL {
			t.Fatalf("%s: not over TLS: %s (%v)", name, res.Rows, err)
		}
		t.Logf("%s: %s", name, rows[0].Version)
	}
	for name := range bad {
		testutil.Eventually(t, 20*time.Second, name+" refused", func() bool {
			return s.Lead(name).State() == lead.StateError
		})
	}
}
