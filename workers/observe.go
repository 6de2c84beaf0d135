package workers

import (
	"context"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// observe counts every request: answered ones by outcome (Observe or
// Metrics), terminated ones by reason (dqm_requests_rejected_total).
// Redelivered ones are counted when they are answered.
func (w *Worker) observe(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		res := next(ctx, r)
		if res.settle == redeliver {
			return res
		}
		w.processed.Add(1)
		if res.settle == terminate {
			w.failed.Add(1)
			if w.cfg.Metrics != nil {
				w.cfg.Metrics.Reject(w.cfg.Database, res.reason)
			}
			return res
		}
		var code schemas.Code
		if res.reply != nil && !res.reply.Success {
			w.failed.Add(1)
			code = res.reply.Error
		}
		var queued time.Duration
		if r.event != nil && !r.event.Time.IsZero() {
			queued = r.pulled.Sub(r.event.Time)
		}
		ran := time.Since(r.pulled)
		switch {
		case w.cfg.Observe != nil:
			w.cfg.Observe(r.tag, code, queued, ran)
		case w.cfg.Metrics != nil:
			w.cfg.Metrics.Observe(w.cfg.Database, r.tag, string(code), queued, ran)
		}
		return res
	}
}
