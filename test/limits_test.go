package test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dqmhq/dqm/internal/testutil"
)

// TestRESTLimitBatchOfDuplicates is the 14,000-entry batch of one range
// query: it runs once, and the body that would repeat its 28 KB result at
// every position (392 MB) is refused before it exists.
func TestRESTLimitBatchOfDuplicates(t *testing.T) {
	s := start(t, testConfig(t))
	entry := `{"query_ref":55,"params":{"INTEGER":{"START":0,"FINISH":2000}}}`
	body := `{"database":"demo","queries":[` + strings.Repeat(entry+",", 13999) + entry + `]}`
	if len(body) > 1<<20 {
		t.Fatalf("body %d bytes, over max_body_bytes", len(body))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	status, resp, _ := call(t, s, "POST", "/api/conduit/queries", body)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if status != 413 || resp["error"] != "too_large" || !strings.Contains(fmt.Sprint(resp["message"]), "http.max_response_bytes") {
		t.Fatalf("status %d body %v", status, resp)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("882 KB batch of 14,000 duplicates: %d, %s; allocated %.1f MB, heap growth %.1f MB (HeapAlloc %.1f → %.1f MB)",
		status, elapsed.Round(time.Millisecond), mb(allocated), float64(growth)/(1<<20), mb(before.HeapAlloc), mb(after.HeapAlloc))
	if allocated > 100<<20 {
		t.Errorf("allocated %.1f MB answering the batch, want < 100 MB", mb(allocated))
	}
	// The same batch within the limit is answered in full.
	small := `{"database":"demo","queries":[` + strings.Repeat(entry+",", 99) + entry + `]}`
	status, resp, _ = call(t, s, "POST", "/api/conduit/queries", small)
	if status != 200 || resp["success"] != true || len(resp["results"].([]any)) != 100 {
		t.Fatalf("100 duplicates: status %d success %v", status, resp["success"])
	}
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// TestRESTLimitSlowBody trickles a body a few bytes per second: the read
// timeout cuts it, long before the body could be complete.
func TestRESTLimitSlowBody(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.ReadTimeoutMS, cfg.HTTP.ReadHeaderTimeoutMS = 1000, 1000
	s := start(t, cfg)
	conn, err := net.Dial("tcp", s.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const length = 200
	fmt.Fprintf(conn, "POST /api/conduit/query HTTP/1.1\r\nHost: dqm\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", length)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent int
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond) // 4 bytes a second
		defer tick.Stop()
		for sent < length {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
				sent++
			}
		}
	})
	began := time.Now()
	conn.SetReadDeadline(began.Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	cut := time.Since(began)
	close(stop)
	wg.Wait()
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("status %d, want 408 (or the connection closed)", resp.StatusCode)
		}
	} else if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s", cut)
	}
	if cut > 5*time.Second || sent >= length {
		t.Fatalf("cut after %s and %d of %d bytes", cut, sent, length)
	}
	t.Logf("slow body cut after %s, %d bytes sent (err %v)", cut.Round(time.Millisecond), sent, err)
}

// TestRESTLimitInFlight holds the only slot with a slow query: the next
// /api/ request is answered 503 with Retry-After, /healthz still answers,
// and once the slot is free requests go through again.
func TestRESTLimitInFlight(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.MaxInFlight = 1
	s := start(t, cfg)
	good := `{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1,"FINISH":3}}}`
	done := make(chan int)
	go func() {
		// ref 5 runs until its 2 s timeout with this many loops; it is
		// sent again while a probe below holds the slot.
		for {
			resp, err := http.Post("http://"+s.HTTPAddr()+"/api/conduit/query", "application/json",
				strings.NewReader(`{"query_ref":5,"database":"demo","params":{"INTEGER":{"LOOPS":2000000000}}}`))
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 503 {
				done <- resp.StatusCode
				return
			}
		}
	}()
	var got map[string]any
	var retry string
	testutil.Eventually(t, 2*time.Second, "a 503 while the slot is held", func() bool {
		status, body, h := rawCall(t, s, "POST", "/api/conduit/query", nil, good)
		got, retry = body, h.Get("Retry-After")
		return status == 503
	})
	if got["error"] != "unavailable" || retry == "" || !strings.Contains(fmt.Sprint(got["message"]), "max_in_flight") {
		t.Fatalf("503 body %v, Retry-After %q", got, retry)
	}
	if status, _, _ := call(t, s, "GET", "/healthz", ""); status != 200 {
		t.Fatalf("healthz %d while busy", status)
	}
	// Counted under the route they were refused on, not "other".
	if n := promtest.ToFloat64(s.Metrics().HTTPRequests.WithLabelValues("/api/conduit/query", "503")); n < 1 {
		t.Fatalf("dqm_http_requests_total{route=/api/conduit/query,status=503} = %v", n)
	}
	if status := <-done; status != 408 {
		t.Fatalf("slow query: %d", status)
	}
	if status, _, _ := call(t, s, "POST", "/api/conduit/query", good); status != 200 {
		t.Fatalf("after the slot is free: %d", status)
	}
}
