package db2

// The deadline mechanism. go_ibm_db implements no context interfaces (no
// QueryContext/ExecContext on its Conn or Stmt) and does not expose CLI
// statement handles, so neither database/sql's context nor CLI's
// SQL_ATTR_QUERY_TIMEOUT can stop a running statement: database/sql only
// checks the context between calls. So at the deadline dqm cancels the
// statement from a second, short-lived connection with WLM_CANCEL_ACTIVITY
// (DB2 LUW 9.7+; the user needs EXECUTE on it and WLMADM, SQLADM or DBADM
// authority). The statement then fails with SQLSTATE 57014 and the
// connection lives on. Without that authority the statement runs to its
// end and the request still answers timeout. Conn.watch (db2.go) runs it
// through engines.WatchDeadline.
const (
	// appHandleSQL is run once per connection.
	appHandleSQL = "VALUES SYSPROC.MON_GET_APPLICATION_HANDLE()"
	// activitySQL finds the statement the connection is running.
	activitySQL = "SELECT UOW_ID, ACTIVITY_ID FROM TABLE(SYSPROC.MON_GET_ACTIVITY(?, -2)) AS A" +
		" WHERE ACTIVITY_STATE IN ('EXECUTING', 'IDLE') ORDER BY ACTIVITY_ID DESC FETCH FIRST 1 ROW ONLY"
	// cancelSQL cancels it.
	cancelSQL = "CALL SYSPROC.WLM_CANCEL_ACTIVITY(?, ?, ?)"
)
