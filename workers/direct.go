package workers

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/dqmhq/dqm/internal/metrics"
	"github.com/dqmhq/dqm/schemas"
)

// The direct lane: reads of a database's direct entries, requested over
// core NATS request/reply on schemas.DirectSubject instead of through
// its JetStream queues. Each worker of the database serves it as one
// instance of the micro service schemas.DirectService (one endpoint,
// micro's default queue group), so NATS spreads the requests over the
// workers. A request takes the same chain as a pulled one, with the
// Tag schemas.Direct; what differs is in directMsg: the reply goes to
// the NATS reply subject, and there is nothing to ack or redeliver. The
// handler runs on the endpoint subscription's goroutine, so a worker
// answers one direct request at a time on its own connection, besides
// its queues' requests.

// lane is a worker's instance of the direct lane's micro service.
type lane struct {
	srv micro.Service // nil: not serving; only serveDirect touches it

	// mu is held shared while a request is handled and exclusively to
	// close the lane, so close returns once no request runs.
	mu     sync.RWMutex
	closed bool // the worker stopped: requests still queued are handed back
}

// close hands back every request that reaches the handler from now on
// (Worker.Run calls it when the worker stops).
func (l *lane) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// serveDirect serves the direct lane while the database has one (its
// direct_reads, or a direct entry in the current catalog), following
// catalog loads, until ctx ends; then it stops the service.
func (w *Worker) serveDirect(ctx context.Context) {
	defer w.stopDirect()
	for {
		var loaded <-chan struct{} // nil: wait for ctx alone
		if w.cfg.CatalogChanged != nil {
			loaded = w.cfg.CatalogChanged()
		}
		if on := w.directOn(); on && w.direct.srv == nil {
			w.startDirect()
		} else if !on && w.direct.srv != nil {
			w.stopDirect()
		}
		select {
		case <-ctx.Done():
			return
		case <-loaded:
		}
	}
}

func (w *Worker) directOn() bool {
	if w.cfg.DirectReads {
		return true
	}
	cat := w.cfg.Catalog()
	return cat != nil && cat.HasDirect()
}

// startDirect adds the worker's service instance. A failure is logged:
// the lane's clients fall back to the queues meanwhile, and the next
// catalog load tries again.
func (w *Worker) startDirect() {
	db := w.cfg.Database
	srv, err := micro.AddService(w.cfg.NC, micro.Config{
		Name:        schemas.DirectService(db),
		Version:     serviceVersion(),
		Description: "dqm direct reads of database " + db,
		Metadata:    map[string]string{"database": db, "worker": w.cfg.Label},
		ErrorHandler: func(_ micro.Service, err *micro.NATSError) {
			w.log.Warn("direct lane", "subject", err.Subject, "err", err.Description)
		},
	})
	if err == nil {
		err = srv.AddEndpoint(schemas.DirectEndpoint, micro.HandlerFunc(w.serve), micro.WithEndpointSubject(schemas.DirectSubject(db)))
		if err != nil {
			srv.Stop()
		}
	}
	if err != nil {
		w.log.Warn("direct lane not served", "err", err)
		return
	}
	w.direct.srv = srv
	w.log.Info("direct lane served", "subject", schemas.DirectSubject(db), "service", schemas.DirectService(db))
}

// stopDirect removes the worker's service instance and waits until the
// server has seen it go, so that no request is routed to it after; those
// routed before are still answered (the subscription drains) until the
// lane is closed.
func (w *Worker) stopDirect() {
	srv := w.direct.srv
	if srv == nil {
		return
	}
	w.direct.srv = nil
	if err := srv.Stop(); err != nil {
		w.log.Warn("direct lane stop", "err", err)
	}
	if err := w.cfg.NC.FlushTimeout(2 * time.Second); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		w.log.Warn("direct lane stop: flush", "err", err)
	}
	w.log.Info("direct lane stopped")
}

// serve is the endpoint's handler: one request through the chain.
func (w *Worker) serve(req micro.Request) {
	m := &directMsg{req: req, nc: w.cfg.NC, prefixes: w.cfg.ReplyPrefixes}
	w.direct.mu.RLock()
	defer w.direct.mu.RUnlock()
	if w.direct.closed {
		m.Nak()
		return
	}
	base := context.Background()
	if w.cfg.Abort != nil {
		base = w.cfg.Abort
	}
	w.handler(base, &request{msg: m, tag: schemas.Direct, pulled: time.Now(), direct: m})
}

// directMsg is a request on the direct lane, as the chain sees a message.
type directMsg struct {
	req      micro.Request
	nc       *nats.Conn
	prefixes []string // allowed reply subjects
}

var errNotQueued = errors.New("a direct-lane request has no JetStream delivery")

func (d *directMsg) Subject() string                           { return d.req.Subject() }
func (d *directMsg) Headers() nats.Header                      { return nats.Header(d.req.Headers()) }
func (d *directMsg) Data() []byte                              { return d.req.Data() }
func (d *directMsg) Metadata() (*jetstream.MsgMetadata, error) { return nil, errNotQueued }

// Ack: answered; there is nothing to settle.
func (d *directMsg) Ack() error { return nil }

// Term: not answered (a reply subject that is not allowed, a panic), and
// nothing is ever redelivered on this lane.
func (d *directMsg) Term() error { return nil }

// NakWithDelay is Nak: the client falls back to the queue at once.
func (d *directMsg) NakWithDelay(time.Duration) error { return d.Nak() }

// InProgress: there is no ack wait on this lane.
func (d *directMsg) InProgress() error { return nil }

// Nak hands the request back unanswered (the landing bound cut it short,
// its reply failed, or the worker stopped before it): it is answered as
// NATS answers a request nobody serves, an empty message with status
// 503, so the client (nats.ErrNoResponders) sends it to its queue. Only
// to an allowed reply subject, as every reply.
func (d *directMsg) Nak() error {
	if schemas.CheckReplySubject(d.req.Reply(), d.prefixes) != nil {
		return nil
	}
	return d.nc.PublishMsg(&nats.Msg{Subject: d.req.Reply(), Header: nats.Header{"Status": []string{"503"}}})
}

// respond sends the reply m (addressed to the reply subject by decode).
// A failure goes through micro's Error, so the service's stats count it
// (its code header is the HTTP status, its description the error code);
// body and CloudEvent headers are the queue path's either way.
func (d *directMsg) respond(m *nats.Msg, res *schemas.Result) error {
	if res != nil && !res.Success {
		status, code := res.Status, string(res.Error)
		if status == 0 {
			status = res.Error.Status()
		}
		if code == "" {
			code = string(schemas.CodeInternal)
		}
		return d.req.Error(strconv.Itoa(status), code, m.Data, micro.WithHeaders(micro.Headers(m.Header)))
	}
	// What Respond does, but returning the connection's own errors
	// (nats.ErrMaxPayload), which the reply step checks.
	return d.nc.PublishMsg(m)
}

// semVer is the version shape micro requires (semver.org's).
var semVer = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// serviceVersion is dqm's build version (metrics.Version, set by cmd/dqm)
// as micro wants it, or 0.0.0 for a build without one ("dev").
func serviceVersion() string {
	if v := strings.TrimPrefix(metrics.Version, "v"); semVer.MatchString(v) {
		return v
	}
	return "0.0.0"
}
