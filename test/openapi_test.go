package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/goleak"

	"github.com/dqmhq/dqm/schemas"
)

// TestMain validates every REST response this package's tests get (they
// all go through http.DefaultClient) against schemas/openapi.json, so the
// document cannot drift from the adapter: a response it does not describe
// fails the run.
func TestMain(m *testing.M) {
	check, err := newOpenAPICheck()
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
	http.DefaultClient.Transport = check
	code := m.Run()
	// Every server the tests started has landed: nothing of theirs may
	// still run (nats.go and nats-server keep no package-level goroutines).
	if err := goleak.Find(goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
		code = 1
	}
	if bad := check.failures(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "%d REST responses do not match schemas/openapi.json:\n%s\n", len(bad), strings.Join(bad, "\n"))
		code = 1
	}
	fmt.Fprintf(os.Stderr, "openapi: %d REST responses validated\n", check.validated())
	os.Exit(code)
}

type openAPICheck struct {
	next   http.RoundTripper
	router routers.Router

	mu     sync.Mutex
	bad    []string
	passed int
}

func newOpenAPICheck() (*openAPICheck, error) {
	doc, err := openapi3.NewLoader().LoadFromData(schemas.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("document invalid: %w", err)
	}
	doc.Servers = nil // tests listen on random ports
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &openAPICheck{next: http.DefaultTransport, router: router}, nil
}

func (c *openAPICheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil // the test sees the read error itself
	}
	route, params, ferr := c.router.FindRoute(req)
	if ferr != nil {
		// A path or method the document does not list must get the JSON
		// 404 or 405 failure body.
		var f struct {
			Success *bool  `json:"success"`
			Error   string `json:"error"`
		}
		want := map[int]string{http.StatusNotFound: "not_found", http.StatusMethodNotAllowed: "method_not_allowed"}[resp.StatusCode]
		if json.Unmarshal(body, &f) != nil || f.Success == nil || *f.Success || want == "" || f.Error != want {
			c.fail(req, resp.StatusCode, "not in the document ("+ferr.Error()+") and not a JSON 404/405 failure: "+string(body))
		}
		return resp, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		c.fail(req, resp.StatusCode, err.Error())
		return resp, nil
	}
	c.mu.Lock()
	c.passed++
	c.mu.Unlock()
	return resp, nil
}

func (c *openAPICheck) fail(req *http.Request, status int, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) < 50 {
		c.bad = append(c.bad, fmt.Sprintf("%s %s → %d: %s", req.Method, req.URL.Path, status, why))
	}
}

func (c *openAPICheck) failures() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bad
}

func (c *openAPICheck) validated() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.passed
}

// TestOpenAPIServed: the document is served at /openapi.json, byte for byte.
func TestOpenAPIServed(t *testing.T) {
	s := start(t, testConfig(t))
	resp, err := http.Get("http://" + s.HTTPAddr() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, schemas.OpenAPI) || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content-type %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
}
