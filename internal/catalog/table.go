package catalog

import "github.com/dqmhq/dqm/engines"

// Entries converts the rows of a catalog table, as an engine's
// System.ReadCatalog reads them, into entries.
func Entries(rows []engines.CatalogRow) []Entry {
	entries := make([]Entry, len(rows))
	for i, r := range rows {
		entries[i] = Entry{Ref: r.Ref, Name: r.Name, Description: r.Description, SQL: r.SQL,
			SQLByEngine: r.SQLByEngine, Queue: r.Queue, Public: r.Public, Direct: r.Direct,
			TimeoutMS: r.TimeoutMS, CacheTTLS: r.CacheTTLS, Tables: r.Tables, ParamTypes: r.ParamTypes}
	}
	return entries
}
