package deploy_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/internal/config"
)

// TestComposeHA: the HA compose file runs three NATS nodes of one cluster,
// each routing to all three, and two dqm instances whose configuration
// names the three at R3; every variable it reads is documented.
func TestComposeHA(t *testing.T) {
	docs := yamlDocs(t, "compose.ha.yaml")
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	services := docs[0]["services"].(map[string]any)
	var names, dqms []string
	for name, v := range services {
		svc := v.(map[string]any)
		switch {
		case strings.HasPrefix(name, "nats-"):
			names = append(names, name)
			cmd := strings.Join(toStrings(svc["command"]), " ")
			for _, want := range []string{"-js", "--server_name " + name, "--cluster_name dqm",
				"--routes nats://nats-1:6222,nats://nats-2:6222,nats://nats-3:6222"} {
				if !strings.Contains(cmd, want) {
					t.Errorf("%s: command %q lacks %q", name, cmd, want)
				}
			}
		case strings.HasPrefix(name, "dqm-"):
			dqms = append(dqms, name)
			if vols := strings.Join(toStrings(svc["volumes"]), " "); !strings.Contains(vols, "./dqm.ha.json:/etc/dqm/dqm.json") {
				t.Errorf("%s: volumes %q do not mount dqm.ha.json", name, vols)
			}
		}
	}
	slices.Sort(names)
	if strings.Join(names, " ") != "nats-1 nats-2 nats-3" || len(dqms) != 2 {
		t.Fatalf("nats %v, dqm %v", names, dqms)
	}
	b, err := os.ReadFile("dqm.ha.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, b)
	if cfg.NATS.Replicas != 3 || cfg.NATS.URL != "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222" {
		t.Fatalf("nats %+v", cfg.NATS)
	}
	for db, d := range cfg.Databases {
		for tag, q := range d.Queues {
			if q.Min < 2 {
				t.Errorf("%s queue %s: min %d, want 2 (a worker of every tag on each instance)", db, tag, q.Min)
			}
		}
	}
	env, _ := os.ReadFile("../.env.example")
	compose, _ := os.ReadFile("compose.ha.yaml")
	for _, m := range composeVar.FindAllSubmatch(compose, -1) {
		if !regexp.MustCompile(`(?m)^` + string(m[1]) + `=`).Match(env) {
			t.Errorf(".env.example lacks %s", m[1])
		}
	}
}

// TestKubernetesHA: NATS's Helm values run three JetStream servers with a
// disruption budget, one per node; dqm's manifest asks R3 and has its own
// budget.
func TestKubernetesHA(t *testing.T) {
	v := yamlDocs(t, "kubernetes/nats-values.yaml")[0]
	cfg := v["config"].(map[string]any)
	cluster := cfg["cluster"].(map[string]any)
	js := cfg["jetstream"].(map[string]any)
	if cluster["enabled"] != true || cluster["replicas"] != 3 || js["enabled"] != true {
		t.Fatalf("nats values: cluster %v, jetstream %v", cluster, js)
	}
	if pdb := v["podDisruptionBudget"].(map[string]any); pdb["enabled"] != true {
		t.Fatalf("podDisruptionBudget %v", pdb)
	}
	spread := v["podTemplate"].(map[string]any)["topologySpreadConstraints"].(map[string]any)
	if _, ok := spread["kubernetes.io/hostname"]; !ok {
		t.Fatalf("no spread over nodes: %v", spread)
	}
	var pdb bool
	for _, d := range yamlDocs(t, "kubernetes/dqm.yaml") {
		switch d["kind"] {
		case "ConfigMap":
			c := parseConfig(t, []byte(d["data"].(map[string]any)["dqm.json"].(string)))
			if c.NATS.Replicas != 3 {
				t.Errorf("dqm.yaml: nats.replicas %d, want 3", c.NATS.Replicas)
			}
		case "PodDisruptionBudget":
			pdb = true
		}
	}
	if !pdb {
		t.Error("dqm.yaml: no PodDisruptionBudget")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// parseConfig parses a dqm configuration as checkConfig validates it.
func parseConfig(t *testing.T, data []byte) *config.Config {
	t.Helper()
	refs := map[string]bool{}
	for _, m := range configVar.FindAllSubmatch(data, -1) {
		refs[string(m[1])] = true
	}
	cfg, err := config.Parse(data, func(name string) (string, bool) { return strings.Repeat("x", 40), refs[name] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
