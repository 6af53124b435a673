package regulations

import (
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// FuzzParse feeds arbitrary documents to the rules parser: it must never panic, and
// whatever it accepts must evaluate without panicking and give only valid obligations.
func FuzzParse(f *testing.F) {
	f.Add(embeddedRules)
	f.Add([]byte(validRule))
	f.Add([]byte("rules:\n- id: a\n  regime: r\n  jurisdiction: EU\n  applies_in: [EEA]\n  recipient: subjects\n  recipient_name: n\n  anchor: filed\n  after: a\n  deadline: {unit: none}\n  standard: s\n  sources: [https://x.y]\n"))
	f.Add([]byte("rules:\n- id: b\n  regime: r\n  jurisdiction: US\n  per_subdivision: US\n  recipient: media\n  recipient_name: m {jurisdiction}\n  anchor: aware_at\n  deadline: {amount: 260, unit: business_days, zone: America/Sao_Paulo, holidays: br}\n  when: {threshold: {scope: each, op: '>', value: 500}}\n  sources: [https://x.y]\n"))
	f.Add([]byte("rules: [{id: c}]"))
	f.Add([]byte("\x00\xff: ["))
	aware := time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC)
	facts := []breach.Facts{
		{AwareAt: aware},
		{AwareAt: aware, DiscoveredAt: &aware, DeterminedAt: &aware, AssessedAt: &aware, MaterialityAt: &aware,
			ClassifiedAt: &aware, SubjectsNotifiedAt: &aware, ExtortionPaidAt: &aware,
			Jurisdictions:  []string{"DE", "US-CA", "US-TX", "BR", "CN", "SG", "IN", "GB", "AU", "CA"},
			Affected:       map[string]int{"US-CA": 600, "US-TX": 300, "CN": 2_000_000},
			DataCategories: []string{"health"}, Risk: "high", Flags: breach.FlagNames(),
			Filed: map[string]time.Time{"a": aware}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data)
		if err != nil {
			return
		}
		for _, fa := range facts {
			for _, o := range rs.Evaluate(fa) {
				if o.ID == "" || o.RuleID == "" || o.Source == "" || o.Recipient == "" {
					t.Fatalf("incomplete obligation %+v", o)
				}
				if o.DueAt != nil && o.AnchorAt != nil && o.DueAt.Before(*o.AnchorAt) {
					t.Fatalf("%s due %s before anchor %s", o.ID, o.DueAt, o.AnchorAt)
				}
			}
		}
	})
}
