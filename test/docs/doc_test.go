//go:build docexamples

package docs

import (
	"slices"
	"testing"
)

func TestExamples(t *testing.T) {
	md := "# t\n\n```sh\necho one\n```\n<!-- expect: one -->\n\n<!-- not-run -->\n```bash\nmake test\n```\n\n" +
		"```go\nfmt.Println()\n```\n<!-- needs: nats jq -->\n\n```sh\nnats req x\n```\n<!-- exit: 1 -->\n<!-- expect: a -->\n<!-- expect: b -->\n" +
		"````sh\necho ```\n````\n"
	got := Examples("t.md", []byte(md))
	if len(got) != 4 {
		t.Fatalf("%d examples: %+v", len(got), got)
	}
	if got[0].Code != "echo one\n" || !slices.Equal(got[0].Expect, []string{"one"}) || got[0].NotRun || got[0].Line != 3 {
		t.Errorf("first: %+v", got[0])
	}
	if !got[1].NotRun || got[1].Code != "make test\n" {
		t.Errorf("second: %+v", got[1])
	}
	if !slices.Equal(got[2].Needs, []string{"nats", "jq"}) || got[2].Exit != 1 || !slices.Equal(got[2].Expect, []string{"a", "b"}) {
		t.Errorf("third: %+v", got[2])
	}
	if got[3].Code != "echo ```\n" {
		t.Errorf("fourth: %+v", got[3])
	}
}
