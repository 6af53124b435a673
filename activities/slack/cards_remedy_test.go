package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
)

// A ready step that waits (for remedy codes) says why on its card; once
// it is done the warning is gone.
func TestStepCardShowsWaiting(t *testing.T) {
	r := activities.Room{IncidentID: "BR-AAAAAA", Status: "active", AsOf: time.Now()}
	st := activities.RoomStep{ID: "customer-notices", Title: "Send customer notices", Kind: "customer_notices", Owner: "responder",
		State: "ready", Waiting: "100 codes missing: 2000 customers are offered credit-monitoring"}
	_, blocks := StepCard(r, st)
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Waiting: 100 codes missing") {
		t.Errorf("the card does not say why the step waits: %s", raw)
	}
	st.State = "done"
	_, blocks = StepCard(r, st)
	raw, _ = json.Marshal(blocks)
	if strings.Contains(string(raw), "codes missing") {
		t.Errorf("a done step still shows the wait: %s", raw)
	}
}
