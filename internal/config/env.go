package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

const envPrefix = "DQM_"

// envName returns the override variable for a key path:
// [databases demo dsn] → DQM_DATABASES_DEMO_DSN.
// An element of a list of objects is the path segment "[i]", which names
// DQM_..._USERS_0_PASSWORD.
func envName(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = strings.Trim(p, "[]")
	}
	return envPrefix + strings.ToUpper(strings.Join(parts, "_"))
}

// keyOf returns the key of a path as problems name it:
// [nats embedded users [0] password] → nats.embedded.users[0].password.
func keyOf(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// envApplier applies DQM_* overrides and {$env.NAME} substitution.
type envApplier struct {
	getenv func(string) (string, bool)
	ps     *problems
	origin map[string]string // key → override variable that set it
}

// addDatabases adds the databases named in DQM_DATABASES that the file
// does not define. Their keys are then filled by the override walk.
func (e *envApplier) addDatabases(c *Config) {
	list, ok := e.getenv(envPrefix + "DATABASES")
	if !ok {
		return
	}
	for _, name := range splitList(list) {
		name = strings.ToLower(name)
		if _, exists := c.Databases[name]; exists {
			continue
		}
		engine := envName([]string{"databases", name, "engine"})
		dsn := envName([]string{"databases", name, "dsn"})
		_, hasEngine := e.getenv(engine)
		_, hasDSN := e.getenv(dsn)
		if !hasEngine || !hasDSN {
			e.ps.add("databases."+name, "named in DQM_DATABASES but not in the file: set both %s and %s to add it", engine, dsn)
			continue
		}
		if c.Databases == nil {
			c.Databases = map[string]*Database{}
		}
		c.Databases[name] = newDatabase(name)
	}
}

// override is a walk visitor that sets v from its DQM_* variable, if set.
func (e *envApplier) override(path []string, v reflect.Value) bool {
	name := envName(path)
	raw, ok := e.getenv(name)
	if !ok {
		return false
	}
	key := keyOf(path)
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || v.OverflowInt(i) {
			e.ps.add(key, "%s=%q is not a valid integer", name, raw)
			return false
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			e.ps.add(key, "%s=%q is not a valid number", name, raw)
			return false
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			e.ps.add(key, "%s=%q is not a valid boolean", name, raw)
			return false
		}
		v.SetBool(b)
	case reflect.Slice:
		v.Set(reflect.ValueOf(splitList(raw)).Convert(v.Type()))
	default:
		panic("config: cannot override " + v.Type().String())
	}
	e.origin[key] = name
	return true
}

// substitute is a walk visitor that expands {$env.NAME} in strings.
func (e *envApplier) substitute(path []string, v reflect.Value) bool {
	key := keyOf(path)
	from := ""
	if name, ok := e.origin[key]; ok {
		from = " (in " + name + ")"
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(e.expand(key, from, v.String()))
	case reflect.Slice:
		for i := range v.Len() {
			el := v.Index(i)
			el.SetString(e.expand(fmt.Sprintf("%s[%d]", key, i), from, el.String()))
		}
	}
	return false
}

// expand replaces each {$env.NAME} in s, reporting unset variables and
// malformed references against key.
func (e *envApplier) expand(key, from, s string) string {
	const open = "{$env."
	var b strings.Builder
	for {
		i := strings.Index(s, open)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+len(open):]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			e.ps.add(key, "unterminated %q reference%s", open, from)
			return b.String()
		}
		name := s[:j]
		s = s[j+1:]
		if !validEnvName(name) {
			e.ps.add(key, "invalid environment variable name %q in {$env.…}%s", name, from)
			continue
		}
		val, ok := e.getenv(name)
		if !ok {
			e.ps.add(key, "environment variable %s is not set%s", name, from)
			continue
		}
		b.WriteString(val)
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items. It never returns nil.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// walk calls visit for every leaf (string, number, bool or list) of v with
// its key path, following the json tags. Map entries are visited in sorted
// key order; for a queues map each known tag is visited too, and a missing
// tag is added (with defaults) when visit reports a change. walk reports
// whether any visit did.
func walk(path []string, v reflect.Value, visit func([]string, reflect.Value) bool) bool {
	child := func(k string) []string { return append(path[:len(path):len(path)], k) }
	switch v.Kind() {
	case reflect.Pointer:
		return !v.IsNil() && walk(path, v.Elem(), visit)
	case reflect.Struct:
		changed := false
		for i := range v.NumField() {
			if name := jsonName(v.Type().Field(i)); name != "" {
				changed = walk(child(name), v.Field(i), visit) || changed
			}
		}
		return changed
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return visit(path, v)
		}
		// A list of objects: each element's fields are leaves of their own.
		changed := false
		for i := range v.Len() {
			changed = walk(child(fmt.Sprintf("[%d]", i)), v.Index(i), visit) || changed
		}
		return changed
	case reflect.Map:
		keys := map[string]bool{}
		for _, k := range v.MapKeys() {
			keys[k.String()] = true
		}
		if v.Type().Elem() == queueType {
			for _, t := range tags {
				keys[t] = true
			}
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		changed := false
		for _, k := range sorted {
			kv := reflect.ValueOf(k)
			cur := v.MapIndex(kv)
			if v.Type().Elem().Kind() == reflect.Pointer {
				changed = cur.IsValid() && walk(child(k), cur, visit) || changed
				continue
			}
			el := newElem(v.Type(), k)
			if cur.IsValid() {
				el.Set(cur)
			}
			if walk(child(k), el, visit) {
				if v.IsNil() {
					v.Set(reflect.MakeMap(v.Type()))
				}
				v.SetMapIndex(kv, el)
				changed = true
			}
		}
		return changed
	default:
		return visit(path, v)
	}
}
