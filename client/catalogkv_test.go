package client

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/catalog"
)

func TestRuleOf(t *testing.T) {
	cases := []struct {
		name   string
		e      kvEntry
		ttl    time.Duration
		tables []string
	}{
		{"cache entry", kvEntry{Queue: "cache", CacheTTLS: 30, Tables: []string{"a"}, SQL: "SELECT * FROM b"}, 30 * time.Second, []string{"a"}},
		{"tables from the SQL", kvEntry{Queue: "cache", CacheTTLS: 5, SQL: "SELECT x FROM items JOIN other ON 1=1"}, 5 * time.Second, []string{"items", "other"}},
		{"cache queue, no TTL", kvEntry{Queue: "cache", Tables: []string{"a"}}, 0, []string{"a"}},
		{"another queue", kvEntry{Queue: "fast", CacheTTLS: 30, Tables: []string{"a"}}, 0, []string{"a"}},
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

// TestKVEntryIsCatalogEntry: the near-cache reads a KV value with the
// fields and types the Lead wrote it from.
func TestKVEntryIsCatalogEntry(t *testing.T) {
	fields := func(typ reflect.Type) map[string]string {
		out := map[string]string{}
		for f := range typ.Fields() {
			out[f.Tag.Get("json")] = f.Type.String()
		}
		return out
	}
	got, want := fields(reflect.TypeFor[kvEntry]()), fields(reflect.TypeFor[catalog.Entry]())
	if !maps.Equal(got, want) {
		t.Fatalf("kvEntry %v\ncatalog.Entry %v", got, want)
	}
}
