package breach

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Facts are what an incident knows about the breach; the regulatory rules
// turn them into duties. Every pointer or map that is nil means "not known
// yet": a rule that needs it lists it in Duty.MissingFacts instead of
// guessing. Facts never name a person.
//
// Each field is described once, in FactTable: launch, PATCH, the Update
// validators, playbook requires and the rules all read it from there.
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
	Affected           map[string]int `json:"affected,omitempty"`
	DataCategories     []string       `json:"data_categories,omitempty"`
	Risk               string         `json:"risk,omitempty"`
	Flags              []string       `json:"flags,omitempty"`
	Significant        *bool          `json:"significant,omitempty"`
	CrossBorder        *bool          `json:"cross_border,omitempty"`
	Ransom             *bool          `json:"ransom,omitempty"`
	// Filed maps an obligation id to when it was filed. Phased reports
	// (NIS2 final, DORA intermediate and final, ANPD supplement) run from
	// the earlier filing; the workflow records it here, nobody sets it.
	Filed map[string]time.Time `json:"filed,omitempty"`
	// Assumed names the facts whose value a launch took from another fact
	// (Fact.AssumedFrom) because the request left them out; setting such
	// a fact afterwards, even to the same value, makes it stated.
	Assumed []string `json:"assumed,omitempty"`
}

// ClockSkew is how far after now a time may be and still count as now: a
// clock cannot start in the future, but clocks of two machines differ.
const ClockSkew = 2 * time.Minute

// FactKind is how a fact is written and checked.
type FactKind string

// Fact kinds.
const (
	KindTime          FactKind = "time"          // an RFC 3339 instant; a rule may start a clock from it
	KindBool          FactKind = "bool"          // true or false; absent = not known
	KindChoice        FactKind = "choice"        // one of Values
	KindChoices       FactKind = "choices"       // a list of Values
	KindJurisdictions FactKind = "jurisdictions" // a list of ISO 3166 codes
	KindCounts        FactKind = "counts"        // ISO 3166 code → number of people
)

