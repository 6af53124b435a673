package storetest

import (
	"maps"
	"testing"

	"github.com/breachflow/breachflow/store"
)

func opsCounts(t *testing.T, s store.Store) store.OpsCounts {
	t.Helper()
	c, err := s.OpsCounts(ctx(t), base)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// added is after minus before, key by key, leaving out zeros.
func added(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// OpsCounts counts every incident's notices by status, open obligations
// by status, and open obligations due at or before now; other tests may
// share the store, so the test compares what its own rows add.
func testOpsCounts(t *testing.T, s store.Store) {
	before := opsCounts(t, s)
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "US-CA", "DE-BE")
	ensure(t, s, id, sids)
	got := claim(t, s, id, sids[:2])
	if err := s.MarkNoticeSent(ctx(t), got[0].ID, base); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNoticeFailed(ctx(t), got[1].ID, "550", true); err != nil {
		t.Fatal(err)
	}
	overdue, filed, noDue := ob("late", dueIn(-2)), ob("done", dueIn(-5)), ob("asap", nil)
	overdue.Status, filed.Status = store.ObligationOverdue, store.ObligationFiled
	put(t, s, id, ob("soon", dueIn(3)), ob("due-now", dueIn(0)), overdue, filed, noDue)

	after := opsCounts(t, s)
	if d, want := added(before.Notices, after.Notices), map[string]int{store.NoticeSent: 1, store.NoticeFailed: 1, store.NoticePending: 1}; !maps.Equal(d, want) {
		t.Errorf("notices added %v, want %v", d, want)
	}
	if d, want := added(before.Obligations, after.Obligations), map[string]int{store.ObligationPending: 3, store.ObligationOverdue: 1}; !maps.Equal(d, want) {
		t.Errorf("open obligations added %v, want %v (filed ones are not open)", d, want)
	}
	if d := after.PastDue - before.PastDue; d != 2 {
		t.Errorf("past due added %d, want 2 (due-now and late; not the filed one, not the one without a due time)", d)
	}
}
