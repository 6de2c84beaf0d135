package jsretry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{nats.ErrNoResponders, true},
		{jetstream.ErrNoStreamResponse, true},
		{fmt.Errorf("kv x: %w", context.DeadlineExceeded), true},
		{nats.ErrTimeout, true},
		{&jetstream.APIError{ErrorCode: 10005, Description: "no suitable peers for placement, peer offline"}, true},
		{fmt.Errorf("kv dqm_leaders: %w", &jetstream.APIError{ErrorCode: 10023}), true},
		{jetstream.ErrJetStreamNotEnabled, true},
		{jetstream.ErrStreamNotFound, false},
		{&jetstream.APIError{ErrorCode: 10077, Description: "maximum messages per subject exceeded"}, false},
		{&jetstream.APIError{ErrorCode: 10058}, false},
		{&jetstream.APIError{ErrorCode: 10126, Description: "consumer config replica count exceeds parent stream"}, true},
		{Permanent(fmt.Errorf("too small: %w", &jetstream.APIError{ErrorCode: 10005})), false},
		{fmt.Errorf("stream x: %w", Permanent(nats.ErrTimeout)), false},
	} {
		if got := Transient(tc.err); got != tc.want {
			t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestDo(t *testing.T) {
	ctx := context.Background()
	peers := &jetstream.APIError{ErrorCode: 10005, Description: "no suitable peers for placement"}
	n := 0
	err := Do(ctx, nil, 10*time.Second, "x", func(context.Context) error {
		if n++; n < 3 {
			return peers
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("through two transient errors: n=%d err=%v", n, err)
	}
	n = 0
	final := errors.New("bad config")
	if err := Do(ctx, nil, 10*time.Second, "x", func(context.Context) error { n++; return final }); err != final || n != 1 {
		t.Fatalf("a real failure is not retried: n=%d err=%v", n, err)
	}
	n = 0
	if err := Do(ctx, nil, 300*time.Millisecond, "x", func(context.Context) error { n++; return peers }); !errors.Is(err, peers) || n < 2 {
		t.Fatalf("bound: n=%d err=%v", n, err)
	}
}
