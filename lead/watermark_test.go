package lead

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/schemas"
)

// TestInvalidationNumbers: concurrent senders get 1..n in publish order,
// a failed publish still uses its number, and the watermark names the
// last one.
func TestInvalidationNumbers(t *testing.T) {
	var mu sync.Mutex
	var got []*nats.Msg
	fail := false
	p := newInvalidations(func(m *nats.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nats.ErrConnectionClosed
		}
		got = append(got, m)
		return nil
	}, "shop", "/dqm/i")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { p.send("/dqm/i", schemas.Invalidation{Database: "shop", Table: "items"}) })
	}
	wg.Wait()
	fail = true
	if err := p.send("/dqm/i", schemas.Invalidation{Database: "shop", Table: "items"}); err == nil {
		t.Fatal("no error from a failed publish")
	}
	fail = false
	p.watermark(time.Second, false)
	for i, m := range got[:50] {
		var inv schemas.Invalidation
		json.Unmarshal(m.Data, &inv)
		if inv.Publisher != p.id || inv.PublisherSeq != uint64(i+1) || m.Subject != "dqm.shop.invalidate.items" {
			t.Fatalf("message %d: %s %+v", i, m.Subject, inv)
		}
	}
	var wm schemas.Watermark
	json.Unmarshal(got[50].Data, &wm)
	if got[50].Subject != schemas.WatermarkSubject("shop") || wm.PublisherSeq != 51 || wm.IntervalMS != 1000 || wm.Final {
		t.Fatalf("watermark %s %+v", got[50].Subject, wm)
	}
}
