package ingress

import (
	"bytes"
	"net"
	"strconv"

	"github.com/dqmhq/dqm/schemas"
)

// JSONErrors wraps a listener so that the plain-text answers net/http
// writes itself, before any handler runs, become the contract's JSON
// failure body: a request line that does not parse (an invalid URL escape
// such as /api/query/demo/1/auto/%ZZ), a malformed header, headers over
// http.max_header_bytes. net/http has no hook for these; it writes them as
// one Write on the raw connection, in a shape no handler response has
// (text/plain followed directly by Connection: close, no Date), and
// closes the connection.
func JSONErrors(ln net.Listener) net.Listener { return jsonErrorsListener{ln} }

type jsonErrorsListener struct{ net.Listener }

func (l jsonErrorsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorsConn{Conn: c}, nil
}

type jsonErrorsConn struct {
	net.Conn
	frame framing // framing.go
}

// goErrorHeaders is what net/http puts between the status line and the
// text of its own error answers.
var goErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c *jsonErrorsConn) Write(p []byte) (int, error) {
	if len(p) > 512 || !bytes.HasPrefix(p, []byte("HTTP/1.1 4")) {
		return c.Conn.Write(p)
	}
	i := bytes.Index(p, goErrorHeaders)
	if i < 0 {
		return c.Conn.Write(p)
	}
	statusLine := p[len("HTTP/1.1 "):i] // "400 Bad Request", "431 Request Header Fields Too Large"
	code, msg := schemas.CodeBadRequest, "malformed HTTP request (request line, URL escape or header)"
	// Go's text repeats the status line, sometimes with a detail after it
	// ("400 Bad Request: missing required Host header").
	if detail, ok := bytes.CutPrefix(p[i+len(goErrorHeaders):], statusLine); ok && bytes.HasPrefix(detail, []byte(": ")) {
		msg += string(detail)
	}
	if bytes.HasPrefix(statusLine, []byte("431")) {
		code, msg = schemas.CodeTooLarge, "request headers over http.max_header_bytes"
	}
	if c.frame.ambiguous.Load() {
		msg = "ambiguous request framing: Content-Length and Transfer-Encoding in one request (RFC 9112 §6.1); the connection is closed"
	}
	res := schemas.Failure("", 0, schemas.Errorf(code, msg))
	res.Status = 0 // the single body carries no status field
	body := res.AppendJSON(nil)
	out := make([]byte, 0, 256+len(body))
	out = append(out, "HTTP/1.1 "...)
	out = append(out, statusLine...)
	out = append(out, "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	out = append(out, body...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
