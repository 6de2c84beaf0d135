package triggers

import (
	"context"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// mysql8 answers Install's queries as MySQL 8 would, refusing to prepare
// trigger DDL.
type mysql8 struct{ engines.Conn }

func (mysql8) Run(_ context.Context, stmts []engines.Statement) (*engines.Result, error) {
	q := stmts[0].SQL
	switch {
	case strings.HasPrefix(q, "SELECT DATABASE()"):
		return &engines.Result{Rows: []byte(`[{"v":"app"}]`)}, nil
	case strings.Contains(q, "information_schema.columns"):
		return &engines.Result{Rows: []byte(`[{"name":"id","type":"int"}]`)}, nil
	case strings.Contains(q, "information_schema.triggers"):
		return &engines.Result{Rows: []byte(`[]`)}, nil
	case strings.Contains(q, "TRIGGER"):
		me := &gomysql.MySQLError{Number: erUnsupportedPS, Message: "This command is not supported in the prepared statement protocol yet"}
		return nil, &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: "HY000", Message: me.Message, Err: me}
	}
	return &engines.Result{Rows: []byte(`[]`)}, nil
}

func TestMySQLUnpreparableHint(t *testing.T) {
	err := Install(context.Background(), mysql8{}, MySQL, []string{"items"})
	if err == nil || !strings.Contains(err.Error(), "WithDSN") {
		t.Fatalf("Install = %v, want the error to point at WithDSN", err)
	}
}
