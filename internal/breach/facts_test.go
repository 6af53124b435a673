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
		{"assumed unknown fact", func(f *Facts) { f.Assumed = []string{"risk"} }, "assumed[0]:"},
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

// TestAssumeDiscovery: a launch without discovered_at takes it as
// aware_at, marked assumed; the assumption follows aware_at until someone
// states discovered_at, and stating it (even to the same time) clears it.
func TestAssumeDiscovery(t *testing.T) {
	aware := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	f := Facts{AwareAt: aware}
	f.Assume()
	if f.DiscoveredAt == nil || !f.DiscoveredAt.Equal(aware) || !f.IsAssumed("discovered_at") {
		t.Fatalf("Assume: discovered_at = %v, assumed %v; want %v, assumed", f.DiscoveredAt, f.Assumed, aware)
	}
	if err := f.Validate(aware); err != nil {
		t.Errorf("assumed facts do not validate: %v", err)
	}

	earlier := aware.Add(-10 * time.Hour)
	mustFact("aware_at").Copy(&f, Facts{AwareAt: earlier})
	if !f.DiscoveredAt.Equal(earlier) || !f.IsAssumed("discovered_at") {
		t.Errorf("after aware_at changed: discovered_at = %v, assumed %v; want it to follow to %v", f.DiscoveredAt, f.Assumed, earlier)
	}

	mustFact("discovered_at").Copy(&f, Facts{DiscoveredAt: &earlier})
	if f.IsAssumed("discovered_at") || f.Assumed != nil {
		t.Errorf("stating discovered_at kept it assumed: %v", f.Assumed)
	}
	mustFact("aware_at").Copy(&f, Facts{AwareAt: aware})
	if !f.DiscoveredAt.Equal(earlier) {
		t.Errorf("a stated discovered_at followed aware_at to %v", f.DiscoveredAt)
	}

	given := aware.Add(-time.Hour)
	g := Facts{AwareAt: aware, DiscoveredAt: &given}
	g.Assume()
	if !g.DiscoveredAt.Equal(given) || g.Assumed != nil {
		t.Errorf("a given discovered_at was replaced or marked: %v, %v", g.DiscoveredAt, g.Assumed)
	}
}
