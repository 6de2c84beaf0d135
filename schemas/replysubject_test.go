package schemas

import "testing"

func TestCheckReplySubject(t *testing.T) {
	inbox := DefaultReplyPrefixes
	for _, tc := range []struct {
		subject  string
		prefixes []string
		ok       bool
	}{
		{"_INBOX.abc.def", inbox, true},
		{"_INBOX.x", inbox, true},
		{"", inbox, false},
		{"$KV.dqm_leaders.demo", inbox, false},
		{"$KV.dqm_status.demo.fake", []string{"$KV."}, false}, // reserved whatever the prefixes
		{"dqm.demo.changes.numbers.update", []string{"dqm."}, false},
		{"db.other.fast", []string{"db."}, false},
		{"_INBOX.a b", inbox, false},
		{"_INBOX.a\tb", inbox, false},
		{"_INBOX.*", inbox, false},
		{"_INBOX.>", inbox, false},
		{"_INBOX..x", inbox, false},
		{"_INBOX.x.", inbox, false},
		{"_INBOX.", inbox, false},
		{"other.reply", inbox, false},
		{"svc.replies.1", []string{"_INBOX.", "svc.replies."}, true},
		{"_INBOX.\x00", inbox, false},
		{"_INBOX." + string(make([]byte, 300)), inbox, false},
	} {
		err := CheckReplySubject(tc.subject, tc.prefixes)
		if (err == nil) != tc.ok {
			t.Errorf("CheckReplySubject(%q, %v) = %v, want ok %v", tc.subject, tc.prefixes, err, tc.ok)
		}
		if err != nil && CodeOf(err) != CodeBadRequest {
			t.Errorf("%q: code %s", tc.subject, CodeOf(err))
		}
	}
}

// TestDirectSubject: the direct lane's subject is a request subject of
// its database that no request stream captures and no reply may go to.
func TestDirectSubject(t *testing.T) {
	if got := DirectSubject("demo"); got != "db.demo.direct" {
		t.Fatalf("DirectSubject = %q", got)
	}
	for _, s := range RequestSubjects("demo") {
		if s == DirectSubject("demo") {
			t.Fatal("the request stream would capture the direct lane")
		}
	}
	if IsTag(Direct) {
		t.Fatal("direct is not a queue tag")
	}
	if CheckReplySubject(DirectSubject("demo"), []string{"db."}) == nil {
		t.Fatal("a reply may go to the direct lane")
	}
	if got := DirectService("demo_2"); got != "dqm_demo_2" {
		t.Fatalf("DirectService = %q", got)
	}
}
