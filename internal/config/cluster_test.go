package config

import (
	"strings"
	"testing"
)

func TestEmbeddedCluster(t *testing.T) {
	ok := `{"nats": {"embedded": {"cluster": {"name": "dqm", "listen": "0.0.0.0:6222",
		"routes": ["nats://dqm-1:6222", "nats://dqm-2:6222", "nats://dqm-3:6222"]}}, "replicas": 3}}`
	c := mustParse(t, ok, nil)
	if cl := c.NATS.Embedded.Cluster; cl.Name != "dqm" || cl.Listen != "0.0.0.0:6222" || len(cl.Routes) != 3 {
		t.Fatalf("cluster = %+v", cl)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"no name", `{"listen": "127.0.0.1:6222", "routes": ["nats://a:6222"]}`, "nats.embedded.cluster.name: required"},
		{"bad name", `{"name": "a.b", "listen": "127.0.0.1:6222", "routes": ["nats://a:6222"]}`, `nats.embedded.cluster.name: "a.b"`},
		{"no listen", `{"name": "c", "routes": ["nats://a:6222"]}`, "nats.embedded.cluster.listen: required"},
		{"bad listen", `{"name": "c", "listen": "6222", "routes": ["nats://a:6222"]}`, `nats.embedded.cluster.listen: want host:port`},
		{"no routes", `{"name": "c", "listen": "127.0.0.1:6222"}`, "nats.embedded.cluster.routes: at least one route"},
		{"bad route", `{"name": "c", "listen": "127.0.0.1:6222", "routes": ["http://a:6222"]}`, `nats.embedded.cluster.routes[0]: "http://a:6222": want nats://host:port`},
		{"route without port", `{"name": "c", "listen": "127.0.0.1:6222", "routes": ["nats://a"]}`, `nats.embedded.cluster.routes[0]`},
		{"route with password", `{"name": "c", "listen": "127.0.0.1:6222", "routes": ["nats://u:secret@a:6222"]}`, "no credentials in a route"},
		{"bad server name", `{"name": "c", "listen": "127.0.0.1:6222", "routes": ["nats://a:6222"], "server_name": "a b"}`, "nats.embedded.cluster.server_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(`{"nats": {"embedded": {"cluster": `+tc.json+`}}}`), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("a route's password is echoed: %v", err)
			}
		})
	}
	_, err := Parse([]byte(`{"nats": {"url": "nats://n1:4222", "embedded": {"cluster": {"name": "c"}}}}`), nil)
	if err == nil || !strings.Contains(err.Error(), `nats.embedded: set only when nats.url is "embedded"`) {
		t.Fatalf("cluster with an external URL: %v", err)
	}
}
