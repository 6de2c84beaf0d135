package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// syntaxError is malformed JSON, located by line and column (1-based).
type syntaxError struct {
	file      string // set by Load
	line, col int
	err       error
}

func (e *syntaxError) Error() string {
	msg := strings.TrimPrefix(e.err.Error(), "json: ")
	if e.file != "" {
		return fmt.Sprintf("config: %s:%d:%d: invalid JSON: %s", e.file, e.line, e.col, msg)
	}
	return fmt.Sprintf("config: invalid JSON at line %d, column %d: %s", e.line, e.col, msg)
}

func (e *syntaxError) Unwrap() error { return e.err }

// lineCol converts a byte offset into 1-based line and column (in runes).
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	nl := bytes.LastIndexByte(before, '\n')
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[nl+1:]) + 1
}

type kind int

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// node is a parsed JSON value that remembers where it came from and keeps
// object members in order, duplicates included.
type node struct {
	kind    kind
	off     int    // byte offset of the value
	text    string // string contents or number literal
	b       bool
	elems   []*node
	members []member
}

type member struct {
	key string
	off int // byte offset of the key
	val *node
}

// parseJSON checks data with encoding/json (for exact error offsets) and
// then builds a node tree from the token stream.
func parseJSON(data []byte) (*node, error) {
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		off := len(data)
		var se *json.SyntaxError
		if errors.As(err, &se) && !strings.Contains(se.Error(), "unexpected end") {
			off = int(se.Offset) - 1
		}
		line, col := lineCol(data, off)
		return nil, &syntaxError{line: line, col: col, err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := tokenParser{data: data, dec: dec}
	return p.value()
}

type tokenParser struct {
	data []byte
	dec  *json.Decoder
}

// next returns the next token and the offset where it starts.
func (p *tokenParser) next() (json.Token, int, error) {
	off := int(p.dec.InputOffset())
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	t, err := p.dec.Token()
	return t, off, err
}

func (p *tokenParser) value() (*node, error) {
	t, off, err := p.next()
	if err != nil {
		return nil, err
	}
	n := &node{off: off}
	switch t := t.(type) {
	case json.Delim:
		if t == '[' {
			n.kind = kArray
			for p.dec.More() {
				e, err := p.value()
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, e)
			}
		} else {
			n.kind = kObject
			for p.dec.More() {
				k, koff, err := p.next()
				if err != nil {
					return nil, err
				}
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key: k.(string), off: koff, val: v})
			}
		}
		if _, err := p.dec.Token(); err != nil { // closing delimiter
			return nil, err
		}
	case string:
		n.kind, n.text = kString, t
	case json.Number:
		n.kind, n.text = kNumber, string(t)
	case bool:
		n.kind, n.b = kBool, t
	case nil:
		n.kind = kNull
	}
	return n, nil
}

var (
	databasesType = reflect.TypeFor[map[string]*Database]()
	queueType     = reflect.TypeFor[Queue]()
)

// decoder copies a node tree onto a Go value that already holds defaults,
// collecting problems instead of stopping at the first.
type decoder struct {
	data []byte
	ps   *problems
}

func (d *decoder) at(off int) string {
	line, col := lineCol(d.data, off)
	return fmt.Sprintf("line %d, column %d", line, col)
}

func (d *decoder) want(key string, n *node, k kind, what string) bool {
	if n.kind == k {
		return true
	}
	d.ps.add(key, "want %s, got %s (%s)", what, n.kind, d.at(n.off))
	return false
}

// decode stores n into v. JSON null leaves the default in place.
func (d *decoder) decode(key string, n *node, v reflect.Value) {
	if n.kind == kNull {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(key, n, v.Elem())
	case reflect.Struct:
		d.decodeStruct(key, n, v)
	case reflect.Map:
		d.decodeMap(key, n, v)
	case reflect.Slice:
		if !d.want(key, n, kArray, "an array") {
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.elems), len(n.elems))
		for i, e := range n.elems {
			d.decode(fmt.Sprintf("%s[%d]", key, i), e, s.Index(i))
		}
		v.Set(s)
	default:
		d.decodeScalar(key, n, v)
	}
}

