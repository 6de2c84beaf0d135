package sqltables

import (
	"slices"
	"strings"
)

// Of derives the tables a statement reads or writes, for entries
// that do not list theirs: every name after FROM, JOIN, INTO, UPDATE,
// USING and TRUNCATE, with comma lists (FROM a, b), modifiers (ONLY,
// LATERAL, IGNORE, …) and quoted names ("x", `x`, [x]) understood, and
// strings, comments and placeholders skipped. Names are lower-cased with
// their schema dropped, as the lead's change subjects are (lead/changes.go
// subjectTable). It is a heuristic that errs on the side of extra names
// (a CTE's own name, a column after EXTRACT(… FROM col)): an extra name
// costs a needless invalidation, a missing one a stale cache.
func Of(sql string) []string {
	toks := tokenize(sql)
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for i, t := range toks {
		if t.kind != word {
			continue
		}
		switch strings.ToLower(t.text) {
		case "from", "update", "using", "truncate":
			readList(toks, i+1, true, add)
		case "join", "into":
			readList(toks, i+1, false, add)
		}
	}
	slices.Sort(out)
	return out
}

// tableModifiers may stand between the keyword and the table name.
var tableModifiers = map[string]bool{
	"only": true, "lateral": true, "table": true, "ignore": true, "low_priority": true,
	"high_priority": true, "quick": true, "delayed": true,
}

// notNames end a table list: they are never a table name nor an alias.
var notNames = map[string]bool{
	"select": true, "where": true, "join": true, "inner": true, "left": true, "right": true, "full": true,
	"cross": true, "natural": true, "outer": true, "on": true, "using": true, "group": true, "order": true,
	"limit": true, "having": true, "union": true, "intersect": true, "except": true, "set": true,
	"values": true, "window": true, "for": true, "fetch": true, "offset": true, "returning": true,
	"when": true, "then": true, "default": true, "straight_join": true, "with": true, "into": true,
	"from": true, "and": true, "or": true, "not": true, "as": true, "partition": true, "tablesample": true,
	"use": true, "force": true, "cascade": true, "restrict": true, "restart": true, "continue": true,
}

// readList reads table references from toks[i:]: one, or a comma list.
func readList(toks []token, i int, list bool, add func(string)) {
	for {
		for i < len(toks) && toks[i].kind == word && tableModifiers[strings.ToLower(toks[i].text)] {
			i++
		}
		name, next, ok := readName(toks, i)
		if !ok {
			return // a subquery, a placeholder or a keyword: not a table
		}
		add(name)
		i = next
		if !list {
			return
		}
		if i < len(toks) && toks[i].is("(") { // a table function's arguments
			i = skipParens(toks, i)
		}
		if i < len(toks) && toks[i].kind == word && strings.EqualFold(toks[i].text, "as") {
			i++
		}
		if i < len(toks) && (toks[i].kind == quoted || toks[i].kind == word && !notNames[strings.ToLower(toks[i].text)]) {
			i++ // the alias
		}
		if i >= len(toks) || !toks[i].is(",") {
			return
		}
		i++
	}
}

// readName reads a possibly qualified name at toks[i] and returns its last
// part, lower-cased.
func readName(toks []token, i int) (string, int, bool) {
	part := func(i int) (string, bool) {
		if i >= len(toks) {
			return "", false
		}
		switch t := toks[i]; {
		case t.kind == quoted:
			return strings.ToLower(t.text), true
		case t.kind == word && !notNames[strings.ToLower(t.text)]:
			return strings.ToLower(t.text), true
		}
		return "", false
	}
	name, ok := part(i)
	if !ok {
		return "", i, false
	}
	i++
	for i+1 < len(toks) && toks[i].is(".") {
		p, ok := part(i + 1)
		if !ok {
			break
		}
		name, i = p, i+2
	}
	return name, i, true
}

func skipParens(toks []token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch {
		case toks[i].is("("):
			depth++
		case toks[i].is(")"):
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

type tokenKind int

const (
	word   tokenKind = iota // an unquoted identifier or keyword
	quoted                  // a quoted identifier, quotes removed
	punct                   // one character of anything else
)

type token struct {
	kind tokenKind
	text string
}

func (t token) is(p string) bool { return t.kind == punct && t.text == p }

// tokenize splits SQL into words, quoted identifiers and punctuation,
// dropping whitespace, comments, string literals (also E'…' and
// PostgreSQL's $tag$…$tag$), numbers and :NAME placeholders.
func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			i = skipTo(s, i+2, "\n")
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			i = skipTo(s, i+2, "*/")
		case c == '\'':
			backslash := i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && (i == 1 || !isIdent(s[i-2]))
			i = skipString(s, i, backslash)
		case c == '"' || c == '`' || c == '[':
			end := map[byte]byte{'"': '"', '`': '`', '[': ']'}[c]
			var b strings.Builder
			j := i + 1
			for j < len(s) {
				if s[j] == end {
					if end != ']' && j+1 < len(s) && s[j+1] == end { // a doubled quote
						b.WriteByte(end)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{quoted, b.String()})
			i = j + 1
		case c == '$':
			if tag, ok := dollarTag(s[i:]); ok {
				i = skipTo(s, i+len(tag), tag)
			} else {
				i++
			}
		case c == ':' && i+1 < len(s) && s[i+1] == ':':
			toks = append(toks, token{punct, "::"})
			i += 2
		case c == ':' && i+1 < len(s) && isIdentStart(s[i+1]):
			i++ // a placeholder: its name is not a keyword
			for i < len(s) && isIdent(s[i]) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '\'' && j == i+1 && (c == 'E' || c == 'e') {
				i = j // E'…': the string case skips it
				continue
			}
			toks = append(toks, token{word, s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			for i < len(s) && (isIdent(s[i]) || s[i] == '.') {
				i++
			}
		default:
			toks = append(toks, token{punct, s[i : i+1]})
			i++
		}
	}
	return toks
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// skipTo returns the index just past the next end at or after i (len(s)
// if there is none).
func skipTo(s string, i int, end string) int {
	if k := strings.Index(s[i:], end); k >= 0 {
		return i + k + len(end)
	}
	return len(s)
}

// skipString skips a '…' literal at s[i]; two quotes in a row are a quote inside
// it, and so is \' when backslash escapes apply (E'…').
func skipString(s string, i int, backslash bool) int {
	for j := i + 1; j < len(s); j++ {
		switch {
		case backslash && s[j] == '\\':
			j++
		case s[j] == '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// dollarTag reports the $tag$ opening a PostgreSQL dollar-quoted string.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 1 && c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return "", false
}
