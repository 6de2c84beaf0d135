package engines

import (
	"database/sql"
	"database/sql/driver"
)

// ReadSQLRows reads a database/sql result into res for engines built on
// database/sql (SQLite, DB2): kindOf maps each column's declared type to
// the engine's own kind once, and encode writes one scanned value of that
// kind. With last false the rows are read and dropped (a statement before
// the last in a transaction).
func ReadSQLRows[K any](rows *sql.Rows, res *Result, last bool, kindOf func(declared string) K, encode func(w *RowWriter, k K, v any)) error {
	cols, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	kinds := make([]K, len(cols))
	for i, ct := range cols {
		names[i] = ct.Name()
		kinds[i] = kindOf(ct.DatabaseTypeName())
	}
	var w *RowWriter
	if last {
		if w, err = NewRowWriter(names); err != nil {
			return err
		}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if w == nil {
			continue
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		w.BeginRow()
		for i, v := range vals {
			encode(w, kinds[i], v)
		}
		w.EndRow()
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if w != nil {
		res.Columns, res.Rows, res.RowCount = names, w.Finish(), w.Rows()
	}
	return nil
}

// ReadSQLValues calls row with each row's values of a database/sql result,
// for a Reader on database/sql; it closes rows.
func ReadSQLValues(rows *sql.Rows, row func(vals []any) error) error {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// AddAffected appends the count of rows a statement run with Exec changed
// to r.Affected, taking Exec's two results as they come (a database/sql
// or a driver Result): res.AddAffected(st.ExecContext(ctx, args...)).
func (r *Result) AddAffected(er driver.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := er.RowsAffected()
	if err != nil {
		return err
	}
	r.Affected = append(r.Affected, n)
	return nil
}
