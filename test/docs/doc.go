//go:build docexamples

// Package docs holds the test that runs the shell examples of README.md
// and docs/*.md against a live demo gateway (examples_test.go); this file
// reads the examples out of the Markdown.
package docs

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// Example is one ```sh or ```bash block and the markers around it.
type Example struct {
	File string
	Line int // of the opening fence
	Code string
	// NotRun: <!-- not-run --> before the block.
	NotRun bool
	// Needs: <!-- needs: tool ... --> before the block, the commands it
	// needs beyond bash and curl.
	Needs []string
	// Expect: each <!-- expect: text --> after the block, a text its
	// standard output must hold.
	Expect []string
	// Exit: <!-- exit: N --> after the block, its exit status (default 0).
	Exit int
}

var (
	markNotRun = regexp.MustCompile(`^<!--\s*not-run\s*-->$`)
	markNeeds  = regexp.MustCompile(`^<!--\s*needs:\s*(.+?)\s*-->$`)
	markExpect = regexp.MustCompile(`^<!--\s*expect:\s*(.+?)\s*-->$`)
	markExit   = regexp.MustCompile(`^<!--\s*exit:\s*(\d+)\s*-->$`)
)

// Examples reads the shell blocks of a Markdown file in order, with the
// markers on the lines next to them (blank lines between are allowed).
func Examples(file string, md []byte) []Example {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var out []Example
	for i := 0; i < len(lines); i++ {
		fence, lang, ok := opening(lines[i])
		if !ok {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != fence {
			j++
		}
		if lang != "sh" && lang != "bash" {
			i = j
			continue
		}
		ex := Example{File: file, Line: i + 1, Code: strings.Join(lines[i+1:min(j, len(lines))], "\n") + "\n"}
		for k := i - 1; k >= 0; k-- {
			l := strings.TrimSpace(lines[k])
			if l == "" {
				continue
			}
			if markNotRun.MatchString(l) {
				ex.NotRun = true
			} else if m := markNeeds.FindStringSubmatch(l); m != nil {
				ex.Needs = append(ex.Needs, strings.Fields(m[1])...)
			} else {
				break
			}
		}
		for k := j + 1; k < len(lines); k++ {
			l := strings.TrimSpace(lines[k])
			if l == "" {
				continue
			}
			if m := markExpect.FindStringSubmatch(l); m != nil {
				ex.Expect = append(ex.Expect, m[1])
			} else if m := markExit.FindStringSubmatch(l); m != nil {
				ex.Exit, _ = strconv.Atoi(m[1])
			} else {
				break
			}
		}
		out = append(out, ex)
		i = j
	}
	return out
}

// opening reports whether line opens a fenced block, with its fence and
// language.
func opening(line string) (fence, lang string, ok bool) {
	t := strings.TrimSpace(line)
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(t, f) {
			n := len(t) - len(strings.TrimLeft(t, f[:1]))
			return t[:n], strings.TrimSpace(t[n:]), true
		}
	}
	return "", "", false
}
