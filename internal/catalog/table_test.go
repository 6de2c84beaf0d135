package catalog

import (
	"reflect"
	"testing"

	"github.com/dqmhq/dqm/engines"
)

func TestEntries(t *testing.T) {
	rows := []engines.CatalogRow{{Ref: 1, Name: "one", Description: "d", SQL: "SELECT 1",
		SQLByEngine: map[string]string{"db2": "VALUES 1"}, Queue: "fast", Public: true,
		TimeoutMS: 250, CacheTTLS: 60, Tables: []string{"items"}}}
	want := []Entry{{Ref: 1, Name: "one", Description: "d", SQL: "SELECT 1",
		SQLByEngine: map[string]string{"db2": "VALUES 1"}, Queue: "fast", Public: true,
		TimeoutMS: 250, CacheTTLS: 60, Tables: []string{"items"}}}
	if got := Entries(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("Entries = %+v, want %+v", got, want)
	}
	if got := Entries(nil); len(got) != 0 {
		t.Errorf("Entries(nil) = %v", got)
	}
}
