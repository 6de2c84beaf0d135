//go:build docexamples

package docs

// TestDocExamples runs every shell example of README.md and docs/*.md, in
// that order (docs/ by file name), in ONE bash session at the repository
// root, against the demo gateway of `make run`: the binary built as
// `make build` builds it (bin/dqm) and `dqm serve -config
// deploy/dqm.demo.json`, on free ports and in a temporary data directory
// (DQM_NATS_LISTEN, DQM_HTTP_LISTEN, DQM_NATS_STORE_DIR and
// DQM_DATABASES_DEMO_DSN override the config's).
//
// What a block may rely on, as a newcomer's shell after `make run`:
//   - the gateway is up; `make run` in a block restarts it with the
//     session's environment (so `export DQM_AUTH_JWT_SECRET=...` before
//     it turns auth on) and returns once it is ready, also as `make run &`;
//     `make build` builds; any other make target fails the block;
//   - `dqm` and `./bin/dqm` are the built binary; NATS_URL and DQM_URL
//     point at the gateway (the Node examples read them);
//   - the demo's addresses are rewritten to the test's before a block
//     runs: 127.0.0.1:8080 and localhost:8080 (REST), 127.0.0.1:4250 and
//     localhost:4250 (NATS), ./data/ and data/demo.db (the data directory).
//
// Markers, in HTML comments on the lines next to a block (blank lines
// between are fine):
//   - before: <!-- not-run --> skips the block (a server in another
//     terminal, a make test, a tail that never ends); <!-- needs: nats jq -->
//     names commands beyond bash and curl: without them the block is
//     skipped locally and fails under CI;
//   - after: <!-- expect: text --> (one per text) requires the text in
//     the block's standard output; <!-- exit: N --> its exit status
//     (default 0). curl -s exits 0 on a 4xx or 5xx: a block whose answer
//     matters uses curl -sf, or an expect marker on a field of the body.
//
// Blocks share the shell: a cd stays in force for the blocks after it
// (write (cd examples/node && ...) for a detour).
//
// A block runs with a 2-minute bound; one that does not end fails the test
// and stops the session. Every other failure is reported and the next
// block runs.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/testutil"
)

// blockTimeout bounds one block.
const blockTimeout = 2 * time.Minute

func TestDocExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo gateway and runs every documented example")
	}
	for _, tool := range []string{"bash", "curl"} {
		_, err := exec.LookPath(tool)
		testutil.Need(t, tool, err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	examples := collect(t, root)
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin", "dqm"), "./cmd/dqm")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := newSession(t, root)
	for i, ex := range examples {
		name := fmt.Sprintf("%s:%d", ex.File, ex.Line)
		if ex.NotRun {
			t.Logf("%s: not run", name)
			continue
		}
		if missing := missingTools(ex.Needs); missing != "" {
			if testutil.InCI() {
				t.Errorf("%s needs %s, which is required under CI", name, missing)
			} else {
				t.Logf("%s: skipped, %s not installed", name, missing)
			}
			continue
		}
		code, stdout, stderr, ok := s.run(i, s.rewrite(ex.Code))
		if !ok {
			t.Fatalf("%s did not end within %v (mark it <!-- not-run --> or bound it):\n%s\nstdout:\n%s\nstderr:\n%s", name, blockTimeout, ex.Code, stdout, stderr)
		}
		if code != ex.Exit {
			t.Errorf("%s: exit %d, want %d\n%s\nstdout:\n%s\nstderr:\n%s", name, code, ex.Exit, ex.Code, stdout, stderr)
			continue
		}
		for _, want := range ex.Expect {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: the output lacks %q\n%s\nstdout:\n%s", name, want, ex.Code, stdout)
			}
		}
	}
}

// collect reads the examples of README.md and docs/*.md.
func collect(t *testing.T, root string) []Example {
	t.Helper()
	files := []string{"README.md"}
	more, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, m := range more {
		rel, _ := filepath.Rel(root, m)
		files = append(files, rel)
	}
	var all []Example
	for _, f := range files {
		md, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, Examples(f, md)...)
	}
	if len(all) == 0 {
		t.Fatal("no shell examples found")
	}
	return all
}

func missingTools(tools []string) string {
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	return strings.Join(missing, ", ")
}

// session is one bash the blocks run in, one after another.
type session struct {
	t        *testing.T
	dir      string // the session's files: data, outputs, the gateway's log
	in       io.WriteCloser
	out      *bufio.Reader
	done     chan struct{}
	http     string // 127.0.0.1:port of REST
	nats     string // and of NATS
	replacer *strings.Replacer
}

