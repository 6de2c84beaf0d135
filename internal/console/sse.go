package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// Event streams (text/event-stream). The page reads them with fetch, so
// the Authorization header goes with them and no token is ever in a URL.
// A stream ends after Config.StreamFor (below http.write_timeout_ms, which
// ends every response) with an "end" event, and at shutdown; the page
// reconnects with after=<last seq> and loses nothing the ring still
// holds.

// sse starts an event stream; ok is false (and the error written) when
// the connection cannot stream.
func sse(w http.ResponseWriter) (*http.ResponseController, bool) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, false
	}
	return rc, true
}

// event writes one event; false when the client is gone.
func event(w http.ResponseWriter, rc *http.ResponseController, name string, id uint64, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	buf := make([]byte, 0, len(b)+64)
	buf = append(buf, "event: "...)
	buf = append(buf, name...)
	buf = append(buf, "\nid: "...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, b...)
	buf = append(buf, "\n\n"...)
	if _, err := w.Write(buf); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// tick is one event of /api/console/stream: the state and the history
// points the client has not seen.
type tick struct {
	State  State   `json:"state"`
	Points []Point `json:"points"`
}

// stream is /api/console/stream: a tick every sampling.
func (c *Console) stream(w http.ResponseWriter, r *http.Request) {
	after, err := uintParam(r, "after")
	if err != nil {
		fail(w, err)
		return
	}
	rc, ok := sse(w)
	if !ok {
		return
	}
	if st, _ := c.current(^uint64(0)); after > st.Seq {
		after = 0 // a page from before this instance started: all of it
	}
	end := time.NewTimer(c.cfg.StreamFor)
	defer end.Stop()
	for {
		wake := c.ticks.wait()
		st, pts := c.current(after)
		if st.Seq > after {
			if !event(w, rc, "tick", st.Seq, tick{State: st, Points: pts}) {
				return
			}
			after = st.Seq
		}
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		case <-c.closing:
			return
		case <-end.C:
			event(w, rc, "end", after, map[string]any{"after": after})
			return
		}
	}
}

// changes is /api/console/changes: the change events held, then new ones
// as they come, of one database and table when asked.
func (c *Console) changes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	db, table := q.Get("database"), q.Get("table")
	if db != "" {
		if err := c.database(db); err != nil {
			fail(w, err)
			return
		}
	}
	if len(table) > 128 {
		fail(w, schemas.Errorf(schemas.CodeBadRequest, "table: at most 128 characters"))
		return
	}
	after, err := uintParam(r, "after")
	if err != nil {
		fail(w, err)
		return
	}
	rc, ok := sse(w)
	if !ok {
		return
	}
	end := time.NewTimer(c.cfg.StreamFor)
	defer end.Stop()
	// A comment first: the page knows the stream is open before any
	// change comes.
	if _, err := w.Write([]byte(": open\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	for {
		wake := c.tail.notify.wait()
		matching, seen := c.tail.after(after, db, table)
		for _, ch := range matching {
			if !event(w, rc, "change", ch.Seq, ch) {
				return
			}
		}
		after = seen
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		case <-c.closing:
			return
		case <-end.C:
			event(w, rc, "end", after, map[string]any{"after": after})
			return
		}
	}
}
