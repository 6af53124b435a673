package breach

import (
	"strings"
	"testing"
	"time"
)

func TestValidJurisdiction(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"DE", true}, {"US", true}, {"US-CA", true}, {"US-TX", true}, {"US-DC", true}, {"CA-QC", true},
		{"AU-NSW", true}, {"BR-SP", true}, {"GB-SCT", true}, {"SG", true}, {"IN", true}, {"CN", true},
		{"XX", false}, {"de", false}, {"US-ZZ", false}, {"US-", false}, {"USA", false}, {"", false},
		{"EU", false}, // EU is a group, not a residence
		{"FR-75", false}, {"us-ca", false}, {"UK", false},
	} {
		if got := ValidJurisdiction(tc.code); got != tc.ok {
			t.Errorf("ValidJurisdiction(%q) = %v, want %v", tc.code, got, tc.ok)
		}
		if err := ValidateJurisdiction(tc.code); (err == nil) != tc.ok {
			t.Errorf("ValidateJurisdiction(%q) = %v", tc.code, err)
		} else if err != nil && !strings.Contains(err.Error(), tc.code) {
			t.Errorf("error %q does not name the code", err)
		}
	}
}

func TestValidateFacts(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	future := now.Add(time.Minute)
	valid := Facts{AwareAt: past, DiscoveredAt: &past, Jurisdictions: []string{"DE", "US-CA"},
		Affected: map[string]int{"DE": 3, "US-CA": 0}, DataCategories: []string{"contact", "health"},
		Risk: "high", Flags: []string{"public_company", "data_encrypted"}}
	if err := valid.Validate(now); err != nil {
		t.Fatalf("valid facts refused: %v", err)
	}
	if err := (Facts{AwareAt: now}).Validate(now); err != nil {
		t.Errorf("anchor equal to now refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Facts)
		want   string // field named in the error
	}{
		{"no aware_at", func(f *Facts) { f.AwareAt = time.Time{} }, "aware_at: required"},
		{"aware_at in future", func(f *Facts) { f.AwareAt = future }, "aware_at:"},
		{"discovered_at in future", func(f *Facts) { f.DiscoveredAt = &future }, "discovered_at:"},
		{"materiality_at in future", func(f *Facts) { f.MaterialityAt = &future }, "materiality_at:"},
		{"subjects_notified_at in future", func(f *Facts) { f.SubjectsNotifiedAt = &future }, "subjects_notified_at:"},
		{"extortion_paid_at in future", func(f *Facts) { f.ExtortionPaidAt = &future }, "extortion_paid_at:"},
		{"unknown country", func(f *Facts) { f.Jurisdictions = []string{"DE", "XX"} }, "jurisdictions[1]:"},
		{"unknown subdivision", func(f *Facts) { f.Jurisdictions = []string{"US-ZZ"} }, "jurisdictions[0]:"},
		{"unknown affected code", func(f *Facts) { f.Affected = map[string]int{"ZZ": 1} }, "affected.ZZ:"},
		{"negative count", func(f *Facts) { f.Affected = map[string]int{"DE": -1} }, "affected.DE: negative"},
		{"unknown category", func(f *Facts) { f.DataCategories = []string{"contact", "dna"} }, "data_categories[1]:"},
		{"unknown flag", func(f *Facts) { f.Flags = []string{"bank"} }, "flags[0]:"},
		{"unknown risk", func(f *Facts) { f.Risk = "medium" }, "risk:"},
		{"filing in future", func(f *Facts) { f.Filed = map[string]time.Time{"nis2-notification": future} }, "filed.nis2-notification:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := valid
			tc.mutate(&f)
			err := f.Validate(now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ValidateFacts = %v, want error naming %q", err, tc.want)
			}
		})
	}
}
