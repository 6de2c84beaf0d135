package jsonw

import (
	"encoding/json"
	"testing"
)

// TestStringMatchesEncodingJSON: String writes what encoding/json writes.
func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"quoted" \\ back`, "tab\tnew\nline\r", "<a href='x'>&amp;</a>",
		"\x00\x01\x1f\b\f", "Zoë ✓ 😀", "\u2028\u2029", "bad \xff utf8", "\xe2\x82"} {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("Zoë \"x\" \n \xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
