package params

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Style is how an engine's driver expects bind placeholders to be written.
type Style int

const (
	// Dollar is PostgreSQL's style: $1..$n, one number per distinct name,
	// reused for repeated occurrences and restarted at $1 in every statement
	// because each statement is prepared on its own.
	Dollar Style = iota + 1
	// Question is the style of MySQL, SQLite and DB2: every occurrence
	// becomes ?, so a repeated name is bound once per occurrence.
	Question
)

// Template is a parsed SQL template: one or more statements separated by
// ";". Parameters are written :NAME. A ? or $1 already present in the text
// is left alone and never bound, so templates must use :NAME only.
//
// Outside quotes and comments a colon directly followed by a name is always
// a placeholder, except in casts (x::int): write an array slice as
// a[1 : n]. Backslash escapes a quote only in E'...' strings, as in
// PostgreSQL, so a MySQL template must double a quote inside a string
// rather than put a backslash before it.
//
// A Template is immutable and safe for concurrent use.
type Template struct {
	names    []string            // distinct names, order of first appearance
	known    map[string]struct{} // same names, for Unused
	dollar   []Statement
	question []Statement
}

// Statement is one statement rewritten for a placeholder style.
type Statement struct {
	SQL  string   // the statement with placeholders replaced
	Args []string // parameter name for each bind position ($1.. or each ?)
}

// Parse parses an SQL template. It fails on an unterminated quoted string,
// quoted identifier, block comment or dollar-quoted string, on a
// placeholder name that runs into '$' or non-ASCII text (which PostgreSQL
// and MySQL would read as part of the name), and on a template with no
// statements at all.
func Parse(sql string) (*Template, error) {
	p := parser{src: sql, t: &Template{known: map[string]struct{}{}}}
	if err := p.run(); err != nil {
		return nil, err
	}
	if len(p.t.question) == 0 {
		return nil, errors.New("params: template has no statements")
	}
	return p.t, nil
}

// Names returns the distinct placeholder names in order of first
// appearance.
func (t *Template) Names() []string {
	return slices.Clone(t.names)
}

// Statements returns the template's non-empty statements rewritten for
// style. The slice is the caller's, but the Args slices are shared by all
// callers and must not be modified. It panics on an unknown Style, which is
// a programming error rather than a request problem.
func (t *Template) Statements(style Style) []Statement {
	switch style {
	case Dollar:
		return slices.Clone(t.dollar)
	case Question:
		return slices.Clone(t.question)
	}
	panic(fmt.Sprintf("params: unknown Style %d", int(style)))
}

// span is the byte range of one ":NAME" in the source.
type span struct{ start, end int }

type parser struct {
	src string
	t   *Template
}

// run makes a single pass over the bytes. It does not need a full SQL
// lexer: it only has to know where quoted text and comments begin and end,
// since that is where ':' and ';' stop meaning anything.
func (p *parser) run() error {
	s := p.src
	stmtStart := 0
	content := false // the current statement has more than space and comments
	eEnd := -1       // index just past a standalone E or e word: E'...' follows
	var spans []span
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ';':
			p.finish(stmtStart, i, content, spans)
			spans, content, stmtStart = spans[:0], false, i+1
			i++
		case isSpace(c):
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			i += 2
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j, err := p.skipBlockComment(i)
			if err != nil {
				return err
			}
			i = j
		case c == '\'' || c == '"' || c == '`':
			content = true
			// A backslash escapes only in E'...' strings.
			j, err := p.skipQuoted(i, c == '\'' && eEnd == i)
			if err != nil {
				return err
			}
			i = j
		case c == '$':
			content = true
			j, err := p.skipDollarQuoted(i)
			if err != nil {
				return err
			}
			i = j
		case c == ':':
			content = true
			j, err := p.placeholder(i)
			if err != nil {
				return err
			}
			if j > i+1 {
				spans = append(spans, span{i, j})
			}
			i = j
		case isWordStart(c):
			// Consuming whole words keeps "a$b$" an identifier rather than a
			// dollar quote and tells E'...' apart from, say, TYPE'...'.
			content = true
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j == i+1 && (c == 'e' || c == 'E') {
				eEnd = j
			}
			i = j
		default:
			content = true
			i++
		}
	}
	p.finish(stmtStart, len(s), content, spans)
	return nil
}

// skipDollarQuoted returns the index just past a $tag$...$tag$ string
// starting at i, or past the lone '$' at i. Words swallow their own '$' in
// run, so a '$' seen there starts a token, which is where PostgreSQL looks
// for $tag$.
func (p *parser) skipDollarQuoted(i int) (int, error) {
	s := p.src
	j := dollarTagEnd(s, i)
	if j <= 0 {
		return i + 1, nil
	}
	tag := s[i:j]
	k := strings.Index(s[j:], tag)
	if k < 0 {
		return 0, p.errorf(i, "unterminated dollar-quoted string %s", tag)
	}
	return j + k + len(tag), nil
}

