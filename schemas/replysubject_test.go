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
