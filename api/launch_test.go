package api

import (
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/playbooks"
)

// TestLaunchValidationNamesTheField checks launch validation without a
// server: each bad value is refused with the field it concerns.
func TestLaunchValidationNamesTheField(t *testing.T) {
	cat, err := playbooks.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	base := func() launchRequest { return launchRequest{Playbook: "customer-data-breach", Title: "x"} }
	for _, tc := range []struct {
		name  string
		edit  func(*launchRequest)
		field string
	}{
		{"no playbook", func(r *launchRequest) { r.Playbook = "" }, "playbook"},
		{"unknown playbook", func(r *launchRequest) { r.Playbook = "nope" }, "playbook"},
		{"no title", func(r *launchRequest) { r.Title = "  " }, "title"},
		{"severity", func(r *launchRequest) { r.Severity = "apocalyptic" }, "severity"},
		{"external ref", func(r *launchRequest) { r.ExternalRef = "has space" }, "external_ref"},
		{"future aware", func(r *launchRequest) { r.AwareAt = "2026-11-24T00:00:00Z" }, "aware_at"},
		{"bad time", func(r *launchRequest) { r.DeterminedAt = "yesterday" }, "determined_at"},
		{"occurred after aware", func(r *launchRequest) {
			r.AwareAt, r.OccurredAt = "2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z"
		}, "occurred_at"},
		{"category", func(r *launchRequest) { r.DataCategories = []string{"contact", "gossip"} }, "data_categories[1]"},
		{"jurisdiction", func(r *launchRequest) { r.Jurisdictions = []string{"XX-YY"} }, "jurisdictions[0]"},
		{"affected", func(r *launchRequest) { r.Affected = map[string]int{"DE": -1} }, "affected.DE"},
		{"risk", func(r *launchRequest) { r.Risk = "some" }, "risk"},
		{"flag", func(r *launchRequest) { r.Flags = []string{"evil"} }, "flags[0]"},
		{"members without restriction", func(r *launchRequest) { r.Members = []string{"rita"} }, "members"},
		{"blank member", func(r *launchRequest) { r.Restricted, r.Members = true, []string{""} }, "members[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.edit(&r)
			_, _, errs := r.validate(now, cat)
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
			}
			if len(errs) != 1 || errs[0].Field != tc.field {
				t.Fatalf("errors on %v, want exactly %s", strings.Join(fields, ","), tc.field)
			}
		})
	}
	ok := base()
	ok.Restricted, ok.Members = true, []string{"rita"}
	facts, version, errs := ok.validate(now, cat)
	if len(errs) != 0 || version != 1 || !facts.AwareAt.Equal(now) || facts.Risk != "unassessed" {
		t.Fatalf("valid launch: errs %v, version %d, facts %+v", errs, version, facts)
	}
}
