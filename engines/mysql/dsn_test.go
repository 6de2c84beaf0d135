package mysql

import (
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	for _, tt := range []struct {
		dsn                          string
		user, pass, net, addr, db    string
		tz, tlsName, serverName, col string
	}{
		{dsn: "mysql://root@127.0.0.1:3306/test", user: "root", net: "tcp", addr: "127.0.0.1:3306", db: "test", tz: utcZone},
		{dsn: "mysql://u:p%40ss%3Aw%2Frd@db.example.com/app?charset=utf8mb4&tls=true", user: "u", pass: "p@ss:w/rd",
			net: "tcp", addr: "db.example.com:3306", db: "app", tz: utcZone, tlsName: "true", serverName: "db.example.com"},
		{dsn: "mariadb://u@[::1]:3307/", user: "u", net: "tcp", addr: "[::1]:3307", tz: utcZone},
		{dsn: "mysql:///x?time_zone=%27Europe%2FParis%27&collation=utf8mb4_bin", net: "tcp", addr: "127.0.0.1:3306", db: "x",
			tz: "'Europe/Paris'", col: "utf8mb4_bin"},
		{dsn: "mysql://u@h/d?tls=skip-verify", user: "u", net: "tcp", addr: "h:3306", db: "d", tz: utcZone, tlsName: "skip-verify"},
		{dsn: "u:pw@tcp(h:1)/d?parseTime=false&loc=Local", user: "u", pass: "pw", net: "tcp", addr: "h:1", db: "d", tz: utcZone},
		{dsn: "u@unix(/run/mysqld/mysqld.sock)/d", user: "u", net: "unix", addr: "/run/mysqld/mysqld.sock", db: "d", tz: utcZone},
	} {
		t.Run(tt.dsn, func(t *testing.T) {
			cfg, err := ParseDSN(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.User != tt.user || cfg.Passwd != tt.pass || cfg.Net != tt.net || cfg.Addr != tt.addr || cfg.DBName != tt.db {
				t.Errorf("got user %q pass %q net %q addr %q db %q", cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName)
			}
			if !cfg.ParseTime || cfg.Loc != time.UTC || cfg.InterpolateParams || cfg.MultiStatements {
				t.Errorf("parseTime %v loc %v interpolate %v multi %v", cfg.ParseTime, cfg.Loc, cfg.InterpolateParams, cfg.MultiStatements)
			}
			if cfg.Params["time_zone"] != tt.tz || cfg.Params["sql_mode"] != strictMode {
				t.Errorf("params %v", cfg.Params)
			}
			if cfg.TLSConfig != tt.tlsName || tt.serverName != "" && (cfg.TLS == nil || cfg.TLS.ServerName != tt.serverName) {
				t.Errorf("tls %q %+v", cfg.TLSConfig, cfg.TLS)
			}
			if cfg.Collation != tt.col && tt.col != "" {
				t.Errorf("collation %q", cfg.Collation)
			}
		})
	}
}

func TestParseDSNErrors(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"mysql://u:secret@h:port/d", "not a valid URL"},
		{"mysql://u:secret@h/d/e", "one database name"},
		{"mysql://u:secret@h/d?interpolateParams=true", "interpolateParams"},
		{"mysql://u:secret@h/d?multiStatements=true&interpolateParams=true", "multiStatements"},
		{"u:secret@tcp(h)/d?multiStatements=1", "multiStatements"},
		{"u:secret@tcp(h)d", "mysql dsn"},
		{"mysql://u:secret@h/d?tls=nosuchconfig", "mysql dsn"},
	} {
		_, err := ParseDSN(tt.dsn)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.dsn, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error shows the password: %v", tt.dsn, err)
		}
	}
}
