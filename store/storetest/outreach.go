package storetest

import (
	"errors"
	"testing"

	"github.com/breachflow/breachflow/store"
)

// testOutreachTasks: one task per high-tier customer, none for others; a
// second call after a re-upload adds only the new high-tier customer's;
// completing is idempotent and scoped to the incident.
func testOutreachTasks(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	keys := newSubjectKeys(t)
	upsert(t, s, id, keys.seal(t, id, customer(1, "high", "US-CA"), customer(2, "low", "US-CA"), customer(3, "high", "DE-BE")))
	created, open, done, err := s.CreateOutreachTasks(ctx(t), id)
	if err != nil || created != 2 || open != 2 || done != 0 {
		t.Fatalf("CreateOutreachTasks = %d created, %d open, %d done, %v; want 2, 2, 0", created, open, done, err)
	}
	tasks, err := s.ListOutreachTasks(ctx(t), id, "")
	if err != nil || len(tasks) != 2 {
		t.Fatalf("ListOutreachTasks = %+v, %v", tasks, err)
	}
	if tasks[0].Status != store.OutreachOpen || tasks[0].AccountManager != customer(1, "high", "US-CA").AccountManager || tasks[0].CreatedAt.IsZero() {
		t.Errorf("task %+v", tasks[0])
	}
	if err := s.CompleteOutreachTask(ctx(t), id, tasks[0].ID, "amy", "called, customer informed"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteOutreachTask(ctx(t), id, tasks[0].ID, "bob", "again"); err != nil {
		t.Fatalf("completing twice: %v", err)
	}
	other := newIncident(t, s)
	if err := s.CompleteOutreachTask(ctx(t), other, tasks[1].ID, "eve", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("completing another incident's task: %v, want ErrNotFound", err)
	}
	doneTasks, _ := s.ListOutreachTasks(ctx(t), id, store.OutreachDone)
	if len(doneTasks) != 1 || doneTasks[0].DoneBy != "amy" || doneTasks[0].DoneAt == nil || doneTasks[0].Note != "called, customer informed" {
		t.Fatalf("done tasks %+v", doneTasks)
	}
	upsert(t, s, id, keys.seal(t, id, customer(4, "high", "FR-75"), customer(1, "high", "US-CA")))
	created, open, done, err = s.CreateOutreachTasks(ctx(t), id)
	if err != nil || created != 1 || open != 2 || done != 1 {
		t.Fatalf("after a re-upload: %d created, %d open, %d done, %v; want 1, 2, 1", created, open, done, err)
	}
	if _, err := s.ListOutreachTasks(ctx(t), id, "bogus"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown status: %v", err)
	}
	if _, _, _, err := s.CreateOutreachTasks(ctx(t), "BR-NOPE00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
}
