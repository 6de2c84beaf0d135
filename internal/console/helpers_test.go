package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	_ "github.com/dqmhq/dqm/engines/sqlite" // the demo database
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// client sends the tests' requests; every answer that is not an event
// stream is checked against schemas/openapi.json, so the console's
// endpoints cannot drift from the document.
var client = &http.Client{Transport: &openAPICheck{next: http.DefaultTransport}}

func TestMain(m *testing.M) {
	check := client.Transport.(*openAPICheck)
	if err := check.load(); err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopChromium()
	if bad := check.failures(); len(bad) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "%d console responses do not match schemas/openapi.json:\n%s\n", len(bad), strings.Join(bad, "\n"))
		code = 1
	}
	if err := goleak.Find(goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
		code = 1
	}
	os.Exit(code)
}

type openAPICheck struct {
	next   http.RoundTripper
	router routers.Router
	mu     sync.Mutex
	bad    []string
}

func (c *openAPICheck) load() error {
	doc, err := openapi3.NewLoader().LoadFromData(schemas.OpenAPI)
	if err != nil {
		return err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return fmt.Errorf("document invalid: %w", err)
	}
	doc.Servers = nil
	for _, ct := range []string{"text/html", "text/css", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	c.router, err = legacy.NewRouter(doc)
	return err
}

func (c *openAPICheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		// A method the document does not list must get the JSON 405.
		var f struct {
			Success *bool  `json:"success"`
			Error   string `json:"error"`
		}
		if resp.StatusCode != http.StatusMethodNotAllowed || json.Unmarshal(body, &f) != nil || f.Success == nil || f.Error != "method_not_allowed" {
			c.fail(req, resp.StatusCode, "not in the document ("+err.Error()+") and not a JSON 405: "+string(body))
		}
		return resp, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		c.fail(req, resp.StatusCode, err.Error())
	}
	return resp, nil
}

func (c *openAPICheck) fail(req *http.Request, status int, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad = append(c.bad, fmt.Sprintf("%s %s → %d: %s", req.Method, req.URL.Path, status, why))
}

func (c *openAPICheck) failures() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bad
}

// testSecret signs the auth tests' tokens.
var testSecret = strings.Repeat("console-test-secret-", 2)

// token signs a token with claims, valid for an hour.
func token(claims jwt.MapClaims) string {
	c := jwt.MapClaims{"sub": "operator", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for k, v := range claims {
		c[k] = v
	}
	s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testSecret))
	return s
}

// demoConfig is the demo database on random ports in a temp dir.
func demoConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Demo()
	dir := t.TempDir()
	cfg.NATS.Listen, cfg.NATS.StoreDir, cfg.HTTP.Listen = "127.0.0.1:0", filepath.Join(dir, "nats"), "127.0.0.1:0"
	cfg.Databases["demo"].DSN = config.DSN(filepath.Join(dir, "demo.db"))
	cfg.Databases["demo"].Triggers.PollMS = 200
	return cfg
}

// start runs an instance, waiting until it is ready when ready is set;
// log, if set, receives its log lines.
func start(t *testing.T, cfg *config.Config, ready bool, log io.Writer) *server.Server {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	s, err := server.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	if ready {
		testutil.Eventually(t, 30*time.Second, "databases ready", s.Ready)
	}
	return s
}

// do sends a request with an optional bearer token and JSON body and
// returns the status and the body decoded.
func do(t *testing.T, s *server.Server, method, path, bearer, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, m
}

// deadLetter stores a dead letter of a valid request for ref 55 whose
// requester waits on the returned subscription.
func deadLetter(t *testing.T, s *server.Server, id string) *nats.Subscription {
	t.Helper()
	nc := s.NATS()
	inbox := nats.NewInbox()
	replies, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replies.Unsubscribe() })
	req := wire.NewRequest("db.demo.fast", id, "/test", inbox, time.Time{},
		[]byte(`{"query_ref":55,"params":{"INTEGER":{"START":7,"FINISH":8}}}`), 55)
	dl := wire.NewDeadLetter("demo", wire.DeadLetter{Subject: req.Subject, Header: req.Header, Data: req.Data,
		Reason: schemas.DLQReasonMaxDeliveries, Deliveries: 5})
	dl.Header.Set(schemas.HeaderDLQError, "delivered 5 times without an answer")
	if err := nc.PublishMsg(dl); err != nil {
		t.Fatal(err)
	}
	return replies
}

// insertNumber writes to the demo table behind dqm's back: its trigger
// records a change event the Lead publishes.
func insertNumber(t *testing.T, cfg *config.Config, n int) {
	t.Helper()
	db := testutil.DirectDB(t, "sqlite", cfg.Databases["demo"].DSN.Reveal())
	if _, err := db.Exec("INSERT INTO numbers (numbers) VALUES (?)", n); err != nil {
		t.Fatal(err)
	}
}

// syncWriter serializes writes (a server logs from many goroutines).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.w)
}
