package lead

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is the Lead role of one database: a key in KV dqm_leaders whose
// bucket TTL expires it unless the holder refreshes it. Create takes a
// free lease; Update with the last revision refreshes it and fails if
// anyone else wrote it meanwhile, so two instances never both believe
// they lead for longer than one refresh.
type Lease struct {
	kv     jetstream.KeyValue
	key    string
	holder string
	rev    uint64
}

// NewLease returns the lease key for holder.
func NewLease(kv jetstream.KeyValue, key, holder string) *Lease {
	return &Lease{kv: kv, key: key, holder: holder}
}

// Held reports whether the last Try kept or took the lease.
func (l *Lease) Held() bool { return l.rev != 0 }

// Try refreshes a held lease or takes a free one. It reports whether the
// lease is held afterwards; an error means the KV could not be reached,
// and the lease is given up, since it can no longer be refreshed.
func (l *Lease) Try(ctx context.Context) (bool, error) {
	if l.rev != 0 {
		rev, err := l.kv.Update(ctx, l.key, []byte(l.holder), l.rev)
		if err != nil {
			l.rev = 0
			return false, ignoreTaken(err)
		}
		l.rev = rev
		return true, nil
	}
	rev, err := l.kv.Create(ctx, l.key, []byte(l.holder))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return l.reclaim(ctx)
	}
	if err != nil {
		return false, ignoreTaken(err)
	}
	l.rev = rev
	return true, nil
}

// reclaim takes back a lease that still holds this holder's id: a refresh
// whose answer was lost while a NATS leader moved wrote it, or timed out
// after writing it. Holder ids are unique to an instance's run, so no one
// else can have written it; without this the Lead would stay vacant until
// the key's TTL expired.
func (l *Lease) reclaim(ctx context.Context) (bool, error) {
	e, err := l.kv.Get(ctx, l.key)
	if err != nil || string(e.Value()) != l.holder {
		return false, nil // taken by someone else, or gone: try again next time
	}
	l.rev = e.Revision()
	return true, nil
}

// Release gives the lease up at once (on landing), so another instance
// need not wait for the TTL.
func (l *Lease) Release(ctx context.Context) error {
	if l.rev == 0 {
		return nil
	}
	err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
	l.rev = 0
	return ignoreTaken(err)
}

// Holder reads who holds the lease now ("" if nobody).
func (l *Lease) Holder(ctx context.Context) string {
	e, err := l.kv.Get(ctx, l.key)
	if err != nil {
		return ""
	}
	return string(e.Value())
}

// ignoreTaken treats "someone else holds it" as a normal outcome.
func ignoreTaken(err error) error {
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrKeyExists) || (errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
		return nil
	}
	return err
}

// leaseJob is the lease job: every refresh (a third of the lease's TTL)
// it refreshes or takes the lease and sets leader. It never releases: the
// landing does, after every job has stopped.
type leaseJob struct {
	lease    *Lease
	leader   *leaderState
	every    time.Duration
	onChange func(held bool) // log and metrics
	log      *slog.Logger
}

func (j *leaseJob) run(ctx context.Context) error {
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		held, err := j.lease.Try(ctx)
		if ctx.Err() != nil {
			return nil // landing: keep the lease for Release
		}
		if err != nil {
			j.log.Warn("lease", "err", err)
		}
		if j.leader.set(held) && j.onChange != nil {
			j.onChange(held)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
