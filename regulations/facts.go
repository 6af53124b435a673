package regulations

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Facts are what an incident knows about itself; rules turn them into obligations.
// Every pointer or map that is nil means "not known yet": rules that need it report
// it in Obligation.MissingFacts instead of guessing.
type Facts struct {
	AwareAt            time.Time      `json:"aware_at"`
	OccurredAt         *time.Time     `json:"occurred_at,omitempty"`
	DiscoveredAt       *time.Time     `json:"discovered_at,omitempty"`
	DeterminedAt       *time.Time     `json:"determined_at,omitempty"`
	AssessedAt         *time.Time     `json:"assessed_at,omitempty"`
	MaterialityAt      *time.Time     `json:"materiality_at,omitempty"`
	ClassifiedAt       *time.Time     `json:"classified_at,omitempty"`
	ExtortionPaidAt    *time.Time     `json:"extortion_paid_at,omitempty"`
	SubjectsNotifiedAt *time.Time     `json:"subjects_notified_at,omitempty"`
	Jurisdictions      []string       `json:"jurisdictions,omitempty"`
	Affected           map[string]int `json:"affected,omitempty"`        // residents per jurisdiction code; nil = unknown
	DataCategories     []string       `json:"data_categories,omitempty"` // see DataCategories()
	Risk               string         `json:"risk,omitempty"`            // unassessed|none|risk|high ("" = unassessed)
	Flags              []string       `json:"flags,omitempty"`           // see FlagNames()
	// Filed maps an obligation id to when it was filed. Phased reports (NIS2 final,
	// DORA intermediate and final, ANPD supplement) run from the earlier filing, so
	// they stay without a due time until the workflow records it here.
	Filed map[string]time.Time `json:"filed,omitempty"`
}

// Risk levels accepted in Facts.Risk.
const (
	RiskUnassessed = "unassessed"
	RiskNone       = "none"
	RiskRisk       = "risk"
	RiskHigh       = "high"
)

// Sector and situation flags accepted in Facts.Flags.
const (
	FlagPublicCompany       = "public_company"
	FlagHIPAACoveredEntity  = "hipaa_covered_entity"
	FlagNYDFSRegulated      = "nydfs_regulated"
	FlagCIIOperator         = "cii_operator"
	FlagEssentialEntity     = "essential_entity"
	FlagFinancialEntity     = "financial_entity"
	FlagDataEncrypted       = "data_encrypted"
	FlagExtortionPayment    = "extortion_payment"
	FlagPECRServiceProvider = "pecr_service_provider" // UK public electronic communications service (PECR reg. 5A)
)

// FlagNames returns every accepted flag.
func FlagNames() []string {
	return []string{FlagPublicCompany, FlagHIPAACoveredEntity, FlagNYDFSRegulated, FlagCIIOperator,
		FlagEssentialEntity, FlagFinancialEntity, FlagDataEncrypted, FlagExtortionPayment, FlagPECRServiceProvider}
}

// DataCategories returns every accepted data category (DESIGN.md §6).
func DataCategories() []string {
	return []string{"contact", "identity", "financial", "credentials", "health", "biometric",
		"genetic", "children", "location", "special_category", "other"}
}

// RiskLevels returns every accepted risk level.
func RiskLevels() []string {
	return []string{RiskUnassessed, RiskNone, RiskRisk, RiskHigh}
}

// anchorNames are the Facts time fields a rule may start its clock from, by JSON name.
func anchorNames() []string {
	return []string{"aware_at", "occurred_at", "discovered_at", "determined_at", "assessed_at",
		"materiality_at", "classified_at", "extortion_paid_at", "subjects_notified_at"}
}

// anchorFiled is the pseudo-anchor "the earlier obligation named in after was filed".
const anchorFiled = "filed"

// anchor returns the value of the named time fact, or nil when it is not known.
func (f Facts) anchor(name string) *time.Time {
	switch name {
	case "aware_at":
		if f.AwareAt.IsZero() {
			return nil
		}
		t := f.AwareAt
		return &t
	case "occurred_at":
		return f.OccurredAt
	case "discovered_at":
		return f.DiscoveredAt
	case "determined_at":
		return f.DeterminedAt
	case "assessed_at":
		return f.AssessedAt
	case "materiality_at":
		return f.MaterialityAt
	case "classified_at":
		return f.ClassifiedAt
	case "extortion_paid_at":
		return f.ExtortionPaidAt
	case "subjects_notified_at":
		return f.SubjectsNotifiedAt
	}
	return nil
}

func (f Facts) hasFlag(flag string) bool { return slices.Contains(f.Flags, flag) }

// risk normalises the empty risk to unassessed.
func (f Facts) risk() string {
	if f.Risk == "" {
		return RiskUnassessed
	}
	return f.Risk
}

// ValidateFacts checks facts before they are stored or evaluated: known codes,
// categories, flags and risk level, aware_at present, no negative counts and no
// clock anchor after now (a future anchor would start a clock that has not started).
// The error names each offending field.
func ValidateFacts(f Facts, now time.Time) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if f.AwareAt.IsZero() {
		bad("aware_at", "required")
	}
	for _, name := range anchorNames() {
		if t := f.anchor(name); t != nil && t.After(now) {
			bad(name, "%s is in the future (now %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	for i, j := range f.Jurisdictions {
		if err := ValidateJurisdiction(j); err != nil {
			bad(fmt.Sprintf("jurisdictions[%d]", i), "%w", err)
		}
	}
	for _, j := range sortedKeys(f.Affected) {
		field := "affected." + j
		if err := ValidateJurisdiction(j); err != nil {
			bad(field, "%w", err)
		}
		if f.Affected[j] < 0 {
			bad(field, "negative count %d", f.Affected[j])
		}
	}
	for i, c := range f.DataCategories {
		if !slices.Contains(DataCategories(), c) {
			bad(fmt.Sprintf("data_categories[%d]", i), "unknown category %q", c)
		}
	}
	for i, fl := range f.Flags {
		if !slices.Contains(FlagNames(), fl) {
			bad(fmt.Sprintf("flags[%d]", i), "unknown flag %q", fl)
		}
	}
	if f.Risk != "" && !slices.Contains(RiskLevels(), f.Risk) {
		bad("risk", "unknown risk level %q (want unassessed, none, risk or high)", f.Risk)
	}
	for _, id := range sortedKeys(f.Filed) {
		if id == "" {
			bad("filed", "empty obligation id")
		}
		if t := f.Filed[id]; t.After(now) {
			bad("filed."+id, "%s is in the future", t.UTC().Format(time.RFC3339))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validate facts: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
