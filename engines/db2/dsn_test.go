package db2

import (
	"log/slog"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"HOSTNAME=db;PORT=50001;DATABASE=sample;UID=u;PWD=p;",
			"HOSTNAME=db;PORT=50001;DATABASE=sample;UID=u;PWD=p;PROTOCOL=TCPIP;"},
		{"database=sample; hostname = db ;uid=u;pwd={p;w}}d};Security=SSL",
			"HOSTNAME=db;PORT=50000;DATABASE=sample;UID=u;PWD={p;w}}d};Security=SSL;PROTOCOL=TCPIP;"},
		{"db2://u:p%3Bw@db:50001/sample?Security=SSL&CurrentSchema=APP",
			"HOSTNAME=db;PORT=50001;DATABASE=sample;UID=u;PWD={p;w};CurrentSchema=APP;Security=SSL;PROTOCOL=TCPIP;"},
		{"db2:///sample", "HOSTNAME=localhost;PORT=50000;DATABASE=sample;PROTOCOL=TCPIP;"},
		{"DATABASE=catalogued;", "DATABASE=catalogued;"},
		{"HOSTNAME=db;DATABASE=s;PROTOCOL=TCPIP6", "HOSTNAME=db;PORT=50000;DATABASE=s;PROTOCOL=TCPIP6;"},
	} {
		c, err := ParseDSN(tt.dsn)
		if err != nil {
			t.Errorf("%s: %v", tt.dsn, err)
			continue
		}
		if got := c.ConnString(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.dsn, got, tt.want)
		}
		again, err := ParseDSN(c.ConnString())
		if err != nil || again.ConnString() != c.ConnString() {
			t.Errorf("%s: does not round-trip: %v %v", tt.dsn, again, err)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"HOSTNAME=db;UID=u;PWD=secret", "no database"},
		{"HOSTNAME=db;DATABASE=s;PORT=x;PWD=secret", "PORT"},
		{"HOSTNAME=db;DATABASE=s;PWD={secret", "unterminated"},
		{"HOSTNAME=db;DATABASE=s;secret", "KEYWORD=value"},
		{"db2://u:secret@db:port/s", "not a valid URL"},
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

func TestConfigLogValue(t *testing.T) {
	c, err := ParseDSN("db2://u:secret@db/sample")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("open", "dsn", c)
	if strings.Contains(b.String(), "secret") || !strings.Contains(b.String(), "dsn.addr=db:50000") {
		t.Errorf("logged %s", b.String())
	}
}
