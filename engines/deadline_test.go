package engines

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDeadlineWatch(t *testing.T) {
	t.Run("no deadline", func(t *testing.T) {
		w := WatchDeadline(context.Background(), time.Second, func(context.Context) error {
			t.Error("interrupted without a deadline")
			return nil
		}, nil)
		if w != nil || w.Stop() {
			t.Fatal("a context that never ends was watched")
		}
	})
	t.Run("finished in time", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w := WatchDeadline(ctx, time.Second, func(context.Context) error {
			t.Error("interrupted after Stop")
			return nil
		}, func() { t.Error("aborted after Stop") })
		if w.Stop() {
			t.Error("Stop = true, want false")
		}
		cancel() // after Stop: nothing may run
	})
	for _, tc := range []struct {
		name      string
		interrupt error
		grace     time.Duration
		abort     bool // the statements do not end when interrupted
	}{
		{"interrupted", nil, time.Minute, false},
		{"interrupt failed", errors.New("no KILL for you"), time.Minute, true},
		{"interrupt ignored", nil, 20 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			interrupted, aborted := make(chan struct{}), make(chan struct{})
			w := WatchDeadline(ctx, tc.grace, func(ictx context.Context) error {
				if _, ok := ictx.Deadline(); !ok {
					t.Error("interrupt has no grace deadline")
				}
				close(interrupted)
				return tc.interrupt
			}, func() { close(aborted) })
			cancel() // the deadline passes while the statements run
			<-interrupted
			if tc.abort {
				select {
				case <-aborted:
				case <-time.After(10 * time.Second):
					t.Fatal("not aborted")
				}
			}
			if !w.Stop() {
				t.Error("Stop = false after an interruption")
			}
			select {
			case <-aborted:
				if !tc.abort {
					t.Error("aborted, though the statements ended within grace")
				}
			default:
				if tc.abort {
					t.Error("not aborted")
				}
			}
		})
	}
}
