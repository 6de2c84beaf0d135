package params

// IsGroup reports whether g is a type group: INTEGER, FLOAT, STRING, TEXT,
// BOOLEAN, DATE, TIME, DATETIME or TIMESTAMP.
func IsGroup(g string) bool {
	_, ok := kinds[g]
	return ok
}

// GroupList names the type groups, for messages.
const GroupList = groupList
