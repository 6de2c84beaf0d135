package test

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDeployMetricsExist: every metric the Grafana dashboard and the
// Prometheus alert rules in deploy/ reference is one the server registers.
func TestDeployMetricsExist(t *testing.T) {
	s := start(t, testConfig(t))
	names := s.Metrics().Names()
	metric := regexp.MustCompile(`\bdqm_[a-z_]+[a-z]\b`)
	for _, f := range []string{"../deploy/grafana/dqm.json", "../deploy/prometheus/alerts.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, m := range metric.FindAllString(string(b), -1) {
			seen++
			if !slices.Contains(names, m) {
				t.Errorf("%s references %s, which the server does not register", f, m)
			}
		}
		if seen < 5 {
			t.Errorf("%s: only %d metric references", f, seen)
		}
	}
}
