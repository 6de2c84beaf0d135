package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Session settings dqm adds at connect unless the DSN sets them itself.
const (
	// utcZone makes TIMESTAMP columns (stored as instants) read back in UTC,
	// the zone every engine's timestamps are written in, and NOW() agree.
	utcZone = "'+00:00'"
	// strictMode keeps the server's sql_mode and adds strictness for every
	// table (not only transactional ones) and for division by zero, so a
	// write of bad data or of 1/0 fails (422) as it would in PostgreSQL
	// instead of storing a truncated value or NULL with a warning.
	strictMode = "CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES', 'ERROR_FOR_DIVISION_BY_ZERO')"
)

// ParseDSN turns a dqm MySQL DSN into the driver's configuration. Two forms
// are accepted:
//
//	mysql://user:pass@host:port/db?charset=utf8mb4&tls=true   (mariadb:// too)
//	user:pass@tcp(host:port)/db?charset=utf8mb4               (the driver's own)
//
// The driver's form is the one for Unix sockets (user@unix(/path)/db). In
// both, query parameters are the driver's (charset, collation, tls =
// true|skip-verify|preferred|<registered name>, timeout, readTimeout, ...);
// any other parameter is a session variable SET at connect, its value raw
// SQL (sql_mode='ANSI'). Host defaults to 127.0.0.1, port to 3306.
//
// dqm then fixes what its type mapping needs: parseTime on, loc UTC (a
// DATETIME is read as UTC), session time_zone '+00:00' and the strict
// sql_mode above unless the DSN sets time_zone or sql_mode. Values are
// always bound server-side, so interpolateParams and multiStatements are
// refused. Errors never quote the DSN: it holds the password.
func ParseDSN(dsn string) (*mysql.Config, error) {
	var cfg *mysql.Config
	var err error
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && (scheme == "mysql" || scheme == "mariadb") {
		cfg, err = parseURL(dsn)
	} else {
		cfg, err = mysql.ParseDSN(dsn)
		if err != nil {
			err = fmt.Errorf("mysql dsn: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	var problems []error
	if cfg.InterpolateParams {
		problems = append(problems, errors.New("mysql dsn: interpolateParams is not allowed: dqm binds every value server-side"))
	}
	if cfg.MultiStatements {
		problems = append(problems, errors.New("mysql dsn: multiStatements is not allowed: a statement list runs one statement at a time"))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = make(map[string]string, 2)
	}
	if _, ok := cfg.Params["time_zone"]; !ok {
		cfg.Params["time_zone"] = utcZone
	}
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = strictMode
	}
	cfg.Logger = driverLogger{}
	return cfg, nil
}

// parseURL reads the mysql:// form. The query string goes through the
// driver's own parser, with the address already in place so that tls
// verifies the right server name.
func parseURL(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("mysql dsn: not a valid URL: %w", err)
	}
	if u.Opaque != "" {
		return nil, errors.New("mysql dsn: not a valid URL: want mysql://user:pass@host:port/db")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "3306"
	}
	cfg, err := mysql.ParseDSN("tcp(" + net.JoinHostPort(host, port) + ")/?" + u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(db, "/") {
		return nil, errors.New("mysql dsn: the path must be one database name")
	}
	cfg.DBName = db
	return cfg, nil
}

// driverLogger sends the driver's own log lines (it logs a broken
// connection before returning the error dqm classifies) to slog at debug.
type driverLogger struct{}

func (driverLogger) Print(v ...any) {
	slog.Default().Log(context.Background(), slog.LevelDebug, strings.TrimSpace(fmt.Sprint(v...)), "engine", "mysql")
}
