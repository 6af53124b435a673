package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
)

// TestAuditSurvivesAStoreAwayLongerThanALocalWrite: the store refuses
// every audit insert for longer than a pass's local write waits. The
// launch's audit events are still written, once the store takes them
// again, by the activity task the write was handed to; they are not
// dropped when the local activity gives up.
func TestAuditSurvivesAStoreAwayLongerThanALocalWrite(t *testing.T) {
	old := localWriteWait
	localWriteWait = 200 * time.Millisecond
	t.Cleanup(func() { localWriteWait = old })
	h := newHarness(t, activities.Webhooks{})
	db := h.store.DB()
	if _, err := db.Exec(`CREATE TRIGGER store_away BEFORE INSERT ON audit_events
		BEGIN SELECT RAISE(ABORT, 'store away'); END`); err != nil {
		t.Fatal(err)
	}
	in := h.input("insider-exfiltration", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"DE"}, Risk: "unassessed"})
	var during, after int
	h.env.RegisterDelayedCallback(func() {
		events, err := h.store.ListAudit(context.Background(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		during = len(events)
		if _, err := db.Exec(`DROP TRIGGER store_away`); err != nil {
			t.Fatal(err)
		}
	}, 2*time.Minute)
	h.check(30*time.Minute, func(st *breach.Status) {
		events, err := h.store.ListAudit(context.Background(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		after = len(events)
		if after == 0 || events[0].Action != "incident.launched" {
			t.Errorf("after the store came back the chain holds %d events (first %+v), want the launch's", after, events)
		}
		if st.AuditHead == nil || st.AuditHead.Seq != events[len(events)-1].Seq {
			t.Errorf("checkpoint %+v, want the head of the %d stored events", st.AuditHead, after)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour)
	h.env.ExecuteWorkflow(Incident, in)
	if during != 0 || after == 0 {
		t.Fatalf("audit events while the store was away: %d (want 0); after: %d (want the launch's)", during, after)
	}
}
