package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/schemas"
)

// watchInvalidations subscribes the cache to every database's
// invalidations and watermarks (one subscription, so a publisher's
// watermark arrives behind its invalidations) and starts the goroutine
// that drops databases whose watermarks are overdue.
func (c *Client) watchInvalidations() error {
	c.marks = cache.NewWatermarks()
	var err error
	c.cacheSub, err = c.nc.Subscribe("dqm.*.invalidate.>", c.invalidation)
	if err != nil {
		return fmt.Errorf("invalidation subscription: %w", err)
	}
	prev := c.nc.Opts.ReconnectedCB
	c.nc.SetReconnectHandler(func(nc *nats.Conn) {
		c.clear()
		if prev != nil {
			prev(nc)
		}
	})
	// nats.go drops messages of a subscription that falls behind and says
	// so here: the dropped ones may be invalidations.
	prevErr := c.nc.Opts.AsyncErrorCB
	c.nc.SetErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
		if sub == c.cacheSub && errors.Is(err, nats.ErrSlowConsumer) {
			c.clear()
		}
		if prevErr != nil {
			prevErr(nc, sub, err)
		}
	})
	c.wg.Go(c.checkWatermarks)
	return nil
}

// clear empties the cache when any invalidation may have been missed.
func (c *Client) clear() {
	c.cache.Clear()
	c.marks.Forget()
}

// invalidation handles one message on dqm.<db>.invalidate.<table> or the
// database's watermark subject.
func (c *Client) invalidation(m *nats.Msg) {
	if c.dropMsg != nil && c.dropMsg(m) {
		return
	}
	parts := strings.SplitN(m.Subject, ".", 4)
	if len(parts) != 4 {
		return
	}
	db := parts[1]
	if parts[3] == schemas.WatermarkToken {
		var wm schemas.Watermark
		if json.Unmarshal(m.Data, &wm) != nil || wm.Publisher == "" {
			return
		}
		interval := time.Duration(wm.IntervalMS) * time.Millisecond
		if c.marks.Watermark(db, wm.Publisher, wm.PublisherSeq, interval, wm.Final) {
			c.cache.DropDatabase(db)
		}
		return
	}
	c.cache.Invalidate(db, parts[3])
	var inv struct {
		Publisher    string `json:"publisher"`
		PublisherSeq uint64 `json:"publisher_seq"`
	}
	// An invalidation without numbers (an older dqm) is applied, not checked.
	if json.Unmarshal(m.Data, &inv) == nil && inv.Publisher != "" &&
		c.marks.Invalidation(db, inv.Publisher, inv.PublisherSeq) {
		c.cache.DropDatabase(db)
	}
}

// checkWatermarks drops the databases whose watermarks are overdue, until
// Close.
func (c *Client) checkWatermarks() {
	t := time.NewTimer(c.marks.CheckEvery())
	defer t.Stop()
	for {
		select {
		case <-c.life.Done():
			return
		case <-t.C:
		}
		for _, db := range c.marks.Overdue() {
			c.cache.DropDatabase(db)
		}
		t.Reset(c.marks.CheckEvery())
	}
}
