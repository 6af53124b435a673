package templates

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/regulations"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run go test ./templates -update and review the diff.\n--- got ---\n%s", name, got)
	}
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// obligations evaluates the embedded rules for f, so the fixtures carry real
// obligations (regime, recipient, due time, content fields, sources).
func obligations(t *testing.T, f breach.Facts) []breach.Obligation {
	t.Helper()
	rs, err := regulations.Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []breach.Obligation
	for _, ob := range rs.Evaluate(f) {
		out = append(out, breach.Obligation{Duty: ob, Status: breach.ObligationPending})
	}
	return out
}

func find(t *testing.T, obs []breach.Obligation, id string) breach.Obligation {
	t.Helper()
	for _, ob := range obs {
		if ob.ID == id {
			return ob
		}
	}
	t.Fatalf("no obligation %q among %d", id, len(obs))
	return breach.Obligation{}
}

func testOrg() Organisation {
	return Organisation{
		Name:    "Example Shop GmbH",
		Contact: "Security team",
		DPO:     "Data Protection Officer, Example Shop GmbH",
		Email:   "privacy@shop.example",
		Phone:   "+49 30 1234567",
	}
}

// fullInput is a GDPR Art. 33 report whose every content field the incident can fill.
func fullInput(t *testing.T) ReportInput {
	t.Helper()
	facts := breach.Facts{
		AwareAt:        at(t, "2026-11-23T08:00:00Z"),
		OccurredAt:     ptr(at(t, "2026-11-22T23:10:00Z")),
		DiscoveredAt:   ptr(at(t, "2026-11-23T07:30:00Z")),
		AssessedAt:     ptr(at(t, "2026-11-24T09:00:00Z")),
		Jurisdictions:  []string{"DE", "FR"},
		Affected:       map[string]int{"DE": 1200, "FR": 300},
		DataCategories: []string{"contact", "financial"},
		Risk:           breach.RiskHigh,
	}
	obs := obligations(t, facts)
	done := func(s string) *time.Time { return ptr(at(t, s)) }
	inc := &breach.Status{
		ID:              "BR-7K3F9Q",
		Title:           "CRM export on a public bucket",
		Summary:         "A CRM export with customer contact and payment details was stored in a publicly readable object-storage bucket.\nAccess logs show downloads from two unknown addresses.",
		Severity:        "high",
		Status:          breach.StatusActive,
		Phase:           "notify",
		PlaybookID:      "customer-data-breach",
		PlaybookVersion: 1,
		LaunchedBy:      "responder-bot",
		LaunchedAt:      at(t, "2026-11-23T08:05:00Z"),
		Facts:           facts,
		Obligations:     obs,
		Steps: []breach.StepState{
			{ID: "triage", Title: "Triage and declare", Kind: "task", Owner: "responder", State: breach.StepDone,
				DoneAt: done("2026-11-23T09:00:00Z"), DoneBy: "ic-on-call", Note: "Bucket made public by a misapplied storage policy on 22 Nov."},
			{ID: "contain-source", Title: "Contain the source", Kind: "task", Owner: "responder", State: breach.StepDone,
				DoneAt: done("2026-11-23T10:30:00Z"), DoneBy: "ic-on-call", Note: "Bucket made private at 10:12 UTC; public links revoked.\nThe two downloading addresses are blocked."},
			{ID: "assess-risk", Title: "Legal risk assessment", Kind: "task", Owner: "legal", State: breach.StepDone,
				DoneAt: done("2026-11-24T09:00:00Z"), DoneBy: "legal-team", Note: "High risk: payment data was downloaded by unknown parties; fraud and phishing are likely."},
			{ID: "customer-notices", Title: "Send customer notices", Kind: "customer_notices", Owner: "responder", State: breach.StepPending},
		},
		Remediations: []breach.Remediation{
			{ID: "r1", Title: "Block public buckets by organisation policy", Owner: "platform", Status: "open",
				DueAt: done("2026-12-01T00:00:00Z"), AddedBy: "ic-on-call"},
		},
	}
	return ReportInput{
		Incident:    inc,
		Obligation:  find(t, obs, "gdpr-art33"),
		Org:         testOrg(),
		GeneratedAt: at(t, "2026-11-24T10:00:00Z"),
	}
}

// sparseInput is a GDPR Art. 33 report past its deadline for an incident that
// knows almost nothing yet.
func sparseInput(t *testing.T) ReportInput {
	t.Helper()
	facts := breach.Facts{AwareAt: at(t, "2026-11-23T08:00:00Z"), Jurisdictions: []string{"DE"}}
	obs := obligations(t, facts)
	inc := &breach.Status{
		ID:          "BR-2M4P8R",
		Title:       "Suspicious database export",
		Severity:    "medium",
		Status:      breach.StatusActive,
		Phase:       "triage",
		PlaybookID:  "customer-data-breach",
		LaunchedAt:  at(t, "2026-11-23T08:05:00Z"),
		Facts:       facts,
		Obligations: obs,
		Steps: []breach.StepState{
			{ID: "triage", Title: "Triage and declare", Kind: "task", Owner: "responder", State: breach.StepReady},
		},
	}
	return ReportInput{
		Incident:    inc,
		Obligation:  find(t, obs, "gdpr-art33"),
		Org:         Organisation{Name: "Example Shop GmbH"},
		GeneratedAt: at(t, "2026-11-26T10:00:00Z"), // 2 h after the 72-hour limit
	}
}
