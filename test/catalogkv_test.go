package test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestCatalogInKVAfterStart: the Lead publishes the catalog it loaded to
// KV dqm_catalog once it holds the lease, though it loaded it before.
func TestCatalogInKVAfterStart(t *testing.T) {
	s := start(t, testConfig(t))
	l := s.Lead("demo")
	testutil.Eventually(t, 10*time.Second, "lease taken", l.IsLeader)
	kv, err := jetstreamKV(t, s, schemas.BucketCatalog)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ref := range l.Catalog().Refs() {
		want = append(want, "demo."+strconv.FormatInt(ref, 10))
	}
	if len(want) == 0 {
		t.Fatal("empty demo catalog")
	}
	var got []string
	testutil.Eventually(t, 5*time.Second, "every ref in KV", func() bool {
		got = got[:0]
		lister, err := kv.ListKeysFiltered(context.Background(), "demo.*")
		if err != nil {
			return false
		}
		for k := range lister.Keys() {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		return slices.Equal(got, want)
	})
}
