// Package sqltables finds the tables a SQL statement reads or writes, for
// catalog entries that do not list theirs: the catalog compiling an entry
// and the Go client's near-cache reading one from KV both use it, so a
// cache drops an entry's results on the same tables' invalidations
// wherever it runs. It only reads text; it neither parses SQL fully nor
// knows any engine.
package sqltables
