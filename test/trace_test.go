package test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/testutil"
)

// collector is an OTLP/HTTP trace receiver (protobuf), as a collector
// at tracing.otlp_endpoint would be.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "want OTLP/HTTP protobuf on /v1/traces", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(b)
}

func (c *collector) byName(traceID string) map[string]*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]*tracepb.Span{}
	for _, s := range c.spans {
		if hex.EncodeToString(s.TraceId) == traceID {
			out[s.Name] = s
		}
	}
	return out
}

// logLines are the server's JSON log records.
func logLines(b *syncBuffer) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestTraceEndToEnd: one trace id from an HTTP request's traceparent to
// the worker's log line (trace_id) and back in the response's traceparent;
// with tracing off nothing is exported and the traceparent comes back as
// it was sent; with tracing on (an in-test OTLP/HTTP collector) the
// ingress, client, queue-wait and execution spans arrive in that trace,
// the ingress span a child of the caller's span.
func TestTraceEndToEnd(t *testing.T) {
	const (
		traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
		parentID = "00f067aa0ba902b7"
		sent     = "00-" + traceID + "-" + parentID + "-01"
	)
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		t.Run(name, func(t *testing.T) {
			col := &collector{}
			srv := httptest.NewServer(col)
			defer srv.Close()
			cfg := testConfig(t)
			if on {
				cfg.Tracing.OTLPEndpoint = srv.URL
			}
			s, logs := startLogged(t, cfg, "json")
			stop := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s.Shutdown(ctx)
			}
			testutil.Eventually(t, 15*time.Second, "databases ready", s.Ready)

			req, _ := http.NewRequest("POST", "http://"+s.HTTPAddr()+"/api/conduit/query",
				strings.NewReader(`{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1,"FINISH":3}}}`))
			req.Header.Set("traceparent", sent)
			req.Header.Set("tracestate", "caller=1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"row_count":3`) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			echo := resp.Header.Get("traceparent")
			if !strings.HasPrefix(echo, "00-"+traceID+"-") || (!on && echo != sent) || (on && echo == sent) {
				t.Fatalf("response traceparent %q (sent %q, tracing %s)", echo, sent, name)
			}

			var worker map[string]any
			testutil.Eventually(t, 5*time.Second, "the worker's line with trace_id", func() bool {
				for _, l := range logLines(logs) {
					if l["msg"] == "request handled" && l["trace_id"] == traceID {
						worker = l
						return true
					}
				}
				return false
			})
			if worker["db"] != "demo" || worker["status"] != float64(200) || !strings.HasPrefix(worker["queue"].(string), "DQM-Demo-") {
				t.Fatalf("worker line %v", worker)
			}

			stop() // exports the spans still batched
			spans := col.byName(traceID)
			if !on {
				if len(col.spans) != 0 {
					t.Fatalf("tracing off exported %d spans", len(col.spans))
				}
				return
			}
			for _, n := range []string{"POST /api/conduit/query", "dqm.query", "dqm.queue_wait", "dqm.execute"} {
				if spans[n] == nil {
					t.Fatalf("no span %q in trace %s; got %v", n, traceID, spanNames(col))
				}
			}
			ingressSpan, query := spans["POST /api/conduit/query"], spans["dqm.query"]
			if hex.EncodeToString(ingressSpan.ParentSpanId) != parentID || !bytes.Equal(query.ParentSpanId, ingressSpan.SpanId) ||
				!bytes.Equal(spans["dqm.queue_wait"].ParentSpanId, query.SpanId) || !bytes.Equal(spans["dqm.execute"].ParentSpanId, query.SpanId) {
				t.Fatal("want caller → ingress → dqm.query → {queue wait, execution}")
			}
			if echo != "00-"+traceID+"-"+hex.EncodeToString(ingressSpan.SpanId)+"-01" {
				t.Fatalf("response traceparent %q is not the ingress span's", echo)
			}
			if q := spans["dqm.queue_wait"]; q.EndTimeUnixNano < q.StartTimeUnixNano || q.EndTimeUnixNano > spans["dqm.execute"].StartTimeUnixNano+1 {
				t.Fatalf("queue wait %d..%d, execution from %d", q.StartTimeUnixNano, q.EndTimeUnixNano, spans["dqm.execute"].StartTimeUnixNano)
			}
		})
	}
}

func spanNames(c *collector) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.spans {
		out = append(out, s.Name+"@"+hex.EncodeToString(s.TraceId))
	}
	return out
}

// TestTraceGoClient: the span context of a Go client's ctx (OpenTelemetry)
// rides on the request as ce-traceparent: the worker logs its trace id.
func TestTraceGoClient(t *testing.T) {
	s, logs := startLogged(t, testConfig(t), "json")
	testutil.Eventually(t, 15*time.Second, "databases ready", s.Ready)
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	if res, err := s.Client().Query(ctx, "demo", 55, ints("START", 1, "FINISH", 2), client.Queue("fast")); err != nil || res.RowCount != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	testutil.Eventually(t, 5*time.Second, "the worker's line with the client's trace_id", func() bool {
		for _, l := range logLines(logs) {
			if l["msg"] == "request handled" && l["trace_id"] == tid.String() && l["tag"] == "fast" {
				return true
			}
		}
		return false
	})
}
