package ingress

import (
	"bytes"
	"sync/atomic"
)

// A request with both Content-Length and Transfer-Encoding has two
// framings; RFC 9112 §6.1 says to reject it or to trust
// Transfer-Encoding and close the connection after answering. net/http
// trusts Transfer-Encoding, drops Content-Length before any handler sees
// it, and keeps the connection: a proxy in front that trusted
// Content-Length would see another request boundary (request smuggling).
// So the bytes a connection reads are watched: in a request's header
// block, the second of the two headers gets a name net/http refuses
// (same length, so nothing shifts), net/http answers 400 and closes, and
// JSONErrors writes that 400 as the contract's JSON, saying why.
//
// The watch reads lines, not the framing itself: a header block starts at
// a request line (METHOD SP target SP HTTP/1.x) and ends at an empty line.
// A header line split across two reads can no longer be renamed; then
// net/http's own reading (Transfer-Encoding wins) stands.

// maxWatchedLine bounds the part of a line kept across reads.
const maxWatchedLine = 8 << 10

type framing struct {
	line     []byte // the current line's bytes from earlier reads
	long     bool   // the current line outgrew maxWatchedLine: not watched
	inHeader bool
	cl, te   bool
	// ambiguous is set once a request was renamed: its 400 says why.
	ambiguous atomic.Bool
}

var (
	headerCL      = []byte("content-length")
	headerTE      = []byte("transfer-encoding")
	renamedCL     = []byte("dqm{ambiguous}")    // as long as Content-Length
	renamedTE     = []byte("dqm{ambiguous-te}") // as long as Transfer-Encoding
	httpVersion10 = []byte(" HTTP/1.0")
	httpVersion11 = []byte(" HTTP/1.1")
)

// watch looks at bytes just read, renaming in p what must not pass.
func (f *framing) watch(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.keep(p)
			return
		}
		seg := p[:i+1]
		p = p[i+1:]
		if f.long {
			f.long, f.line = false, f.line[:0]
			continue
		}
		line := seg
		whole := len(f.line) == 0 // the line began in this read: seg may be renamed
		if !whole {
			line = append(f.line, seg...)
		}
		f.line = f.line[:0]
		f.lineDone(bytes.TrimRight(line, "\r\n"), seg, whole)
	}
}

func (f *framing) keep(part []byte) {
	if f.long || len(f.line)+len(part) > maxWatchedLine {
		f.long, f.line = true, f.line[:0]
		return
	}
	f.line = append(f.line, part...)
}

func (f *framing) lineDone(line, seg []byte, whole bool) {
	if !f.inHeader {
		if bytes.HasSuffix(line, httpVersion11) || bytes.HasSuffix(line, httpVersion10) {
			f.inHeader, f.cl, f.te = true, false, false
		}
		return
	}
	if len(line) == 0 {
		f.inHeader = false
		return
	}
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return
	}
	switch {
	case bytes.EqualFold(name, headerCL):
		if f.te && whole {
			copy(seg, renamedCL)
			f.ambiguous.Store(true)
		}
		f.cl = true
	case bytes.EqualFold(name, headerTE):
		if f.cl && whole {
			copy(seg, renamedTE)
			f.ambiguous.Store(true)
		}
		f.te = true
	}
}

// Read implements net.Conn, watching the request bytes.
func (c *jsonErrorsConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.frame.watch(p[:n])
	}
	return n, err
}
