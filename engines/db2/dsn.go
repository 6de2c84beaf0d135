package db2

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Config is a DB2 CLI connection string, parsed. Its LogValue hides the
// password.
type Config struct {
	Host, Port, Database, User, Password string
	// Params are the other CLI keywords (Security=SSL, CurrentSchema, ...)
	// in the order given.
	Params [][2]string
}

// ParseDSN reads either form of a DB2 DSN:
//
//	HOSTNAME=db;PORT=50000;DATABASE=sample;UID=u;PWD=p;Security=SSL;
//	db2://u:p@db:50000/sample?Security=SSL&CurrentSchema=APP
//
// Keywords are case-insensitive; a value holding ';' is enclosed in braces
// ({a;b}, '}' doubled), as ODBC connection strings do. DATABASE is required.
// Errors never quote the DSN: it holds the password.
func ParseDSN(dsn string) (*Config, error) {
	var c *Config
	var err error
	if strings.HasPrefix(dsn, "db2://") {
		c, err = parseURL(dsn)
	} else {
		c, err = parseConnString(dsn)
	}
	if err != nil {
		return nil, err
	}
	if c.Database == "" {
		return nil, errors.New("db2 dsn: no database (DATABASE=... or db2://host/database)")
	}
	return c, nil
}

func parseURL(dsn string) (*Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password and all
		}
		return nil, fmt.Errorf("db2 dsn: not a valid URL: %w", err)
	}
	c := &Config{Host: u.Hostname(), Port: u.Port(), Database: strings.TrimPrefix(u.Path, "/")}
	if c.Host == "" {
		c.Host = "localhost"
	}
	if c.Port == "" {
		c.Port = DefaultPort
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys) // url.Values has no order: keep the string stable
	for _, k := range keys {
		c.Params = append(c.Params, [2]string{k, q.Get(k)})
	}
	return c, nil
}

func parseConnString(dsn string) (*Config, error) {
	c := &Config{}
	rest := strings.TrimSpace(dsn)
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, errors.New("db2 dsn: want KEYWORD=value pairs separated by ';'")
		}
		key = strings.TrimSpace(key)
		var val string
		after = strings.TrimLeft(after, " ")
		if strings.HasPrefix(after, "{") {
			v, n, err := braced(after)
			if err != nil {
				return nil, err
			}
			val, rest = v, strings.TrimPrefix(strings.TrimSpace(after[n:]), ";")
		} else {
			val, rest, _ = strings.Cut(after, ";")
			val = strings.TrimSpace(val)
		}
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(key) {
		case "HOSTNAME":
			c.Host = val
		case "PORT":
			c.Port = val
		case "DATABASE":
			c.Database = val
		case "UID":
			c.User = val
		case "PWD":
			c.Password = val
		case "":
			return nil, errors.New("db2 dsn: empty keyword")
		default:
			c.Params = append(c.Params, [2]string{key, val})
		}
	}
	if c.Port != "" {
		if _, err := strconv.ParseUint(c.Port, 10, 16); err != nil {
			return nil, fmt.Errorf("db2 dsn: PORT %q is not a port number", c.Port)
		}
	}
	return c, nil
}

// braced reads an ODBC {value} with '}}' for '}', returning the value and
// the bytes consumed.
func braced(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '}' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		return b.String(), i + 1, nil
	}
	return "", 0, errors.New("db2 dsn: unterminated {value}")
}

// ConnString renders the CLI connection string go_ibm_db opens
// (PROTOCOL=TCPIP unless given).
func (c *Config) ConnString() string {
	var b strings.Builder
	kv := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteValue(v))
		b.WriteByte(';')
	}
	if c.Host != "" {
		kv("HOSTNAME", c.Host)
		kv("PORT", cmpOr(c.Port, DefaultPort))
	}
	kv("DATABASE", c.Database)
	if c.User != "" {
		kv("UID", c.User)
	}
	if c.Password != "" {
		kv("PWD", c.Password)
	}
	for _, p := range c.Params {
		kv(p[0], p[1])
	}
	if c.Host != "" && !c.has("PROTOCOL") {
		kv("PROTOCOL", "TCPIP")
	}
	return b.String()
}

func (c *Config) has(key string) bool {
	for _, p := range c.Params {
		if strings.EqualFold(p[0], key) {
			return true
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// quoteValue braces a value the connection string could misread.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, ";{}") && strings.TrimSpace(v) == v {
		return v
	}
	return "{" + strings.ReplaceAll(v, "}", "}}") + "}"
}

// LogValue implements slog.LogValuer: the DSN without its password.
func (c *Config) LogValue() slog.Value {
	addr := c.Host
	if c.Host != "" {
		addr = net.JoinHostPort(c.Host, cmpOr(c.Port, DefaultPort))
	}
	return slog.GroupValue(slog.String("addr", addr), slog.String("database", c.Database), slog.String("user", c.User))
}
