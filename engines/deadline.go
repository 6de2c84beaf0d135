package engines

import (
	"context"
	"time"
)

// DeadlineWatch interrupts a connection's statements from outside when
// their context ends, for a driver that cannot be handed the context
// itself (go-sql-driver/mysql closes the connection on cancel; go_ibm_db
// ignores it). It acts (context.AfterFunc: no goroutine unless the context
// ends) only between WatchDeadline and Stop, and Stop waits for it, so no
// interruption is still in flight when the next statement starts.
type DeadlineWatch struct {
	done  chan struct{} // closed by Stop: the statements have finished
	fin   chan struct{} // closed when the AfterFunc returns
	stop  func() bool   // context.AfterFunc's stop
	fired bool          // written by the AfterFunc before fin closes
}

// WatchDeadline watches ctx for the statements about to run. When it ends
// before Stop, interrupt runs with a context of grace (KILL QUERY or
// WLM_CANCEL_ACTIVITY from a second connection, say); abort, if not nil,
// runs when interrupt fails or the statements have not finished within
// grace after it (the last resort: cancel the driver's own context, which
// costs the connection). A ctx that never ends is not watched.
func WatchDeadline(ctx context.Context, grace time.Duration, interrupt func(context.Context) error, abort func()) *DeadlineWatch {
	if ctx.Done() == nil {
		return nil
	}
	w := &DeadlineWatch{done: make(chan struct{}), fin: make(chan struct{})}
	w.stop = context.AfterFunc(ctx, func() {
		defer close(w.fin)
		select {
		case <-w.done: // finished as the deadline passed: nothing to stop
			return
		default:
		}
		w.fired = true
		ictx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := interrupt(ictx); err == nil {
			select {
			case <-w.done:
				return
			case <-ictx.Done():
			}
		}
		if abort != nil {
			abort()
		}
	})
	return w
}

// Stop ends the watch and reports whether the context ended during it (and
// the statements were interrupted): what they returned is then suspect
// (MySQL's SLEEP returns 1 when killed), and the run is a timeout even if
// it ended without an error.
func (w *DeadlineWatch) Stop() bool {
	if w == nil {
		return false
	}
	close(w.done)
	if w.stop() {
		return false // the context did not end
	}
	<-w.fin
	return w.fired
}
