package lead

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// statusKV is KV dqm_status as the heartbeat job writes it.
type statusKV interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
}

// heartbeat is the reporting job: this instance's status goes to KV
// dqm_status every refresh (the key is also its membership, which the
// planner reads) and, while it leads, to the heartbeat subject every
// heartbeat interval. Taking the lease reports at once.
type heartbeat struct {
	status  func() schemas.Heartbeat
	kv      statusKV // nil: no status kept
	key     string
	publish func(subject string, data []byte) error // core NATS
	subject string
	leader  *leaderState
	// reported, if set, fires when the status changes: it is put at once.
	reported *signal
	refresh  time.Duration // status put
	every    time.Duration // heartbeat publish while leading
	onPut    func()        // after each status put (cache gauge)
	log      *slog.Logger
}

func (h *heartbeat) run(ctx context.Context) error {
	put := time.NewTicker(h.refresh)
	defer put.Stop()
	beat := time.NewTicker(h.every)
	defer beat.Stop()
	h.putStatus(ctx)
	leading := false
	for {
		// The channel first, then the state: no change is missed.
		leaderCh := h.leader.changed()
		var reportCh <-chan struct{}
		if h.reported != nil {
			reportCh = h.reported.changed()
		}
		if now := h.leader.get(); now != leading {
			leading = now
			h.putStatus(ctx)
			if leading {
				h.publishBeat()
				beat.Reset(h.every)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-put.C:
			h.putStatus(ctx)
		case <-beat.C:
			if leading {
				h.publishBeat()
			}
		case <-leaderCh:
		case <-reportCh:
			h.putStatus(ctx)
		}
	}
}

func (h *heartbeat) putStatus(ctx context.Context) {
	if h.onPut != nil {
		h.onPut()
	}
	if h.kv == nil {
		return
	}
	b, _ := json.Marshal(h.status())
	if _, err := h.kv.Put(ctx, h.key, b); err != nil && ctx.Err() == nil {
		h.log.Warn("status", "err", err)
	}
}

func (h *heartbeat) publishBeat() {
	b, _ := json.Marshal(h.status())
	if err := h.publish(h.subject, b); err != nil {
		h.log.Warn("heartbeat publish", "err", err)
	}
}
