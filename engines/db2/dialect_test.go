package db2

import (
	"testing"
)

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{`T`: `"T"`, `a"b`: `"a""b"`, ``: `""`} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}
