package ingress

import (
	"slices"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/catalog"
)

func TestRuleOf(t *testing.T) {
	cases := []struct {
		name   string
		e      catalog.Entry
		ttl    time.Duration
		tables []string
	}{
		{"cache entry", catalog.Entry{Queue: "cache", CacheTTLS: 30, Tables: []string{"a"}, SQL: "SELECT * FROM b"}, 30 * time.Second, []string{"a"}},
		{"tables from the SQL", catalog.Entry{Queue: "cache", CacheTTLS: 5, SQL: "SELECT x FROM items JOIN other ON 1=1"}, 5 * time.Second, []string{"items", "other"}},
		{"cache queue, no TTL", catalog.Entry{Queue: "cache", Tables: []string{"a"}}, 0, []string{"a"}},
		{"another queue", catalog.Entry{Queue: "fast", CacheTTLS: 30, Tables: []string{"a"}}, 0, []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ruleOf(tc.e)
			got := slices.Sorted(slices.Values(r.tables))
			if r.ttl != tc.ttl || !slices.Equal(got, tc.tables) {
				t.Fatalf("rule %+v", r)
			}
		})
	}
}
