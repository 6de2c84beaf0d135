// Package deploy_test checks the deployment files without Docker or a
// cluster: every YAML parses, every dqm configuration in them is valid,
// every secret they read is documented, and the Dockerfile, Kubernetes
// manifests and systemd unit have what running them needs.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dqmhq/dqm/internal/config"
)

// yamlDocs parses every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// checkConfig validates a dqm configuration, answering each {$env.X} it
// references with a value that passes validation (a JWT secret must be 32
// bytes or more) and setting no DQM_* override.
func checkConfig(t *testing.T, what string, data []byte) {
	t.Helper()
	refs := map[string]bool{}
	for _, m := range configVar.FindAllSubmatch(data, -1) {
		refs[string(m[1])] = true
	}
	env := func(name string) (string, bool) { return strings.Repeat("x", 40), refs[name] }
	if _, err := config.Parse(data, env); err != nil {
		t.Errorf("%s: invalid dqm configuration:\n%v", what, err)
	}
}

func TestYAMLParses(t *testing.T) {
	files, _ := filepath.Glob("*/*.yaml")
	files = append(files, "../compose.yaml")
	for _, f := range files {
		if docs := yamlDocs(t, f); len(docs) == 0 {
			t.Errorf("%s: no documents", f)
		}
	}
}

func TestConfigsValid(t *testing.T) {
	files, _ := filepath.Glob("*.json")
	if len(files) < 3 {
		t.Fatalf("configs: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, f, b)
	}
	for _, d := range yamlDocs(t, "kubernetes/dqm.yaml") {
		if d["kind"] == "ConfigMap" {
			data := d["data"].(map[string]any)
			checkConfig(t, "kubernetes/dqm.yaml ConfigMap", []byte(data["dqm.json"].(string)))
		}
	}
}

var (
	composeVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)`)
	configVar  = regexp.MustCompile(`\{\$env\.([A-Za-z0-9_]+)\}`)
)

// TestSecretsDocumented: every variable compose.yaml and its dqm config
// read is in .env.example, and every Secret key the Deployment reads is
// in secret.example.yaml.
func TestSecretsDocumented(t *testing.T) {
	env, err := os.ReadFile("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	compose, _ := os.ReadFile("../compose.yaml")
	cfg, _ := os.ReadFile("dqm.compose.json")
	for _, m := range append(composeVar.FindAllSubmatch(compose, -1), configVar.FindAllSubmatch(cfg, -1)...) {
		if !regexp.MustCompile(`(?m)^` + string(m[1]) + `=`).Match(env) {
			t.Errorf(".env.example lacks %s", m[1])
		}
	}
	keys := map[string]bool{}
	for _, d := range yamlDocs(t, "kubernetes/secret.example.yaml") {
		for k := range d["stringData"].(map[string]any) {
			keys[k] = true
		}
	}
	manifest, _ := os.ReadFile("kubernetes/dqm.yaml")
	refs := regexp.MustCompile(`secretKeyRef: \{name: dqm-secrets, key: ([a-z-]+)\}`).FindAllSubmatch(manifest, -1)
	if len(refs) == 0 {
		t.Fatal("dqm.yaml reads no secret")
	}
	for _, m := range refs {
		if !keys[string(m[1])] {
			t.Errorf("secret.example.yaml lacks key %s", m[1])
		}
	}
}

func TestKubernetesProbes(t *testing.T) {
	for _, d := range yamlDocs(t, "kubernetes/dqm.yaml") {
		if d["kind"] != "Deployment" {
			continue
		}
		c := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
			p, _ := c[probe].(map[string]any)
			if p == nil || p["httpGet"].(map[string]any)["path"] != path {
				t.Errorf("%s: want httpGet %s, got %v", probe, path, p)
			}
		}
		return
	}
	t.Fatal("no Deployment")
}

// TestDockerfile: a default config that validates, CMD, a non-root user
// and a HEALTHCHECK.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"\nCMD [", "\nHEALTHCHECK ", "/healthz", "COPY deploy/dqm.docker.json /etc/dqm/dqm.json", "\nENTRYPOINT "} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(df)
	if user == nil || user[1] == "root" || strings.HasPrefix(user[1], "0") {
		t.Errorf("Dockerfile USER: %v", user)
	}
}

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("dqm.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=dqm", "WorkingDirectory=/var/lib/dqm", "ExecStart=/usr/local/bin/dqm serve -config "} {
		if !strings.Contains(string(b), "\n"+want) {
			t.Errorf("dqm.service lacks %q", want)
		}
	}
}
