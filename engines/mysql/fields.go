package mysql

import (
	"database/sql/driver"
	"reflect"
	"sync"
)

// The driver does not implement ColumnTypeLength (go-sql-driver/mysql#1132),
// yet the display width is the only thing telling BOOL (TINYINT(1)) from
// TINYINT and BIT(1) from BIT(8). It does keep the width, in the unexported
// rs.columns[i].length of its rows, so widths reads it through reflect:
// read-only (no unsafe), once per result set, field paths looked up once
// per rows type. If a driver upgrade moves the field, widths reports false
// and those columns stay integers; TestWidthsReadable fails loudly first.

// widthPath is where a rows type keeps its column slice and, inside each
// column, the width.
type widthPath struct {
	columns []int // index path from the rows struct to rs.columns
	length  []int // index path inside one column to length
	ok      bool
}

var widthPaths sync.Map // reflect.Type → widthPath

// widths fills dst (len = column count) with each column's display width
// and reports whether it could.
func widths(rows driver.Rows, dst []uint32) bool {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	v = v.Elem()
	p := pathFor(v.Type())
	if !p.ok {
		return false
	}
	cols := v.FieldByIndex(p.columns)
	if cols.Len() != len(dst) {
		return false
	}
	for i := range dst {
		dst[i] = uint32(cols.Index(i).FieldByIndex(p.length).Uint())
	}
	return true
}

func pathFor(t reflect.Type) widthPath {
	if p, ok := widthPaths.Load(t); ok {
		return p.(widthPath)
	}
	p := findPath(t)
	widthPaths.Store(t, p)
	return p
}

func findPath(t reflect.Type) widthPath {
	if t.Kind() != reflect.Struct {
		return widthPath{}
	}
	rs, ok := t.FieldByName("rs")
	if !ok || rs.Type.Kind() != reflect.Struct {
		return widthPath{}
	}
	cols, ok := rs.Type.FieldByName("columns")
	if !ok || cols.Type.Kind() != reflect.Slice || cols.Type.Elem().Kind() != reflect.Struct {
		return widthPath{}
	}
	length, ok := cols.Type.Elem().FieldByName("length")
	if !ok || length.Type.Kind() != reflect.Uint32 {
		return widthPath{}
	}
	return widthPath{columns: append(append([]int(nil), rs.Index...), cols.Index...), length: length.Index, ok: true}
}
