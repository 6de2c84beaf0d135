package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError lists every problem found in a configuration, sorted,
// each naming the key it is about ("databases.demo.engine: ...").
type ValidationError struct {
	Problems []string
}

// Error returns the problems, one per line.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads the configuration file at path and passes it to Parse with
// os.LookupEnv; it also reports files named under nats (certificates,
// credentials, the NKey seed) that do not exist. path "" means DefaultPath; if the file at DefaultPath does
// not exist the result is Default() plus environment overrides. Any other
// missing file is an error.
func Load(path string) (*Config, error) {
	if path == "" {
		path = DefaultPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) || filepath.Clean(path) != DefaultPath {
			return nil, fmt.Errorf("config: %w", err)
		}
		data = nil
	}
	c, err := parse(data, os.LookupEnv, true)
	var se *syntaxError
	if errors.As(err, &se) {
		se.file = path
	}
	return c, err
}

// Parse builds a validated Config from the contents of a dqm.json file,
// looking environment variables up with getenv. Empty (or all-whitespace)
// data means "no file". The steps are: start from Default(); decode the
// JSON over it (a "databases" or "queues" object replaces the default one;
// each new database starts from the per-database defaults); apply DQM_*
// overrides; substitute {$env.NAME} references in every string; validate.
//
// Malformed JSON yields an error giving line and column. Every other
// problem (unknown or duplicate keys, wrong types, bad override values,
// unset variables, invalid values) is collected into one *ValidationError.
//
// Overrides: each key can be set with DQM_ plus its upper-cased path joined
// by "_" (DQM_HTTP_MAX_BODY_BYTES, DQM_DATABASES_DEMO_QUEUES_FAST_MAX);
// numbers are parsed, lists are comma-separated. Because getenv cannot list
// variables, databases not in the file are added by naming them in
// DQM_DATABASES (comma-separated); each must then have
// DQM_DATABASES_<NAME>_ENGINE and DQM_DATABASES_<NAME>_DSN set.
//
// Substitution: "{$env.NAME}" (NAME matching [A-Za-z_][A-Za-z0-9_]*) is
// replaced by the variable's value, which may be empty but must be set.
// Values are not rescanned, and there is no escape syntax.
//
// A nil getenv means an empty environment.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	return parse(data, getenv, false)
}

// parse is Parse; with files, it also reports files named in the
// configuration (certificates, credentials) that cannot be read.
func parse(data []byte, getenv func(string) (string, bool), files bool) (*Config, error) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	c := Default()
	var ps problems
	if len(bytes.TrimSpace(data)) > 0 {
		root, err := parseJSON(data)
		if err != nil {
			return nil, err
		}
		if root.kind != kObject {
			line, col := lineCol(data, root.off)
			return nil, fmt.Errorf("config: the top-level JSON value must be an object, got %s (line %d, column %d)", root.kind, line, col)
		}
		d := decoder{data: data, ps: &ps}
		d.decode("", root, reflect.ValueOf(c).Elem())
	}
	for name, db := range c.Databases {
		if db != nil {
			db.Name = name
		}
	}
	e := envApplier{getenv: getenv, ps: &ps, origin: map[string]string{}}
	e.addDatabases(c)
	walk(nil, reflect.ValueOf(c).Elem(), e.override)
	walk(nil, reflect.ValueOf(c).Elem(), e.substitute)

	// Validation problems about a key that already failed to decode or
	// substitute would only repeat the same mistake; drop them.
	bad := map[string]bool{}
	for _, p := range ps {
		bad[p.key] = true
	}
	var vs problems
	c.validate(&vs)
	if files {
		c.NATS.checkFiles(&vs)
	}
	for _, p := range vs {
		if !bad[p.key] {
			ps = append(ps, p)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// problem is one validation finding about key.
type problem struct{ key, msg string }

type problems []problem

func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, problem{key, fmt.Sprintf(format, args...)})
}

// err returns nil or a *ValidationError with the problems sorted and deduplicated.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		// Keys and messages may quote JSON keys or variable values: escape
		// what would break "one line per problem".
		if p.key == "" {
			lines = append(lines, printable(p.msg))
		} else {
			lines = append(lines, printable(p.key)+": "+printable(p.msg))
		}
	}
	sort.Strings(lines)
	out := lines[:1]
	for _, l := range lines[1:] {
		if l != out[len(out)-1] {
			out = append(out, l)
		}
	}
	return &ValidationError{Problems: out}
}

// printable returns s with control characters and invalid UTF-8 escaped as
// in a Go string literal; other text is unchanged.
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