// decodeStruct stores object n into struct v field by field, naming
// unknown and duplicate keys.
func (d *decoder) decodeStruct(key string, n *node, v reflect.Value) {
	if !d.want(key, n, kObject, "an object") {
		return
	}
	fields := jsonFields(v.Type())
	seen := map[string]bool{}
	for _, m := range n.members {
		k := join(key, m.key)
		if seen[m.key] {
			d.ps.add(k, "duplicate key (%s)", d.at(m.off))
			continue
		}
		seen[m.key] = true
		i, ok := fields[m.key]
		if !ok {
			d.ps.add(k, "unknown key (%s)%s", d.at(m.off), suggest(m.key, fields))
			continue
		}
		d.decode(k, m.val, v.Field(i))
	}
}

// decodeMap replaces map v with object n's members, each starting from
// its defaults; database names are case-insensitive.
func (d *decoder) decodeMap(key string, n *node, v reflect.Value) {
	if !d.want(key, n, kObject, "an object") {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.members))
	seen := map[string]string{}
	for _, mem := range n.members {
		k := join(key, mem.key)
		name := mem.key
		if v.Type() == databasesType {
			name = strings.ToLower(name) // database names are case-insensitive
		}
		if orig, dup := seen[name]; dup {
			if orig == mem.key {
				d.ps.add(k, "duplicate key (%s)", d.at(mem.off))
			} else {
				d.ps.add(k, "duplicate of %q: database names are case-insensitive (%s)", orig, d.at(mem.off))
			}
			continue
		}
		seen[name] = mem.key
		elem := newElem(v.Type(), name)
		d.decode(k, mem.val, elem)
		m.SetMapIndex(reflect.ValueOf(name), elem)
	}
	v.Set(m)
}

// decodeScalar stores a string, number or boolean.
func (d *decoder) decodeScalar(key string, n *node, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if d.want(key, n, kString, "a string") {
			v.SetString(n.text)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.want(key, n, kNumber, "an integer") {
			return
		}
		i, err := strconv.ParseInt(n.text, 10, 64)
		if err != nil || v.OverflowInt(i) {
			d.ps.add(key, "want an integer, got %s (%s)", n.text, d.at(n.off))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if !d.want(key, n, kNumber, "a number") {
			return
		}
		f, err := strconv.ParseFloat(n.text, 64)
		if err != nil {
			d.ps.add(key, "want a number, got %s (%s)", n.text, d.at(n.off))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if d.want(key, n, kBool, "a boolean") {
			v.SetBool(n.b)
		}
	default:
		panic("config: cannot decode into " + v.Type().String())
	}
}

// newElem returns a settable value for a new map entry, holding the
// defaults for that entry.
func newElem(mapType reflect.Type, name string) reflect.Value {
	switch {
	case mapType == databasesType:
		return reflect.ValueOf(newDatabase(name))
	case mapType.Elem() == queueType:
		q := reflect.New(queueType).Elem()
		q.Set(reflect.ValueOf(defaultQueue()))
		return q
	}
	return reflect.New(mapType.Elem()).Elem()
}

// jsonName returns the JSON key of a struct field, or "" when it has none.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func jsonFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			m[name] = i
		}
	}
	return m
}

func join(prefix, key string) string {
	if key == "" {
		key = `""` // an empty key still names something in the problem
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// suggest returns `; did you mean "x"?` for the known key closest to key,
// or "" when none is close.
func suggest(key string, known map[string]int) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, k := range names {
		if strings.EqualFold(k, key) {
			best = k
			break
		}
		if dist := EditDistance(strings.ToLower(key), k); dist < bestDist && dist <= len(k)/2 {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// EditDistance is the Levenshtein distance between a and b (bytes), for
// "did you mean" hints here and in the CLI.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
