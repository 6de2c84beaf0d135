// Package params turns catalog SQL templates and client-supplied, typed
// parameters into statements and bind arguments for a database driver.
//
// Templates name their parameters :NAME. Parse finds them (skipping quoted
// text, comments and PostgreSQL casts), splits the template into statements
// and rewrites each placeholder for the engine's style. Decode validates the
// client's values and Bind orders them for one statement. Values are always
// bound, never spliced into SQL text. The package never touches a database.
package params
