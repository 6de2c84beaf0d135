package mysql

import (
	"database/sql/driver"
	"io"

	"github.com/dqmhq/dqm/engines"
)

// readRows encodes a result set into res (or, unless last, only reads it).
func (c *Conn) readRows(rows driver.Rows, res *engines.Result, last bool) error {
	cols := rows.Columns()
	c.dest = grow(c.dest, len(cols))
	if !last {
		for {
			if err := rows.Next(c.dest); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	w, err := engines.NewRowWriter(cols)
	if err != nil {
		return err
	}
	c.widths, c.flags = grow(c.widths, len(cols)), grow(c.flags, len(cols))
	if !meta(rows, c.widths, c.flags) {
		clear(c.widths)
		clear(c.flags)
	}
	c.kinds = grow(c.kinds, len(cols))
	typed, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
	for i := range cols {
		c.kinds[i] = kindText
		if typed != nil {
			c.kinds[i] = kindOf(typed.ColumnTypeDatabaseTypeName(i), c.widths[i], c.flags[i], c.mariadb)
		}
	}
	for {
		if err := rows.Next(c.dest); err != nil {
			if err != io.EOF {
				return err
			}
			break
		}
		w.BeginRow()
		for i, v := range c.dest {
			encode(w, c.kinds[i], v)
		}
		w.EndRow()
	}
	res.Columns = append([]string(nil), cols...)
	res.Rows = w.Finish()
	res.RowCount = w.Rows()
	return nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
