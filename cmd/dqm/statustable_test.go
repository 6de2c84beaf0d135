package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

func TestWriteStatusTable(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hbs := []schemas.Heartbeat{
		{Database: "demo", Instance: "a", Leader: true, State: "CONNECTED", Time: now.Add(-2 * time.Second),
			Queues: []schemas.QueueStatus{{Label: "DQM-Demo-00-L"}, {Label: "DQM-Demo-01-S", Tags: []string{"slow"}, Workers: 1, Processed: 7}}},
		{Database: "demo", Instance: "b", State: "ERROR", Time: now},
	}
	var out strings.Builder
	if err := writeStatusTable(&out, hbs, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := [][]string{
		{"DATABASE", "INSTANCE", "STATE", "LEAD", "QUEUE", "TAGS", "WORKERS", "PENDING", "ACK", "PENDING", "PROCESSED", "FAILED", "AGE"},
		{"demo", "a", "CONNECTED", "*", "DQM-Demo-00-L", "-", "0", "0", "0", "0", "0", "2s"},
		{"demo", "a", "CONNECTED", "*", "DQM-Demo-01-S", "slow", "1", "0", "0", "7", "0", "2s"},
		{"demo", "b", "ERROR", "-", "-", "0", "0", "0", "0", "0", "0s"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("line %d: %q, want %q", i, got, w)
		}
	}
}
