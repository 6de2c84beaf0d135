package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/internal/testutil"
)

// TestAPI drives the data endpoints of a console without auth (loopback):
// state, history, catalog, try-it, dead letters, the change tail, and
// the guards every request passes.
func TestAPI(t *testing.T) {
	cfg := demoConfig(t)
	s := start(t, cfg, true, nil)

	var st map[string]any
	testutil.Eventually(t, 10*time.Second, "workers in the state", func() bool {
		_, st = do(t, s, "GET", "/api/console/state", "", "")
		b, _ := json.Marshal(st)
		return strings.Contains(string(b), `"label":"DQM-Demo-00-L"`) && strings.Contains(string(b), `"label":"DQM-Demo-03-F"`)
	})
	if code, h := do(t, s, "GET", "/api/console/history", "", ""); code != 200 || len(h["points"].([]any)) == 0 {
		t.Fatalf("history %d %v", code, h)
	}
	if code, _ := do(t, s, "GET", "/api/console/history?after=x", "", ""); code != 400 {
		t.Fatalf("history after=x: %d", code)
	}

	code, cat := do(t, s, "GET", "/api/console/catalog?database=demo", "", "")
	if code != 200 || !strings.Contains(jsonText(cat), `"params":["START","FINISH"]`) {
		t.Fatalf("catalog %d %v", code, cat)
	}
	if code, _ := do(t, s, "GET", "/api/console/catalog?database=nope", "", ""); code != 400 {
		t.Fatalf("unknown database: %d", code)
	}
	// Try it: a private entry runs for the operator.
	code, res := do(t, s, "POST", "/api/console/query", "", `{"database":"demo","query_ref":4}`)
	if code != 200 || res["success"] != true {
		t.Fatalf("try private entry: %d %v", code, res)
	}

	t.Run("dead letters", func(t *testing.T) { deadLetters(t, s) })
	t.Run("changes", func(t *testing.T) {
		insertNumber(t, cfg, 100001)
		ev := firstEvent(t, s, "/api/console/changes?database=demo&table=numbers", "change")
		if !strings.Contains(ev, `"table":"numbers"`) || !strings.Contains(ev, "100001") {
			t.Fatalf("change event %s", ev)
		}
		tick := firstEvent(t, s, "/api/console/stream", "tick")
		if !strings.Contains(tick, `"state":{`) || !strings.Contains(tick, `"points":[{`) {
			t.Fatalf("tick %.300s", tick)
		}
	})
	t.Run("guards", func(t *testing.T) {
		// One byte past http.max_body_bytes: all of it is read before the
		// 413, so closing cannot reset the connection first.
		envelope := `{"database":"demo","ids":["` + `"]}`
		tooLarge := envelope[:len(envelope)-3] + strings.Repeat("x", int(cfg.HTTP.MaxBodyBytes)+1-len(envelope)) + `"]}`
		for _, tt := range []struct {
			name, method, path, body string
			hdr                      []string
			want                     int
		}{
			{"wrong method", "GET", "/api/console/deadletters/replay", "", nil, 405},
			{"another origin", "POST", "/api/console/deadletters/purge", `{"database":"demo","all":true}`, []string{"Sec-Fetch-Site", "cross-site"}, 403},
			{"not a loopback host", "GET", "/api/console/state", "", []string{"Host", "console.example.com"}, 403},
			{"page to another host", "GET", "/console", "", []string{"Host", "console.example.com"}, 403},
			{"body too large", "POST", "/api/console/deadletters/replay", tooLarge, nil, 413},
			{"no such page", "GET", "/console/nope", "", nil, 404},
			{"no such asset", "GET", "/console/assets/page.html", "", nil, 404},
		} {
			if code, _ := do(t, s, tt.method, tt.path, "", tt.body, tt.hdr...); code != tt.want {
				t.Errorf("%s: %d, want %d", tt.name, code, tt.want)
			}
		}
		for _, p := range []string{"/console", "/console/queues", "/console/assets/console.js", "/console/assets/console.css"} {
			if code, _ := do(t, s, "GET", p, "", ""); code != 200 {
				t.Errorf("%s: %d", p, code)
			}
		}
	})
}

