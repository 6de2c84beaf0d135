package db2

import (
	"strings"
	"testing"
)

func TestDeadlineSQL(t *testing.T) {
	// The statements the canceller runs: one argument each where expected.
	for sql, args := range map[string]int{appHandleSQL: 0, activitySQL: 1, cancelSQL: 3} {
		if n := strings.Count(sql, "?"); n != args {
			t.Errorf("%s has %d placeholders, want %d", sql, n, args)
		}
	}
}