func newSession(t *testing.T, root string) *session {
	t.Helper()
	s := &session{t: t, dir: t.TempDir(), http: freeAddr(t), nats: freeAddr(t), done: make(chan struct{})}
	s.replacer = strings.NewReplacer(
		"127.0.0.1:8080", s.http, "localhost:8080", s.http,
		"127.0.0.1:4250", s.nats, "localhost:4250", s.nats,
		"./data/", s.dir+"/", "data/demo.db", s.dir+"/demo.db",
	)
	sh := exec.Command("bash", "--noprofile", "--norc")
	sh.Dir = root
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the blocks' children die with it
	sh.Env = append(os.Environ(),
		"PATH="+filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DQM_EXAMPLES_DIR="+s.dir, "DQM_EXAMPLES_BIN="+filepath.Join(root, "bin", "dqm"),
		"DQM_NATS_LISTEN="+s.nats, "DQM_HTTP_LISTEN="+s.http,
		"DQM_NATS_STORE_DIR="+filepath.Join(s.dir, "nats"), "DQM_DATABASES_DEMO_DSN="+filepath.Join(s.dir, "demo.db"),
		"NATS_URL=nats://"+s.nats, "DQM_URL=http://"+s.http,
	)
	var err error
	if s.in, err = sh.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.out = bufio.NewReader(stdout)
	sh.Stderr = os.Stderr
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { sh.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stopGateway()
		s.in.Close()
		syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		<-s.done
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(s.dir, "serve.log")); err == nil {
				lines := strings.Split(strings.TrimSpace(string(log)), "\n")
				t.Logf("the gateway's log, last lines:\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
			}
		}
	})
	if _, err := io.WriteString(s.in, preamble); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr, ok := s.run(-1, "make run\n"); !ok || code != 0 {
		t.Fatalf("the demo gateway did not start (exit %d): %s", code, stderr)
	}
	return s
}

// preamble defines make run (the gateway, restarted with the session's
// environment) and the wait for it before each block.
const preamble = `
__dqm_ready() {
  for _ in $(seq 1 300); do curl -sf "$DQM_URL/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "the gateway is not ready: $DQM_EXAMPLES_DIR/serve.log" >&2; return 1
}
__dqm_serve() {
  if [ -f "$DQM_EXAMPLES_DIR/serve.pid" ]; then
    pid=$(cat "$DQM_EXAMPLES_DIR/serve.pid")
    kill "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  "$DQM_EXAMPLES_BIN" serve -config deploy/dqm.demo.json >>"$DQM_EXAMPLES_DIR/serve.log" 2>&1 &
  echo $! >"$DQM_EXAMPLES_DIR/serve.pid"
  __dqm_ready
}
make() {
  case "$*" in
    run) __dqm_serve ;;
    build) command make build ;;
    *) echo "make $*: not run by the example runner (mark its block <!-- not-run -->)" >&2; return 1 ;;
  esac
}
`

// run runs one block in the session; ok is false when it did not end in
// time (the session is then unusable).
func (s *session) run(i int, code string) (exit int, stdout, stderr string, ok bool) {
	outFile := filepath.Join(s.dir, fmt.Sprintf("block%d.out", i))
	errFile := filepath.Join(s.dir, fmt.Sprintf("block%d.err", i))
	sentinel := fmt.Sprintf("__dqm_block_done_%d__", i)
	wait := "__dqm_ready >/dev/null 2>&1\n"
	if i < 0 {
		wait = ""
	}
	script := wait + "{\n" + code + "\n} >" + outFile + " 2>" + errFile + " </dev/null\necho \"" + sentinel + " $?\"\n"
	if _, err := io.WriteString(s.in, script); err != nil {
		s.t.Fatalf("the session ended: %v", err)
	}
	type result struct {
		code int
		err  error
	}
	got := make(chan result, 1)
	go func() {
		for {
			line, err := s.out.ReadString('\n')
			if err != nil {
				got <- result{err: err}
				return
			}
			if rest, found := strings.CutPrefix(strings.TrimSpace(line), sentinel+" "); found {
				n, _ := strconv.Atoi(rest)
				got <- result{code: n}
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	select {
	case r := <-got:
		if r.err != nil {
			s.t.Fatalf("the session ended: %v (a block ran exit?)", r.err)
		}
		return r.code, read(outFile), read(errFile), true
	case <-ctx.Done():
		return 0, read(outFile), read(errFile), false
	}
}

// rewrite puts the test's addresses in place of the demo's.
func (s *session) rewrite(code string) string { return s.replacer.Replace(code) }

// stopGateway ends the gateway the session started, by its pid.
func (s *session) stopGateway() {
	b, err := os.ReadFile(filepath.Join(s.dir, "serve.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
		syscall.Kill(pid, syscall.SIGTERM)
	}
}

// freeAddr is a loopback address with a port free at the time.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
