package mysql

import (
	"context"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// mysql8 answers InstallTriggers' queries as MySQL 8 would, refusing to
// prepare trigger DDL.
type mysql8 struct{ engines.Conn }

func (mysql8) Read(_ context.Context, st engines.Statement, row func([]any) error) error {
	switch q := st.SQL; {
	case strings.HasPrefix(q, "SELECT DATABASE()"):
		return row([]any{[]byte("app")})
	case strings.Contains(q, "information_schema.columns"):
		return row([]any{[]byte("id"), []byte("int")})
	}
	return nil
}

func (mysql8) Run(_ context.Context, stmts []engines.Statement) (*engines.Result, error) {
	if strings.Contains(stmts[0].SQL, "TRIGGER") {
		me := &gomysql.MySQLError{Number: erUnsupportedPS, Message: "This command is not supported in the prepared statement protocol yet"}
		return nil, &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: "HY000", Message: me.Message, Err: me}
	}
	return &engines.Result{}, nil
}

func TestMySQLUnpreparableHint(t *testing.T) {
	err := New().System().InstallTriggers(context.Background(), mysql8{}, "", []string{"items"})
	if err == nil || !strings.Contains(err.Error(), "the DSN") {
		t.Fatalf("InstallTriggers = %v, want the error to point at the DSN", err)
	}
}
