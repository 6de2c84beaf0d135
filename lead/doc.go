// Package lead runs one database: it opens the Lead's connection, makes sure
// the database's stream and consumers exist, loads the catalog, starts the
// workers of each tag (00 is the Lead itself, carrying L and every tag with
// max 0), reports readiness, and on landing stops them in order.
//
// The Lead does not execute client queries, except for the tags it keeps.
package lead
