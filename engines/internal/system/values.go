package system

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// Read runs st through conn's typed read (engines.Reader).
func Read(ctx context.Context, conn engines.Conn, st engines.Statement, row func(vals []any) error) error {
	r, ok := conn.(engines.Reader)
	if !ok {
		return fmt.Errorf("system: %T has no typed read (engines.Reader)", conn)
	}
	return r.Read(ctx, st, row)
}

// Exec runs statements without reading rows.
func Exec(ctx context.Context, conn engines.Conn, sqls ...string) error {
	stmts := make([]engines.Statement, len(sqls))
	for i, s := range sqls {
		stmts[i] = engines.Statement{SQL: s}
	}
	_, err := conn.Run(ctx, stmts)
	return err
}

// Ignore drops err when the database reported SQLSTATE state.
func Ignore(err error, state string) error {
	var de *engines.DatabaseError
	if state != "" && errors.As(err, &de) && de.SQLState == state {
		return nil
	}
	return err
}

// Int reads an integer value.
func Int(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case int:
		return int64(v), nil
	case uint64:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case float64:
		return int64(v), nil
	case []byte:
		return strconv.ParseInt(string(v), 10, 64)
	case string:
		return strconv.ParseInt(v, 10, 64)
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

// Text reads a text value ("" for NULL); it copies a []byte.
func Text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// Bool reads a boolean stored as a boolean or as a 0/1 number (MySQL's
// and SQLite's BOOLEAN).
func Bool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case []byte, string:
		return strconv.ParseBool(strings.TrimSpace(Text(v)))
	case nil:
		return false, nil
	}
	n, err := Int(v)
	return n != 0, err
}

// timeLayouts are the forms a timestamp arrives in as text: RFC 3339
// (SQLite's strftime) or zoneless, taken as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02-15.04.05.999999999"}

// Time reads a timestamp, in UTC.
func Time(v any) (time.Time, error) {
	if t, ok := v.(time.Time); ok {
		return t.UTC(), nil
	}
	s := Text(v)
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: not a timestamp", s)
}