// Fact describes one fact: its JSON name, how it is written, who may set
// it and how a value is read from and written to Facts.
type Fact struct {
	Name string
	Kind FactKind
	// Doc says what the fact means, in one line for docs and forms.
	Doc string
	// Question is what a regulator's form asks while the fact is unknown.
	Question string
	// Values lists the accepted values of a choice or choices fact.
	Values []string
	// Unknown is the value of a choice fact that means "not known yet".
	Unknown string
	// Required facts always have a value; they cannot be cleared.
	Required bool
	// System facts are set by breachflow itself, never by a request.
	System bool
	// Role is the role whose decision the fact is; empty means responder
	// or legal may set it.
	Role string
	// AssumedFrom names the time fact this one is taken to equal when a
	// launch leaves it out (Facts.Assume); the value is marked assumed
	// and follows its source until someone states it.
	AssumedFrom string
	// field points at the fact's value inside f.
	field func(f *Facts) any
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
func FlagNames() []string { return slices.Clone(mustFact("flags").Values) }

// DataCategories returns every accepted data category.
func DataCategories() []string { return slices.Clone(mustFact("data_categories").Values) }

// RiskLevels returns every accepted risk level.
func RiskLevels() []string { return slices.Clone(mustFact("risk").Values) }

// FactTable returns every fact, in the order documents list them.
func FactTable() []Fact { return slices.Clone(factTable()) }

// factTable is built once; nothing changes it afterwards.
var factTable = sync.OnceValue(func() []Fact {
	at := func(name, doc string, field func(*Facts) any) Fact {
		return Fact{Name: name, Kind: KindTime, Doc: doc, field: field}
	}
	return []Fact{
		{Name: "aware_at", Kind: KindTime, Required: true, Doc: "when the organisation became aware of the breach (GDPR's clock start); defaults to the launch time",
			field: func(f *Facts) any { return &f.AwareAt }},
		at("occurred_at", "when the breach happened", func(f *Facts) any { return &f.OccurredAt }),
		{Name: "discovered_at", Kind: KindTime, AssumedFrom: "aware_at", Doc: "when the breach was discovered",
			field: func(f *Facts) any { return &f.DiscoveredAt }},
		at("determined_at", "when the breach was determined to have occurred (HIPAA, US states)", func(f *Facts) any { return &f.DeterminedAt }),
		at("assessed_at", "when the risk assessment concluded", func(f *Facts) any { return &f.AssessedAt }),
		at("materiality_at", "when the incident was determined to be material (SEC 8-K Item 1.05)", func(f *Facts) any { return &f.MaterialityAt }),
		at("classified_at", "when the incident was classified as major (DORA)", func(f *Facts) any { return &f.ClassifiedAt }),
		{Name: "extortion_paid_at", Kind: KindTime, Doc: "when an extortion payment was made (NYDFS 500.17(c))",
			Question: "Whether and when an extortion payment was made (extortion_paid_at)",
			field:    func(f *Facts) any { return &f.ExtortionPaidAt }},
		{Name: "subjects_notified_at", Kind: KindTime, System: true, Doc: "when the affected people were notified (set by the customer-notices step)",
			field: func(f *Facts) any { return &f.SubjectsNotifiedAt }},
		{Name: "jurisdictions", Kind: KindJurisdictions, Doc: "where affected people live: ISO 3166-1 alpha-2 or ISO 3166-2 codes",
			field: func(f *Facts) any { return &f.Jurisdictions }},
		{Name: "affected", Kind: KindCounts, Doc: "estimated affected people per jurisdiction; replaced by the import's counts once customers are uploaded",
			field: func(f *Facts) any { return &f.Affected }},
		{Name: "data_categories", Kind: KindChoices, Doc: "what kinds of personal data were involved",
			Values: []string{"contact", "identity", "financial", "credentials", "health", "biometric",
				"genetic", "children", "location", "special_category", "other"},
			field: func(f *Facts) any { return &f.DataCategories }},
		{Name: "risk", Kind: KindChoice, Role: RoleLegal, Unknown: RiskUnassessed, Doc: "legal's assessment of the risk to the people affected",
			Values: []string{RiskUnassessed, RiskNone, RiskRisk, RiskHigh},
			field:  func(f *Facts) any { return &f.Risk }},
		{Name: "flags", Kind: KindChoices, Doc: "sector and situation flags that bring regimes into play",
			Values: []string{FlagPublicCompany, FlagHIPAACoveredEntity, FlagNYDFSRegulated, FlagCIIOperator,
				FlagEssentialEntity, FlagFinancialEntity, FlagDataEncrypted, FlagExtortionPayment, FlagPECRServiceProvider},
			field: func(f *Facts) any { return &f.Flags }},
		{Name: "significant", Kind: KindBool, Doc: "the incident is significant under NIS2 Art. 23(3): it caused or can cause severe operational disruption or financial loss, or considerable damage to others",
			Question: "Whether the incident is significant (NIS2 Art. 23(3))",
			field:    func(f *Facts) any { return &f.Significant }},
		{Name: "cross_border", Kind: KindBool, Doc: "the incident has or may have an impact beyond one country (NIS2 Art. 23(4)(a))",
			Question: "Whether the incident has or may have a cross-border impact",
			field:    func(f *Facts) any { return &f.CrossBorder }},
		{Name: "ransom", Kind: KindBool, Doc: "a ransom was demanded or paid (CAC Cybersecurity Incident Reporting Measures)",
			Question: "Whether a ransom was demanded or paid",
			field:    func(f *Facts) any { return &f.Ransom }},
	}
})

// factAliases are older names a playbook's requires may still use.
var factAliases = map[string]string{"subjects": "affected"}

// LookupFact returns the fact named name (or one of its older names).
func LookupFact(name string) (Fact, bool) {
	if to, ok := factAliases[name]; ok {
		name = to
	}
	for _, f := range factTable() {
		if f.Name == name {
			return f, true
		}
	}
	return Fact{}, false
}

func mustFact(name string) Fact {
	f, ok := LookupFact(name)
	if !ok {
		panic("breach: no fact " + name)
	}
	return f
}

// FactNames returns the names of the facts a request may set (System
// facts excluded), or with system true every fact of kind (any kind when
// kind is empty).
func FactNames(kind FactKind, system bool) []string {
	var out []string
	for _, f := range FactTable() {
		if (kind == "" || f.Kind == kind) && (system || !f.System) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Known reports whether the fact has a value in f.
func (d Fact) Known(f Facts) bool {
	v := reflect.ValueOf(d.field(&f)).Elem()
	if d.Kind == KindChoice && v.String() == d.Unknown {
		return false
	}
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Map {
		return v.Len() > 0
	}
	return !v.IsZero()
}

// Copy sets the fact in dst to its value in src: the value is now stated,
// no longer assumed, and a fact still assumed from this one follows it.
func (d Fact) Copy(dst *Facts, src Facts) {
	reflect.ValueOf(d.field(dst)).Elem().Set(reflect.ValueOf(d.field(&src)).Elem())
	dst.Assumed = slices.DeleteFunc(dst.Assumed, func(n string) bool { return n == d.Name })
	for _, e := range factTable() {
		if e.AssumedFrom == d.Name && dst.IsAssumed(e.Name) {
			e.setTime(dst, d.Time(*dst))
		}
	}
	if len(dst.Assumed) == 0 {
		dst.Assumed = nil
	}
}

// Assume fills each fact the launch left out that has an AssumedFrom
// with its source's value and marks it assumed; a fact already known,
// or whose source is not, is left alone.
func (f *Facts) Assume() {
	for _, d := range factTable() {
		if d.AssumedFrom == "" || d.Known(*f) || f.IsAssumed(d.Name) {
			continue
		}
		if t := mustFact(d.AssumedFrom).Time(*f); t != nil {
			d.setTime(f, t)
			f.Assumed = append(f.Assumed, d.Name)
		}
	}
}

// IsAssumed reports whether the named fact's value was assumed at launch
// rather than given.
func (f Facts) IsAssumed(name string) bool { return slices.Contains(f.Assumed, name) }

// setTime sets a time fact to t; nil clears it (a required one keeps its
// value).
func (d Fact) setTime(f *Facts, t *time.Time) {
	switch p := d.field(f).(type) {
	case *time.Time:
		if t != nil {
			*p = *t
		}
	case **time.Time:
		if t != nil {
			v := *t
			t = &v
		}
		*p = t
	}
}

// Time returns a time fact's value, or nil when it is not known (or the
// fact is not a time).
func (d Fact) Time(f Facts) *time.Time {
	switch p := d.field(&f).(type) {
	case *time.Time:
		if p.IsZero() {
			return nil
		}
		t := *p
		return &t
	case **time.Time:
		return *p
	}
	return nil
}

// Bool returns a bool fact's value, or nil when it is not known.
func (d Fact) Bool(f Facts) *bool {
	if p, ok := d.field(&f).(**bool); ok {
		return *p
	}
	return nil
}

// Decode sets the fact in f from its JSON value, as a launch or PATCH
// body carries it; null (or "" for a time) clears it. A time more than
// skew after now is refused: a clock cannot start in the future.
func (d Fact) Decode(f *Facts, raw json.RawMessage, now time.Time, skew time.Duration) error {
	if d.System {
		return errors.New("set by breachflow, not by a request")
	}
	null := string(raw) == "null"
	if d.Kind == KindTime {
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errors.New("an RFC 3339 time such as 2026-11-23T08:00:00Z")
		}
		null = s == nil || *s == ""
		if !null {
			t, err := time.Parse(time.RFC3339, *s)
			if err != nil {
				return errors.New("not an RFC 3339 time such as 2026-11-23T08:00:00Z")
			}
			if t.After(now.Add(skew)) {
				return errors.New("is in the future")
			}
			raw, _ = json.Marshal(t.UTC())
		}
	}
	if null {
		if d.Required {
			return errors.New("cannot be removed")
		}
		v := reflect.ValueOf(d.field(f)).Elem()
		v.Set(reflect.Zero(v.Type()))
		return nil
	}
	if err := json.Unmarshal(raw, d.field(f)); err != nil {
		return fmt.Errorf("must be %s", d.shape())
	}
	return d.Check(*f, now.Add(skew))
}

// shape names the JSON a fact takes, for error messages.
func (d Fact) shape() string {
	switch d.Kind {
	case KindBool:
		return "true or false"
	case KindChoice:
		return "one of " + strings.Join(d.Values, ", ")
	case KindChoices:
		return "a list of " + strings.Join(d.Values, ", ")
	case KindJurisdictions:
		return "a list of ISO 3166-1 alpha-2 or ISO 3166-2 codes such as DE or US-CA"
	case KindCounts:
		return "an object of ISO 3166 codes to counts of zero or more"
	}
	return "an RFC 3339 time such as 2026-11-23T08:00:00Z"
}

// Check validates the fact's value in f; a time may not be after latest.
// The error names what is wrong; Problems names the field too.
func (d Fact) Check(f Facts, latest time.Time) error {
	var errs []error
	switch p := d.field(&f).(type) {
	case *time.Time, **time.Time:
		if t := d.Time(f); t != nil && t.After(latest) {
			errs = append(errs, fmt.Errorf("%s is in the future", t.UTC().Format(time.RFC3339)))
		} else if t == nil && d.Required {
			errs = append(errs, errors.New("required"))
		}
	case *string:
		if *p != "" && !slices.Contains(d.Values, *p) {
			errs = append(errs, fmt.Errorf("%q is not %s", *p, d.shape()))
		}
	case *[]string:
		for i, v := range *p {
			if d.Kind == KindJurisdictions {
				if err := ValidateJurisdiction(v); err != nil {
					errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
				}
			} else if !slices.Contains(d.Values, v) {
				errs = append(errs, fmt.Errorf("[%d]: %q is not one of %s", i, v, strings.Join(d.Values, ", ")))
			}
		}
	case *map[string]int:
		for _, j := range sortedKeys(*p) {
			if err := ValidateJurisdiction(j); err != nil {
				errs = append(errs, fmt.Errorf(".%s: %w", j, err))
			} else if (*p)[j] < 0 {
				errs = append(errs, fmt.Errorf(".%s: negative count %d", j, (*p)[j]))
			}
		}
	}
	return errors.Join(errs...)
}

// FactProblem is one fact that failed its check.
type FactProblem struct {
	Field   string
	Message string
}

// Explain splits an error of Decode or Check into problems, each naming
// its field: "data_categories[1]", "affected.DE" or the fact itself.
func (d Fact) Explain(err error) []FactProblem {
	var out []FactProblem
	for _, e := range splitJoined(err) {
		field, msg := d.Name, e.Error()
		if strings.HasPrefix(msg, "[") || strings.HasPrefix(msg, ".") {
			sub, rest, _ := strings.Cut(msg, ": ")
			field, msg = d.Name+sub, rest
		}
		out = append(out, FactProblem{Field: field, Message: msg})
	}
	return out
}

// Problems checks every fact in f against the table (no time after
// latest, known values, aware_at present) and lists what is wrong, field
// by field.
func (f Facts) Problems(latest time.Time) []FactProblem {
	var out []FactProblem
	for _, d := range factTable() {
		if err := d.Check(f, latest); err != nil {
			out = append(out, d.Explain(err)...)
		}
	}
	for i, name := range f.Assumed {
		if d, ok := LookupFact(name); !ok || d.Name != name || d.AssumedFrom == "" {
			out = append(out, FactProblem{Field: fmt.Sprintf("assumed[%d]", i), Message: fmt.Sprintf("%q is not a fact breachflow assumes", name)})
		}
	}
	for _, id := range sortedKeys(f.Filed) {
		if id == "" {
			out = append(out, FactProblem{Field: "filed", Message: "empty obligation id"})
		} else if t := f.Filed[id]; t.After(latest) {
			out = append(out, FactProblem{Field: "filed." + id, Message: t.UTC().Format(time.RFC3339) + " is in the future"})
		}
	}
	return out
}

// Validate is Problems as one error naming each offending field.
func (f Facts) Validate(latest time.Time) error {
	var errs []error
	for _, p := range f.Problems(latest) {
		errs = append(errs, fmt.Errorf("%s: %s", p.Field, p.Message))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validate facts: %w", err)
	}
	return nil
}

// HasFlag reports whether flag is set.
func (f Facts) HasFlag(flag string) bool { return slices.Contains(f.Flags, flag) }

// RiskLevel is the risk level, with the empty one read as unassessed.
func (f Facts) RiskLevel() string {
	if f.Risk == "" {
		return RiskUnassessed
	}
	return f.Risk
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
