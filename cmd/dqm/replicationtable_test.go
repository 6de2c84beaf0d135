package main

import (
	"strings"
	"testing"

	"github.com/dqmhq/dqm/schemas"
)

func TestWriteReplicationTable(t *testing.T) {
	rs := []schemas.StreamReplication{
		{Stream: "DQM_PG", Replicas: 3, Leader: "n1", Current: 3},
		{Stream: "DQM_CHANGES", Replicas: 3, Leader: "n2", Current: 2, Offline: []string{"n3"}},
		{Stream: "KV_dqm_leaders", Error: "no leader answered (an election, or its node is down)"},
		{Stream: "DQM_DLQ", Replicas: 1, Current: 1},
	}
	var out strings.Builder
	if err := writeReplicationTable(&out, rs, "nats.replicas is 1"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"STREAM REPLICAS LEADER CURRENT LAGGING OFFLINE NOTE",
		"DQM_PG 3 n1 3/3 - - ",
		"DQM_CHANGES 3 n2 2/3 - n3 under-replicated",
		"KV_dqm_leaders 0 - 0/0 - - no leader answered (an election, or its node is down)",
		"DQM_DLQ 1 (single server) 1/1 - - ",
		"warning: nats.replicas is 1",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if got := strings.Join(strings.Fields(lines[i]), " "); got != strings.Join(strings.Fields(w), " ") {
			t.Errorf("line %d: %q, want %q", i, got, w)
		}
	}
}

func TestStatusDatabases(t *testing.T) {
	hbs := []schemas.Heartbeat{{Database: "b"}, {Database: "a"}, {Database: "b"}}
	for _, tc := range []struct {
		db         string
		configured []string
		want       string
	}{
		{"x", []string{"a"}, "x"},
		{"", []string{"z", "a"}, "a z"},
		{"", nil, "a b"},
	} {
		if got := strings.Join(statusDatabases(tc.db, tc.configured, hbs), " "); got != tc.want {
			t.Errorf("statusDatabases(%q, %v) = %q, want %q", tc.db, tc.configured, got, tc.want)
		}
	}
}
