package ingress

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawServer serves the REST adapter (no databases) behind JSONErrors, as
// the server does, and returns its address.
func rawServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: NewREST(nil, noDatabases{}, RESTConfig{}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(JSONErrors(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// exchange writes raw requests on one connection and reads up to answers
// answers, stopping at one that closes the connection; closed says
// whether the server then closed it (checked only after such an answer).
func exchange(t *testing.T, addr, raw string, answers int) (statuses []int, bodies []string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for range answers {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", len(statuses)+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses, bodies = append(statuses, resp.StatusCode), append(bodies, string(b))
		if resp.Close {
			_, err = r.ReadByte()
			return statuses, bodies, err == io.EOF
		}
	}
	return statuses, bodies, false
}

func TestAmbiguousFraming(t *testing.T) {
	addr := rawServer(t)
	body := `{"query_ref":1,"database":"demo"}`
	chunked := "21\r\n" + body + "\r\n0\r\n\r\n"
	for _, c := range []struct{ name, headers string }{
		{"CL then TE", "Content-Length: 33\r\nTransfer-Encoding: chunked\r\n"},
		{"TE then CL", "Transfer-Encoding: chunked\r\nContent-Length: 33\r\n"},
		{"any case", "content-LENGTH: 33\r\ntransfer-encoding: chunked\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := "POST /api/conduit/query HTTP/1.1\r\nHost: x\r\n" + c.headers + "\r\n" + chunked
			statuses, bodies, closed := exchange(t, addr, raw+"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2)
			if len(statuses) != 1 || statuses[0] != 400 || !strings.Contains(bodies[0], `"error":"bad_request"`) ||
				!strings.Contains(bodies[0], "ambiguous request framing") || !closed {
				t.Fatalf("statuses %v, bodies %q, closed %v", statuses, bodies, closed)
			}
		})
	}
	// Either framing alone passes, and the connection is kept.
	raw := "POST /api/conduit/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
		"POST /api/conduit/query HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n\r\n" + body
	statuses, bodies, _ := exchange(t, addr, raw, 2)
	if len(statuses) != 2 || statuses[0] != 400 || statuses[1] != 400 || !strings.Contains(bodies[1], "invalid_database") {
		t.Fatalf("plain requests: %v %q", statuses, bodies)
	}
}

// TestFramingSplitReads: the watch follows lines across reads.
func TestFramingSplitReads(t *testing.T) {
	req := []byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
	for size := 1; size <= len(req); size++ {
		var f framing
		buf := append([]byte(nil), req...)
		for i := 0; i < len(buf); i += size {
			f.watch(buf[i:min(i+size, len(buf))])
		}
		// Renamed only when the second header's line came in one read.
		renamed := strings.Contains(string(buf), "dqm{ambiguous-te}")
		if renamed != f.ambiguous.Load() {
			t.Fatalf("read size %d: renamed %v, flagged %v", size, renamed, f.ambiguous.Load())
		}
		if size == len(req) && !renamed {
			t.Fatalf("read size %d: not renamed: %q", size, buf)
		}
	}
}
