package jsretry

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/internal/backoff"
)

// nats-server's error codes (its JS*Err constants) for states that pass on
// their own; nats.go names only a few of them.
const (
	codeNoPeers            jetstream.ErrorCode = 10005 // JSClusterNoPeersErrF: "no suitable peers for placement"
	codeNotAvailable       jetstream.ErrorCode = 10008 // JSClusterNotAvailErr: "JetStream system temporarily unavailable"
	codeNotLeader          jetstream.ErrorCode = 10009 // JSClusterNotLeaderErr
	codeInsufficient       jetstream.ErrorCode = 10023 // JSInsufficientResourcesErr
	codeStreamOffline      jetstream.ErrorCode = 10118 // JSStreamOfflineErr
	codeConsumerOffline    jetstream.ErrorCode = 10119 // JSConsumerOfflineErr
	codeStreamOfflineWhy   jetstream.ErrorCode = 10194 // JSStreamOfflineReasonErrF
	codeConsumerOfflineWhy jetstream.ErrorCode = 10195 // JSConsumerOfflineReasonErrF
	codeMemberChange       jetstream.ErrorCode = 10202 // JSClusterServerMemberChangeInflightErr
	// JSConsumerReplicasExceedsStream: a consumer raised to a stream's new
	// replica count while the stream is still scaling up to it.
	codeConsumerReplicas jetstream.ErrorCode = 10126
)

// permanent marks an error Transient must not retry, whatever it wraps.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent returns err marked as not transient: Do returns it at once
// even when it wraps a passing state (a caller that knows the cluster is
// too small for what it asks, say). Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Transient reports whether err is a state of the cluster that passes:
// no responders or no answer in time (an API or a stream without a leader
// for a moment), no peers or resources for placement yet, JetStream not
// yet enabled, a leader election. A stream that does not exist is not
// transient, and neither is a full queue.
func Transient(err error) bool {
	if err == nil || errors.As(err, new(permanent)) {
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case codeNoPeers, codeNotAvailable, codeNotLeader, codeInsufficient, codeMemberChange, codeConsumerReplicas,
			codeStreamOffline, codeConsumerOffline, codeStreamOfflineWhy, codeConsumerOfflineWhy,
			jetstream.JSErrCodeJetStreamNotEnabled:
			return true
		}
		return false
	}
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// attemptTimeout bounds one call, as nats.go's default API timeout does
// for a context without a deadline.
const attemptTimeout = 5 * time.Second

// Do runs op until it succeeds, fails with an error that is not Transient,
// or bound has passed; then it returns op's last error. Between attempts
// it waits a capped backoff and logs the retry; each attempt gets at most
// attemptTimeout. bound <= 0 means one attempt.
func Do(ctx context.Context, log *slog.Logger, bound time.Duration, what string, op func(context.Context) error) error {
	if log == nil {
		log = slog.Default()
	}
	until := time.Now().Add(bound)
	b := backoff.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := op(actx)
		cancel()
		if err == nil || !Transient(err) || ctx.Err() != nil {
			return err
		}
		wait := b.Next()
		if time.Now().Add(wait).After(until) {
			return err
		}
		log.Warn("launch: JetStream not ready; retrying", "what", what, "attempt", attempt, "in", wait.Round(time.Millisecond), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
