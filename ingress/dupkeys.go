package ingress

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/dqmhq/dqm/schemas"
)

// Keys of JSON bodies are read exactly: encoding/json keeps the last of
// two equal keys and matches a field's name in any case, so
// {"query_ref":1,"query_ref":2} or {"Query_Ref":1} would run a query the
// sender may not have meant. Both are refused (400) instead.

// span is a key's bytes in the body, quotes excluded.
type span struct{ start, end int }

// duplicateKey returns a key that some object of b (valid JSON, as a
// decode already found) names twice. It allocates nothing for bodies of
// ordinary depth and width: it runs on every request.
func duplicateKey(b []byte) (string, bool) {
	var keysBuf [32]span
	var framesBuf [16]int
	keys := keysBuf[:0]     // the keys of every open object, innermost last
	frames := framesBuf[:0] // per open value: where its keys start, -1 for an array
	expectKey := false
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{':
			frames = append(frames, len(keys))
			expectKey = true
		case '[':
			frames = append(frames, -1)
			expectKey = false
		case '}', ']':
			if top := frames[len(frames)-1]; top >= 0 {
				keys = keys[:top]
			}
			frames = frames[:len(frames)-1]
			expectKey = false
		case ',':
			expectKey = len(frames) > 0 && frames[len(frames)-1] >= 0
		case '"':
			j := stringEnd(b, i)
			if expectKey {
				k := span{i + 1, j}
				for _, s := range keys[frames[len(frames)-1]:] {
					if sameKey(b[s.start:s.end], b[k.start:k.end]) {
						return unquote(b[k.start:k.end]), true
					}
				}
				keys = append(keys, k)
				expectKey = false
			}
			i = j
		}
	}
	return "", false
}

// stringEnd is the index of the quote closing the string opening at i.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(b) - 1
}

// sameKey compares two keys as decoded: "a\u0062" is "ab".
func sameKey(a, b []byte) bool {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.Equal(a, b)
	}
	return unquote(a) == unquote(b)
}

func unquote(raw []byte) string {
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return string(raw)
	}
	return s
}

// keyCase returns a key of b's top-level object (and of each object in a
// batch's queries) that names a field of v only in another case, with the
// field's own name.
func keyCase(b []byte, v any) (got, want string) {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "", ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return "", ""
	}
	for key, raw := range obj {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == key:
				if inner := elemStruct(f.Type); inner != nil {
					var list []json.RawMessage
					json.Unmarshal(raw, &list)
					for _, e := range list {
						if got, want := keyCase(e, reflect.New(inner).Interface()); got != "" {
							return got, want
						}
					}
				}
			case strings.EqualFold(name, key):
				return key, name
			}
		}
	}
	return "", ""
}

// elemStruct is the struct a field holds a list of (batch's queries), or
// nil.
func elemStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Slice {
		return nil
	}
	if e := t.Elem(); e.Kind() == reflect.Struct {
		return e
	}
	return nil
}

// exactKeys refuses a body whose keys json would read loosely.
func exactKeys(b []byte, v any, what string) error {
	if k, dup := duplicateKey(b); dup {
		return schemas.Errorf(schemas.CodeBadRequest, what+": key "+quote(k)+" appears twice in one object")
	}
	if got, want := keyCase(b, v); got != "" {
		return schemas.Errorf(schemas.CodeBadRequest, what+": key "+quote(got)+" is not "+quote(want)+": keys are case-sensitive")
	}
	return nil
}

// quote is a key as a message shows it, bounded.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
