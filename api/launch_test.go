package api

import (
	"encoding/json"
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
		{"future aware", func(r *launchRequest) { r.setFact("aware_at", "2026-11-24T00:00:00Z") }, "aware_at"},
		{"bad time", func(r *launchRequest) { r.setFact("determined_at", "yesterday") }, "determined_at"},
		{"occurred after aware", func(r *launchRequest) {
			r.setFact("aware_at", "2026-11-22T00:00:00Z")
			r.setFact("occurred_at", "2026-11-23T00:00:00Z")
		}, "occurred_at"},
		{"category", func(r *launchRequest) { r.setFact("data_categories", []string{"contact", "gossip"}) }, "data_categories[1]"},
		{"jurisdiction", func(r *launchRequest) { r.setFact("jurisdictions", []string{"XX-YY"}) }, "jurisdictions[0]"},
		{"affected", func(r *launchRequest) { r.setFact("affected", map[string]int{"DE": -1}) }, "affected.DE"},
		{"risk", func(r *launchRequest) { r.setFact("risk", "some") }, "risk"},
		{"flag", func(r *launchRequest) { r.setFact("flags", []string{"evil"}) }, "flags[0]"},
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

// TestLaunchBodyReadsFactsFromTheTable decodes launch bodies as the API
// does: the incident's own fields strictly, every fact by its table name,
// and anything else (a system fact too) refused as unknown.
func TestLaunchBodyReadsFactsFromTheTable(t *testing.T) {
	cat, err := playbooks.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var r launchRequest
	body := `{"playbook":"customer-data-breach","title":"x","discovered_at":"2026-11-22T10:00:00+01:00",
		"affected":{"DE":12},"flags":["essential_entity"],"risk":"high","significant":true,"ransom":false}`
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	facts, _, errs := r.validate(now, cat)
	if len(errs) != 0 {
		t.Fatalf("valid body refused: %v", errs)
	}
	if facts.DiscoveredAt == nil || !facts.DiscoveredAt.Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) ||
		facts.Affected["DE"] != 12 || !facts.HasFlag("essential_entity") || facts.Risk != "high" ||
		facts.Significant == nil || !*facts.Significant || facts.Ransom == nil || *facts.Ransom || facts.CrossBorder != nil {
		t.Fatalf("facts not read from the body: %+v", facts)
	}
	for _, unknown := range []string{`{"title":"x","vibes":1}`, `{"title":"x","subjects_notified_at":"2026-11-22T10:00:00Z"}`, `{"title":"x","Flags":["x"]}`} {
		var r launchRequest
		if err := json.Unmarshal([]byte(unknown), &r); err == nil || !strings.HasPrefix(err.Error(), "json: unknown field ") {
			t.Errorf("%s: err %v, want an unknown field", unknown, err)
		}
	}
	var typed launchRequest
	if err := json.Unmarshal([]byte(`{"playbook":"customer-data-breach","title":"x","affected":["DE"]}`), &typed); err != nil {
		t.Fatal(err)
	}
	if _, _, errs := typed.validate(now, cat); len(errs) != 1 || errs[0].Field != "affected" {
		t.Fatalf("a fact of the wrong type: %v, want one error on affected", errs)
	}
	var yesNo launchRequest
	if err := json.Unmarshal([]byte(`{"playbook":"customer-data-breach","title":"x","cross_border":"yes"}`), &yesNo); err != nil {
		t.Fatal(err)
	}
	if _, _, errs := yesNo.validate(now, cat); len(errs) != 1 || errs[0].Field != "cross_border" || errs[0].Message != "must be true or false" {
		t.Fatalf("a true/false fact sent as a string: %v, want one error on cross_border", errs)
	}
}
