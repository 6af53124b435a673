package workflows

import (
	"reflect"
	"slices"
	"testing"
)

// TestActivityTypeNames pins the activity type names. A worker registers
// every exported method of a struct under the method's name, and a
// workflow that calls a.Method schedules that same name, which histories
// record: renaming a method, or adding an exported method that is not an
// activity, would break running incidents and the saved histories.
func TestActivityTypeNames(t *testing.T) {
	for _, tc := range []struct {
		of   any
		want []string
	}{
		{a, []string{"CountLetters", "CountNotices", "CountOutreach", "CreateOutreachTasks", "CustomerLocales", "IndexObligations", "IndexPhase",
			"PrepareNotices", "RecordAudit", "RecordAuditBatch", "RecordAuditChain", "RemedyCoverage", "SetIncidentMember", "SetIncidentStatus"}},
		{hooks, []string{"CallWebhook"}},
		{mail, []string{"SendClockMail"}},
		{chat, []string{"PostRoomNotice", "SyncIncidentRoom"}},
		{sender, []string{"SendNoticeBatch"}},
	} {
		typ := reflect.TypeOf(tc.of)
		var got []string
		for m := range typ.Methods() {
			got = append(got, m.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v registers activities %v, want %v", typ, got, tc.want)
		}
	}
}
