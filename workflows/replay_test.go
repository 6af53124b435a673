package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
	"go.temporal.io/sdk/client"
)

// replayKey is the key the saved histories were encrypted with by
// cmd/breachflow's TestEveryPlaybookRunsToClose (test incidents only).
const replayKey = "replay1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// TestReplaySavedHistories replays a full run of every shipped playbook,
// recorded on a real Temporal server, against the current workflow code:
// a change that would break running incidents fails here. Regenerate with
// BREACHFLOW_WRITE_HISTORIES=1 go test -run TestEveryPlaybookRunsToClose ./cmd/breachflow
// only when the change is made safe with workflow.GetVersion. The
// late-clock histories launch with every GDPR reminder point passed:
// history-late-clock-* takes the "late-clock-reminder" branch (written by
// TestLateClockMailsAtLaunch), history-v0-late-clock-* was recorded by the
// code before it, which skipped those points in silence.
// history-prequorum-* were recorded before the "quorum-approvals" change
// (one approval released the notice); history-quorum-* after it, with two
// legal approvals of approve-notice, but before "answer-handlers-at-close":
// their close Update was accepted and never answered (20 accepted, 19
// completed). history-<playbook>.json are the current code's runs, every
// Update answered.
// history-notices-settle-* is a run whose notice run files the customers' duties, written by
// BREACHFLOW_WRITE_HISTORIES=1 go test -run TestCustomerDataBreachThroughAPI ./cmd/breachflow
// history-audit-checkpoint-* takes the "audit-checkpoint" branch (the chain
// head kept after every audit write), written by
// BREACHFLOW_WRITE_HISTORIES=1 go test -run TestEveryPlaybookRunsToClose/customer-data-breach ./cmd/breachflow
// and renamed; the other histories predate it and replay the old write.
// history-members-* is a restricted incident whose members an admin
// changes (set_member, behind GetVersion "incident-members"), written by
// BREACHFLOW_WRITE_HISTORIES=1 go test -run TestRestrictedRunToClose ./cmd/breachflow
// history-notices-v0-batch200.json is a customer-notice run (NotifyCustomers)
// recorded before "cost13-notice-batch-500", in batches of 200;
// history-notices-run.json one after it, in batches of 500, both written by
// BREACHFLOW_WRITE_HISTORIES=1 go test -run TestNoticeRunBatches ./cmd/breachflow
// history-activitywrites-<playbook>.json were recorded before
// "pass-writes-local" (each pass's audit chain and deadline index written
// by activity tasks) and "search-upsert-on-change" (search attributes set
// on every pass); history-localwrites-<playbook>.json after both, before
// "index-phase" (the phase written to the store); history-<playbook>.json
// after all three.
// history-dashflow-* is a restricted incident carried through the dashboard
// alone, whose notice wording changes between two approvals (approvals of
// a version, reopened behind GetVersion "notice-approval-version"), written by
// BREACHFLOW_WRITE_HISTORIES=1 go test -run TestWholeBreachInBrowser ./cmd/breachflow
func TestReplaySavedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/history-*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("want a saved history per shipped playbook, found %v (%v)", files, err)
	}
	keys, err := codec.ParseKeys(replayKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			hist, err := client.HistoryFromJSON(raw, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReplayer(keys)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
