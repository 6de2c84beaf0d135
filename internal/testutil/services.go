package testutil

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (the CI variable is set).
func InCI() bool { return os.Getenv("CI") != "" }

// Need skips the test when a required service is missing, or fails it
// under CI, where a skipped suite would hide breakage.
func Need(t testing.TB, service string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI() {
		t.Fatalf("%s is required under CI: %v", service, err)
	}
	t.Skipf("%s not available (set it up or run under CI to fail): %v", service, err)
}

// PostgresURL is the test PostgreSQL server (DQM_TEST_POSTGRES_URL, default
// the machine's local server). The test needs it: see Need.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := env("DQM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test?sslmode=disable")
	Need(t, "PostgreSQL", dial("127.0.0.1:5432", u))
	return u
}

// MySQLURL is the test MySQL/MariaDB server (DQM_TEST_MYSQL_URL, default
// the machine's local server).
func MySQLURL(t testing.TB) string {
	t.Helper()
	u := env("DQM_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
	Need(t, "MySQL/MariaDB", dial("127.0.0.1:3306", u))
	return u
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// dial checks the default address is reachable; a URL from the environment
// is trusted and checked by the test's own connect.
func dial(addr, url string) error {
	if os.Getenv("DQM_TEST_POSTGRES_URL") == url || os.Getenv("DQM_TEST_MYSQL_URL") == url {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
