package mysql

import (
	"database/sql/driver"
	"reflect"
	"sync"
)

// The driver does not implement ColumnTypeLength (go-sql-driver/mysql#1132)
// nor expose column flags, yet the display width is the only thing telling
// BOOL (TINYINT(1)) from TINYINT and BIT(1) from BIT(8), and the flags the
// only thing telling MariaDB's JSON (LONGTEXT COLLATE utf8mb4_bin) from
// LONGTEXT. It does keep both, in the unexported rs.columns[i].length and
// .flags of its rows, so meta reads them through reflect: read-only (no
// unsafe), once per result set, field paths looked up once per rows type.
// If a driver upgrade moves the fields, meta reports false and those
// columns fall back to integers and text; TestMetaReadable fails first.

// flagBinary is the protocol's BINARY_FLAG: a binary collation (BLOBs and
// *_bin text).
const flagBinary = 0x80

// metaPath is where a rows type keeps its column slice and, inside each
// column, the width and the flags.
type metaPath struct {
	columns []int // index path from the rows struct to rs.columns
	length  []int // index path inside one column to length
	flags   []int // and to flags
	ok      bool
}

var metaPaths sync.Map // reflect.Type → metaPath

// meta fills widths and flags (len = column count) with each column's
// display width and protocol flags, and reports whether it could.
func meta(rows driver.Rows, widths []uint32, flags []uint16) bool {
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
	if cols.Len() != len(widths) || len(flags) != len(widths) {
		return false
	}
	for i := range widths {
		col := cols.Index(i)
		widths[i] = uint32(col.FieldByIndex(p.length).Uint())
		flags[i] = uint16(col.FieldByIndex(p.flags).Uint())
	}
	return true
}

func pathFor(t reflect.Type) metaPath {
	if p, ok := metaPaths.Load(t); ok {
		return p.(metaPath)
	}
	p := findPath(t)
	metaPaths.Store(t, p)
	return p
}

func findPath(t reflect.Type) metaPath {
	if t.Kind() != reflect.Struct {
		return metaPath{}
	}
	rs, ok := t.FieldByName("rs")
	if !ok || rs.Type.Kind() != reflect.Struct {
		return metaPath{}
	}
	cols, ok := rs.Type.FieldByName("columns")
	if !ok || cols.Type.Kind() != reflect.Slice || cols.Type.Elem().Kind() != reflect.Struct {
		return metaPath{}
	}
	length, ok := cols.Type.Elem().FieldByName("length")
	if !ok || length.Type.Kind() != reflect.Uint32 {
		return metaPath{}
	}
	flags, ok := cols.Type.Elem().FieldByName("flags")
	if !ok || flags.Type.Kind() != reflect.Uint16 {
		return metaPath{}
	}
	return metaPath{columns: append(append([]int(nil), rs.Index...), cols.Index...),
		length: length.Index, flags: flags.Index, ok: true}
}