func deadLetters(t *testing.T, s *server.Server) {
	replies := deadLetter(t, s, "api-dl-1")
	deadLetter(t, s, "api-dl-2")
	var list map[string]any
	testutil.Eventually(t, 10*time.Second, "two letters listed", func() bool {
		_, list = do(t, s, "GET", "/api/console/deadletters?database=demo", "", "")
		return len(list["letters"].([]any)) == 2
	})
	for _, body := range []string{`{"database":"demo"}`, `{"database":"demo","ids":["x"],"all":true}`, `{"database":"demo","bogus":1,"all":true}`, `not json`} {
		if code, _ := do(t, s, "POST", "/api/console/deadletters/replay", "", body); code != 400 {
			t.Errorf("replay %s: %d", body, code)
		}
	}
	code, res := do(t, s, "POST", "/api/console/deadletters/replay", "", `{"database":"demo","ids":["api-dl-1"]}`)
	if code != 200 || jsonText(res["replayed"]) != `["api-dl-1"]` {
		t.Fatalf("replay %d %v", code, res)
	}
	if m, err := replies.NextMsg(15 * time.Second); err != nil || !bytes.Contains(m.Data, []byte(`"success":true`)) {
		t.Fatalf("the replayed request was not answered: %v", err)
	}
	second := list["letters"].([]any)[1].(map[string]any)
	code, res = do(t, s, "POST", "/api/console/deadletters/purge", "", `{"database":"demo","seqs":[`+jsonText(second["seq"])+`]}`)
	if code != 200 || res["purged"] != 1.0 {
		t.Fatalf("purge %d %v", code, res)
	}
	if _, list = do(t, s, "GET", "/api/console/deadletters?database=demo", "", ""); len(list["letters"].([]any)) != 0 {
		t.Fatalf("left %v", list)
	}
}

// firstEvent reads an event stream until its first event of name and
// returns that event's data.
func firstEvent(t *testing.T, s *server.Server, path, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.HTTPAddr()+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 8<<20)
	current := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			current = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && current == name {
			return v
		}
	}
	t.Fatalf("%s: no %s event: %v", path, name, sc.Err())
	return ""
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAuth: with auth configured, every data endpoint needs a token
// whose admin claim is true; the pages themselves hold no data.
func TestAuth(t *testing.T) {
	cfg := demoConfig(t)
	cfg.Auth.JWTSecret = config.Secret(testSecret)
	s := start(t, cfg, false, nil)
	admin, user := token(jwt.MapClaims{"dqm_admin": true}), token(jwt.MapClaims{"databases": "*"})
	for _, p := range []struct{ method, path, body string }{
		{"GET", "/api/console/state", ""},
		{"GET", "/api/console/stream", ""},
		{"GET", "/api/console/deadletters?database=demo", ""},
		{"POST", "/api/console/deadletters/purge", `{"database":"demo","all":true}`},
		{"POST", "/api/console/query", `{"database":"demo","query_ref":4}`},
	} {
		if code, _ := do(t, s, p.method, p.path, "", p.body); code != 401 {
			t.Errorf("%s without a token: %d", p.path, code)
		}
		if code, res := do(t, s, p.method, p.path, user, p.body); code != 403 || !strings.Contains(res["message"].(string), "dqm_admin") {
			t.Errorf("%s without the admin claim: %d %v", p.path, code, res)
		}
	}
	if code, _ := do(t, s, "GET", "/api/console/state", admin, ""); code != 200 {
		t.Fatalf("admin: %d", code)
	}
	if code, _ := do(t, s, "GET", "/console", "", ""); code != 200 {
		t.Fatalf("page: %d", code)
	}
}

// TestOff: without auth on a listener that is not loopback the console
// is off, says why, and logs it.
func TestOff(t *testing.T) {
	cfg := demoConfig(t)
	cfg.HTTP.Listen = "0.0.0.0:0"
	var buf bytes.Buffer
	log := &syncWriter{w: &buf}
	s := start(t, cfg, false, log)
	for _, p := range []string{"/console", "/console/queues", "/api/console/state"} {
		code, res := do(t, s, "GET", p, "", "")
		if code != 404 || !strings.Contains(res["message"].(string), "console is off") {
			t.Errorf("%s: %d %v", p, code, res)
		}
	}
	if !strings.Contains(log.String(), "console: off") {
		t.Errorf("no log line: %s", log)
	}
}
