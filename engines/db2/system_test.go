package db2

import (
	"strings"
	"testing"

	"github.com/dqmhq/dqm/engines/internal/system"
)

// TestTriggerDDL renders DB2's update trigger (which cannot run here):
// names folded and quoted, KEY/VALUE pairs, keys lower-cased as on
// PostgreSQL, binary as hex, no token left.
func TestTriggerDDL(t *testing.T) {
	d := dialect
	ts, _ := d.Tables([]string{"sales.orders"})
	cols := []system.Column{{Name: "ID", Type: "INTEGER"}, {Name: "Note", Type: "VARCHAR"}, {Name: "PIC", Type: "BLOB"}}
	got := d.Render("update", d.TableTokens(ts[0], "upd", cols, d.Name("trigger_events"))...)
	for _, w := range []string{`CREATE OR REPLACE TRIGGER "SALES"."DQM_ORDERS_UPD" AFTER UPDATE ON "SALES"."ORDERS"`,
		`KEY 'id' VALUE N."ID", KEY 'Note' VALUE N."Note", KEY 'pic' VALUE '\x' || LOWER(HEX(N."PIC"))`,
		`KEY 'id' VALUE O."ID"`, `INSERT INTO "TRIGGER_EVENTS"`, `'sales.orders'`} {
		if !strings.Contains(got, w) {
			t.Errorf("DB2 update trigger lacks %s:\n%s", w, got)
		}
	}
	if strings.Contains(got, "{{") {
		t.Errorf("DB2 update trigger keeps a token:\n%s", got)
	}
}
