package workflows

import (
	"context"
	"slices"
	"time"
)

// euEEA are the member states whose residents bring GDPR Art. 33 into play.
var euEEA = []string{
	"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
	"LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "EU",
}

// EvaluateObligations computes the incident's regulatory duties from its
// facts. It runs as a local activity so that its answer is recorded in
// history: a later change to the rules cannot change the past of a
// running incident on replay.
func EvaluateObligations(_ context.Context, f Facts) ([]Obligation, error) {
	var out []Obligation
	if gdprApplies(f) {
		aware := f.AwareAt.UTC()
		due := aware.Add(72 * time.Hour)
		out = append(out, Obligation{
			ID:           "gdpr-art33",
			Regime:       "GDPR Art. 33",
			Jurisdiction: "EU",
			Recipient:    "regulator",
			Anchor:       "aware_at",
			AnchorAt:     &aware,
			DueAt:        &due,
			Standard:     "without undue delay",
			Deadline:     "72 hours",
			Status:       ObligationPending,
			Source:       "https://gdpr-info.eu/art-33-gdpr/",
		})
	}
	return out, nil
}

func gdprApplies(f Facts) bool {
	if f.Risk == "none" {
		return false // Art. 33(1): not when unlikely to result in a risk
	}
	if len(f.Jurisdictions) == 0 {
		return true // unknown scope: keep the strictest clock running
	}
	for _, j := range f.Jurisdictions {
		country := j
		if len(j) > 2 {
			country = j[:2]
		}
		if slices.Contains(euEEA, country) {
			return true
		}
	}
	return false
}
