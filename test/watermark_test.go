package test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
)

// TestInvalidationWatermarkOverdue: an instance that lands tells every
// cache so (a final watermark), and the other instance's cache keeps its
// entries; an instance that dies mid-way (its invalidations in flight may
// be lost) goes silent, and the instance cache of the survivor drops the
// database within two watermark intervals, after which a read is fresh.
func TestInvalidationWatermarkOverdue(t *testing.T) {
	ns := testutil.NATS(t)
	cfg := shopConfig(t, "sqlite", filepath.Join(t.TempDir(), "shop.db"), 50)
	cfg.NATS.URL = ns.ClientURL()
	const every = 300 * time.Millisecond
	cfg.Cache.WatermarkMS = int(every.Milliseconds())
	a := start(t, cfg)
	other := func() *server.Server {
		c := *cfg
		c.HTTP.Listen = "127.0.0.1:0"
		return start(t, &c)
	}
	fill := func() {
		testutil.Eventually(t, 5*time.Second, "cached", func() bool {
			readItem(t, a)
			_, cached := readItem(t, a)
			return cached
		})
	}
	fill()
	// A second instance that lands: a's cache forgets it without a drop.
	b := other()
	testutil.Eventually(t, 5*time.Second, "b ready", b.Ready)
	fill()
	drops := a.Cache().Stats().Drops
	if err := b.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	landed := time.Now()
	testutil.Eventually(t, 5*time.Second, "three intervals of b's silence, a still cached", func() bool {
		if _, cached := readItem(t, a); !cached {
			t.Fatalf("a's entry dropped %v after b landed", time.Since(landed))
		}
		return time.Since(landed) > 3*every
	})
	// A third that dies: a drops shop within two intervals of its last
	// watermark (a quarter interval to notice, slack for a loaded machine).
	// Its first watermark (number 0: it sent no invalidation) is no reason
	// to drop.
	c := other()
	fill()
	if n := a.Cache().Stats().Drops - drops; n != 0 {
		t.Errorf("%d drops while b landed and c started", n)
	}
	killed := time.Now()
	c.Kill()
	testutil.Eventually(t, 5*time.Second, "shop dropped from a's cache", func() bool { return a.Cache().Len("shop") == 0 })
	window := time.Since(killed)
	t.Logf("killed instance → survivor's cache dropped shop: %v (watermark every %v)", window.Round(time.Millisecond), every)
	if window > 2*every+every/4+500*time.Millisecond {
		t.Errorf("dropped %v after the kill", window)
	}
	if _, cached := readItem(t, a); cached {
		t.Fatal("read after the drop was cached")
	}
}
