package lead

import (
	"errors"
	"sync"

	"github.com/dqmhq/dqm/engines"
)

// errNoConn is use's answer while the database is not connected.
var errNoConn = errors.New("not connected")

// connHolder is the Lead's own connection. The health job sets and drops
// it; the other jobs borrow it with use, one at a time, since a connection
// runs one statement at a time.
type connHolder struct {
	sig  signal // fired when a connection is set or dropped
	mu   sync.Mutex
	conn engines.Conn
	gen  uint64 // counts the connections set
}

// use runs fn on the connection, or returns errNoConn. A connection fn
// finds dead (engines.IsConnLost) is dropped and closed at once, whoever
// borrowed it: the health job reconnects on the change instead of at its
// next ping, and the other jobs do not retry on a dead connection
// meanwhile.
func (h *connHolder) use(fn func(engines.Conn) error) error {
	h.mu.Lock()
	if h.conn == nil {
		h.mu.Unlock()
		return errNoConn
	}
	conn := h.conn
	err := fn(conn)
	lost := err != nil && engines.IsConnLost(err)
	if lost {
		h.conn = nil
	}
	h.mu.Unlock()
	if lost {
		conn.Close()
		h.sig.fire()
	}
	return err
}

// current identifies the connection: 0 when there is none, else a number
// that a new connection changes (a job that set something up on the last
// one, such as triggers or a listener, does it again).
func (h *connHolder) current() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn == nil {
		return 0
	}
	return h.gen
}

// set holds conn, a newly opened connection.
func (h *connHolder) set(conn engines.Conn) {
	h.mu.Lock()
	h.conn = conn
	h.gen++
	h.mu.Unlock()
	h.sig.fire()
}

// take drops the connection and returns it, for the caller to close.
func (h *connHolder) take() engines.Conn {
	h.mu.Lock()
	conn := h.conn
	h.conn = nil
	h.mu.Unlock()
	if conn != nil {
		h.sig.fire()
	}
	return conn
}

func (h *connHolder) changed() <-chan struct{} { return h.sig.changed() }
