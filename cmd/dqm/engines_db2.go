//go:build db2

package main

// DB2 is linked under the db2 build tag. The engine opens the database/sql
// driver named go_ibm_db; a DB2 build adds that driver in a file of its own
// (see engines/db2/doc.go), e.g. cmd/dqm/db2driver.go with
//
//	//go:build db2 && ibmdb
//	package main
//	import _ "github.com/ibmdb/go_ibm_db"
import _ "github.com/dqmhq/dqm/engines/db2"