// placeholder returns the index just past the :NAME starting at i, or
// i+1 when the ':' there starts none (a cast's second colon, a lone ':').
func (p *parser) placeholder(i int) (int, error) {
	s := p.src
	if (i > 0 && s[i-1] == ':') || i+1 >= len(s) || !isNameStart(s[i+1]) {
		return i + 1, nil
	}
	j := i + 2
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	if j < len(s) && (s[j] == '$' || s[j] >= utf8.RuneSelf) {
		return 0, p.errorf(i, "placeholder %s is followed by a character that databases read as part of a name; names are ASCII letters, digits and _", s[i:j])
	}
	return j, nil
}

// skipQuoted returns the index just past the quoted text opening at i.
// A doubled quote is an escaped quote; with backslash (E'...'), a backslash
// escapes the next byte.
func (p *parser) skipQuoted(i int, backslash bool) (int, error) {
	s, q := p.src, p.src[i]
	for j := i + 1; j < len(s); j++ {
		if !backslash {
			k := strings.IndexByte(s[j:], q)
			if k < 0 {
				break
			}
			j += k
		}
		switch s[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	what := map[byte]string{'\'': "string", '"': "quoted identifier", '`': "backtick identifier"}[q]
	return 0, p.errorf(i, "unterminated %s", what)
}

// skipBlockComment returns the index just past the comment opening at i.
// Comments nest, as in PostgreSQL and the SQL standard.
func (p *parser) skipBlockComment(i int) (int, error) {
	s := p.src
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j += 2
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, nil
			}
		default:
			j++
		}
	}
	return 0, p.errorf(i, "unterminated block comment")
}

// dollarTagEnd returns the index just past a $tag$ opening at i, or 0.
// The tag may not start with a digit, so $1 is a parameter, not a quote.
func dollarTagEnd(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '$' {
		return j + 1
	}
	if j >= len(s) || !isWordStart(s[j]) {
		return 0
	}
	for j++; j < len(s) && s[j] != '$'; j++ {
		if !isWordStart(s[j]) && !isDigit(s[j]) {
			return 0
		}
	}
	if j < len(s) {
		return j + 1
	}
	return 0
}

// finish records the statement in src[start:end].
func (p *parser) finish(start, end int, content bool, spans []span) {
	if !content {
		return
	}
	s := p.src
	for start < end && isSpace(s[start]) {
		start++
	}
	for end > start && isSpace(s[end-1]) {
		end--
	}
	text := s[start:end]
	if len(spans) == 0 {
		p.t.question = append(p.t.question, Statement{SQL: text})
		p.t.dollar = append(p.t.dollar, Statement{SQL: text})
		return
	}

	q := make([]byte, 0, len(text)+len(spans))
	d := make([]byte, 0, len(text)+3*len(spans))
	qArgs := make([]string, 0, len(spans))
	var dArgs []string
	number := make(map[string]int, len(spans))
	prev := start
	for _, sp := range spans {
		name := s[sp.start+1 : sp.end]
		if _, ok := p.t.known[name]; !ok {
			p.t.known[name] = struct{}{}
			p.t.names = append(p.t.names, name)
		}

		q = append(q, s[prev:sp.start]...)
		q = append(q, '?')
		qArgs = append(qArgs, name)

		d = append(d, s[prev:sp.start]...)
		n, ok := number[name]
		if !ok {
			dArgs = append(dArgs, name)
			n = len(dArgs)
			number[name] = n
		}
		// "x$1" would be read as the identifier x$1, and "$$1" as a dollar
		// quote, so keep $n apart from what precedes it.
		if sp.start > start && isWordByte(s[sp.start-1]) {
			d = append(d, ' ')
		}
		d = append(d, '$')
		d = strconv.AppendInt(d, int64(n), 10)
		prev = sp.end
	}
	q = append(q, s[prev:end]...)
	d = append(d, s[prev:end]...)
	// Clipped so that a caller's append cannot write into a shared array.
	p.t.question = append(p.t.question, Statement{SQL: string(q), Args: slices.Clip(qArgs)})
	p.t.dollar = append(p.t.dollar, Statement{SQL: string(d), Args: slices.Clip(dArgs)})
}

// errorf reports a template problem at byte offset off as line and column,
// since templates are written by people in files.
func (p *parser) errorf(off int, format string, args ...any) error {
	line := 1 + strings.Count(p.src[:off], "\n")
	col := off - strings.LastIndexByte(p.src[:off], '\n')
	return fmt.Errorf("params: line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isNameStart and isNameByte define placeholder names: [A-Za-z_][A-Za-z0-9_]*.
func isNameStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isNameByte(c byte) bool  { return isNameStart(c) || isDigit(c) }

// isWordStart and isWordByte follow PostgreSQL's identifier bytes, which
// also cover MySQL's: any byte of a multi-byte character counts, and '$'
// may appear after the first byte.
func isWordStart(c byte) bool { return isNameStart(c) || c >= utf8.RuneSelf }
func isWordByte(c byte) bool  { return isWordStart(c) || isDigit(c) || c == '$' }
