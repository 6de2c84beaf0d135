package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// decodeJSON decodes one JSON value of what ("body", "params") into v. Its
// errors speak the API, never Go: they name the field and the type the
// contract expects. Bytes that are not UTF-8 are refused rather than
// silently replaced, and so is NUL (\u0000) in any string: PostgreSQL text
// cannot hold it, C-string drivers cut at it, and a value that some engines
// store and others refuse would make a ref mean different things per
// engine.
func decodeJSON(b []byte, v any, what string) error {
	if !utf8.Valid(b) {
		return schemas.Errorf(schemas.CodeBadRequest, what+" is not valid UTF-8")
	}
	if hasNUL(b) {
		return schemas.Errorf(schemas.CodeBadRequest, what+`: strings must not contain NUL (\u0000)`)
	}
	if s, ok := v.(*single); ok && s.QueryRef == nil && s.Database == nil && s.Params == nil {
		// The single-query body, read without reflection when it has the
		// plain shape; anything else (and every error) is json's.
		if ref, db, p, ok := wire.DecodeQueryBody(b); ok {
			if k, dup := duplicateKey(b); dup {
				return schemas.Errorf(schemas.CodeBadRequest, what+": key "+quote(k)+" appears twice in one object")
			}
			s.QueryRef, s.Database, s.Params = ref, db, p
			return nil
		}
	}
	err := json.Unmarshal(b, v)
	if err == nil {
		return exactKeys(b, v, what) // dupkeys.go
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		if strings.Contains(syn.Error(), "unexpected end") {
			return schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf("malformed JSON in %s: it ends early (truncated?)", what))
		}
		return schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf("malformed JSON in %s at byte %d: %s", what, syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = what
		} else if what != "body" {
			field = what + "." + field
		}
		got := typ.Value
		if len(got) > 40 {
			got = got[:40] + "…"
		}
		if typ.Type == reflect.TypeFor[map[string]json.RawMessage]() {
			// A params group: json names the map, not the group's key.
			return schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf(
				`each group in %s must be an object of parameter names to values, e.g. {"INTEGER":{"N":1}}; got %s`, field, got))
		}
		return schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf("%s must be %s, got %s", field, expected(field, typ.Type), got))
	}
	return schemas.Errorf(schemas.CodeBadRequest, "malformed JSON in "+what)
}

// expected names a Go type the way the contract does.
func expected(field string, t reflect.Type) string {
	if t == reflect.TypeFor[schemas.Params]() {
		return `an object of typed groups, e.g. {"INTEGER":{"N":1}}`
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return expected(field, t.Elem())
	}
	return "another type"
}

// hasNUL reports whether valid-or-not JSON text b holds a \u0000 escape.
// Outside strings a backslash is a syntax error anyway, so counting
// escapes from the start is enough: "\\u0000" is a backslash and text.
func hasNUL(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case 0:
			return true
		case '\\':
			if i+5 < len(b) && b[i+1] == 'u' && string(b[i+2:i+6]) == "0000" {
				return true
			}
			i++ // skip the escaped character
		}
	}
	return false
}
