package postgres

import (
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"
)

// PostgreSQL infers a parameter's type from where it stands; a bare $1 in
// a select list (SELECT $1 AS n) becomes text, and pgx will not encode a
// Go int64, float64 or bool as text. These wrappers give pgx both forms:
// the typed one for typed parameters, the text one for text parameters,
// so a template need not cast its select-list parameters on PostgreSQL
// when it does not on the other engines.
type (
	intArg   int64
	floatArg float64
	boolArg  bool
)

func (a intArg) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: int64(a), Valid: true}, nil
}
func (a intArg) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: strconv.FormatInt(int64(a), 10), Valid: true}, nil
}

func (a floatArg) Float64Value() (pgtype.Float8, error) {
	return pgtype.Float8{Float64: float64(a), Valid: true}, nil
}
func (a floatArg) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: strconv.FormatFloat(float64(a), 'g', -1, 64), Valid: true}, nil
}

func (a boolArg) BoolValue() (pgtype.Bool, error) {
	return pgtype.Bool{Bool: bool(a), Valid: true}, nil
}
func (a boolArg) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: strconv.FormatBool(bool(a)), Valid: true}, nil
}

// wrap replaces numbers and booleans with their dual-form wrappers.
func wrap(args []any) {
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			args[i] = intArg(v)
		case float64:
			args[i] = floatArg(v)
		case bool:
			args[i] = boolArg(v)
		}
	}
}
