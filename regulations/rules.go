package regulations

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // rules name IANA zones; embed the database so evaluation works on minimal hosts

	"github.com/breachflow/breachflow/internal/breach"
	"gopkg.in/yaml.v3"
)

//go:embed rules.yaml
var embeddedRules []byte

// Counting units of a Deadline.
const (
	UnitHours            = "hours"               // continuous elapsed hours; time zones and DST do not matter
	UnitCalendarDays     = "calendar_days"       // end of the Nth calendar day after the anchor day, local time
	UnitBusinessDays     = "business_days"       // end of the Nth business day after the anchor day, local time
	UnitMonths           = "months"              // end of the same day N months later, local time (clamped to month end)
	UnitDaysAfterYearEnd = "days_after_year_end" // end of the Nth day after 31 December of the anchor's year
	UnitNone             = "none"                // a standard only ("immediately", "as soon as feasible")
)

// Rule is one notification duty of one law, loaded from rules.yaml.
type Rule struct {
	ID                     string      `yaml:"id"`                   // unique rule id (a rule version)
	Obligation             string      `yaml:"obligation,omitempty"` // obligation id it produces; defaults to ID; versions of one duty share it
	Regime                 string      `yaml:"regime"`               // e.g. "GDPR Art. 33"
	Jurisdiction           string      `yaml:"jurisdiction"`         // jurisdiction reported on the obligation: "EU", "US", "US-CA"…
	AppliesIn              []string    `yaml:"applies_in,omitempty"` // any of these present → rule considered; empty = wherever (flag-gated rules)
	PerSubdivision         string      `yaml:"per_subdivision,omitempty"`
	Recipient              string      `yaml:"recipient"`
	RecipientName          string      `yaml:"recipient_name"`
	Anchor                 string      `yaml:"anchor"`          // fact name, or "filed" (the obligation named in After was filed)
	After                  string      `yaml:"after,omitempty"` // obligation this one chains after
	Deadline               Deadline    `yaml:"deadline"`
	AlsoWithin             *Deadline   `yaml:"also_within,omitempty"` // a second limit from another anchor; the earlier wins (DORA)
	Standard               string      `yaml:"standard,omitempty"`
	Phase                  string      `yaml:"phase,omitempty"`
	When                   Condition   `yaml:"when,omitempty"`
	Exemptions             []Exemption `yaml:"exemptions,omitempty"`
	ContentFields          []string    `yaml:"content_fields,omitempty"`
	ReportFacts            []string    `yaml:"report_facts,omitempty"`     // facts the regulator's form asks for; the report shows each, or asks while unknown
	ReportQuestions        []string    `yaml:"report_questions,omitempty"` // what else the form asks that no fact answers; legal supplies it
	Sources                []string    `yaml:"sources"`
	EffectiveFrom          string      `yaml:"effective_from,omitempty"`   // YYYY-MM-DD, compared with aware_at
	EffectiveUntil         string      `yaml:"effective_until,omitempty"`  // YYYY-MM-DD inclusive
	EnforceableFrom        string      `yaml:"enforceable_from,omitempty"` // YYYY-MM-DD; before it the duty is shown with a note
	NeedsLegalConfirmation bool        `yaml:"needs_legal_confirmation,omitempty"`
	Note                   string      `yaml:"note,omitempty"`
	from, until, enforce   time.Time   // parsed dates (zero = open)
	zone, capZone          *time.Location
}

// Deadline is a fixed limit: Amount Units after the anchor.
type Deadline struct {
	Amount   int    `yaml:"amount,omitempty"`
	Unit     string `yaml:"unit"`
	Zone     string `yaml:"zone,omitempty"`     // IANA zone for day-based units
	Holidays string `yaml:"holidays,omitempty"` // business-day calendar: br, us or none (weekends only)
	Anchor   string `yaml:"anchor,omitempty"`   // only in also_within
	Text     string `yaml:"text,omitempty"`     // human form override
}

// Condition limits when a rule applies. All set parts must hold; AnyOf needs one
// alternative to hold. A part that depends on an unknown fact is "unknown": the
// obligation is then kept and the fact listed as missing.
type Condition struct {
	Flags         []string        `yaml:"flags,omitempty"`          // all present
	NotFlags      []string        `yaml:"not_flags,omitempty"`      // none present
	CategoriesAny []string        `yaml:"categories_any,omitempty"` // at least one data category
	RiskIn        []string        `yaml:"risk_in,omitempty"`        // risk level among these; "unassessed" listed = clock runs before assessment
	Facts         map[string]bool `yaml:"facts,omitempty"`          // true/false facts that must have these values; unknown = kept, fact missing
	Threshold     *Threshold      `yaml:"threshold,omitempty"`      // affected-count test
	AnyOf         []Condition     `yaml:"any_of,omitempty"`         // at least one alternative holds
}

// Threshold compares an affected count with Value.
type Threshold struct {
	Scope     string `yaml:"scope"` // jurisdiction code, "total" (all affected people), or "each" (with per_subdivision)
	Op        string `yaml:"op"`    // >, >=, <, <=
	Value     int    `yaml:"value"`
	IfUnknown string `yaml:"if_unknown,omitempty"` // keep (default: obligation kept, count listed missing) or skip
}

// Exemption marks an obligation exempt when a flag is present, with the reason.
type Exemption struct {
	Flag string `yaml:"flag"`
	Note string `yaml:"note"`
}

// RuleSet is a validated, immutable set of rules.
type RuleSet struct {
	rules []Rule
	cals  map[string]businessCalendar
}

type ruleFile struct {
	Rules []Rule `yaml:"rules"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Default returns the embedded rule set.
func Default() (*RuleSet, error) {
	rs, err := Parse(embeddedRules)
	if err != nil {
		return nil, fmt.Errorf("load embedded rules: %w", err)
	}
	return rs, nil
}

// Parse decodes and validates a rules YAML document. Unknown fields are refused;
// errors name the rule and field.
func Parse(data []byte) (*RuleSet, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var file ruleFile
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parse rules: empty document")
		}
		return nil, fmt.Errorf("parse rules: %w", err)
	}
	if len(file.Rules) == 0 {
		return nil, errors.New("parse rules: no rules")
	}
	rs := &RuleSet{cals: map[string]businessCalendar{}}
	for _, name := range []string{"br", "us", "none"} {
		rs.cals[name] = newBusinessCalendar(name)
	}
	seen := map[string]bool{}
	obligations := map[string]bool{}
	for i := range file.Rules {
		r := &file.Rules[i]
		if r.Obligation == "" {
			r.Obligation = r.ID
		}
		obligations[r.Obligation] = true
	}
	for i := range file.Rules {
		r := &file.Rules[i]
		name := r.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("parse rules: rule %q: id: duplicate", name)
		}
		seen[r.ID] = true
		if err := r.validate(obligations); err != nil {
			return nil, fmt.Errorf("parse rules: rule %q: %w", name, err)
		}
	}
	rs.rules = file.Rules
	return rs, nil
}

// Rules returns a copy of the rules in file order.
func (rs *RuleSet) Rules() []Rule {
	out := make([]Rule, len(rs.rules))
	copy(out, rs.rules)
	for i := range out {
		out[i].AppliesIn = slices.Clone(out[i].AppliesIn)
		out[i].ContentFields = slices.Clone(out[i].ContentFields)
		out[i].Sources = slices.Clone(out[i].Sources)
		out[i].Exemptions = slices.Clone(out[i].Exemptions)
		if out[i].AlsoWithin != nil {
			d := *out[i].AlsoWithin
			out[i].AlsoWithin = &d
		}
	}
	return out
}

// reportableFacts are the facts a rule's report_facts may name: those with
// a question for the report to ask while they are unknown.
func reportableFacts() []string {
	var out []string
	for _, f := range breach.FactTable() {
		if f.Question != "" {
			out = append(out, f.Name)
		}
	}
	return out
}

// contentFieldNames is the vocabulary for content_fields: what a regulator
// notification must carry (the eleven items below "regulator") and what a notice
// to the people affected must carry (the nine below "data subjects"), as
// docs/regulations.md lists them.
func contentFieldNames() []string {
	return []string{
		// regulator
		"entity_contact", "report_phase", "timing", "nature_and_cause", "subject_counts",
		"data_elements", "consequences", "measures", "individual_notice", "delay_reasons", "regime_flags",
		// data subjects
		"plain_language", "what_happened", "data_types", "individual_steps", "contact", "extras", "channel",
	}
}

func parseDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: want YYYY-MM-DD: %w", field, err)
	}
	return t, nil
}

func (r *Rule) validate(obligations map[string]bool) error {
	switch {
	case !idPattern.MatchString(r.ID):
		return fmt.Errorf("id: %q must be lower-case words joined by '-'", r.ID)
	case !idPattern.MatchString(r.Obligation):
		return fmt.Errorf("obligation: %q must be lower-case words joined by '-'", r.Obligation)
	case strings.TrimSpace(r.Regime) == "":
		return errors.New("regime: required")
	case !validRuleJurisdiction(r.Jurisdiction):
		return fmt.Errorf("jurisdiction: %q is not a jurisdiction code, EU or EEA", r.Jurisdiction)
	case !slices.Contains([]string{breach.RecipientRegulator, breach.RecipientSubjects, breach.RecipientMedia, breach.RecipientCreditBureau, breach.RecipientOther}, r.Recipient):
		return fmt.Errorf("recipient: %q (want regulator, subjects, media, credit_bureaus or other)", r.Recipient)
	case strings.TrimSpace(r.RecipientName) == "":
		return errors.New("recipient_name: required")
	case !slices.Contains(anchorNames(), r.Anchor) && r.Anchor != anchorFiled:
		return fmt.Errorf("anchor: unknown fact %q", r.Anchor)
	case r.Anchor == anchorFiled && r.After == "":
		return errors.New("after: required when anchor is filed")
	case r.After != "" && !obligations[r.After]:
		return fmt.Errorf("after: no rule produces obligation %q", r.After)
	case r.After == r.Obligation:
		return errors.New("after: an obligation cannot chain after itself")
	case !slices.Contains([]string{"", "initial", "intermediate", "final"}, r.Phase):
		return fmt.Errorf("phase: %q (want initial, intermediate or final)", r.Phase)
	case r.PerSubdivision != "" && r.PerSubdivision != "US":
		return fmt.Errorf("per_subdivision: %q (only US is supported)", r.PerSubdivision)
	case len(r.Sources) == 0:
		return errors.New("sources: at least one source URL required")
	}
	for i, j := range r.AppliesIn {
		if !validRuleJurisdiction(j) {
			return fmt.Errorf("applies_in[%d]: %q is not a jurisdiction code, EU or EEA", i, j)
		}
	}
	for i, s := range r.Sources {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(s, " \t\n") {
			return fmt.Errorf("sources[%d]: %q is not an https URL", i, s)
		}
	}
	var err error
	zone, err := r.Deadline.validate("deadline", false)
	if err != nil {
		return err
	}
	r.zone = zone
	if r.Deadline.Unit == UnitNone && strings.TrimSpace(r.Standard) == "" {
		return errors.New("standard: required when deadline.unit is none")
	}
	if r.AlsoWithin != nil {
		if r.capZone, err = r.AlsoWithin.validate("also_within", true); err != nil {
			return err
		}
		if r.Deadline.Unit == UnitNone || r.AlsoWithin.Unit == UnitNone {
			return errors.New("also_within: needs a fixed deadline on both limits")
		}
	}
	if err := r.When.validate("when", r.PerSubdivision != ""); err != nil {
		return err
	}
	for i, e := range r.Exemptions {
		if !slices.Contains(breach.FlagNames(), e.Flag) {
			return fmt.Errorf("exemptions[%d].flag: unknown flag %q", i, e.Flag)
		}
		if strings.TrimSpace(e.Note) == "" {
			return fmt.Errorf("exemptions[%d].note: required (say which exemption applies)", i)
		}
	}
	for i, c := range r.ContentFields {
		if !slices.Contains(contentFieldNames(), c) {
			return fmt.Errorf("content_fields[%d]: unknown field %q", i, c)
		}
	}
	for i, name := range r.ReportFacts {
		if fact, ok := breach.LookupFact(name); !ok || fact.Name != name || fact.Question == "" {
			return fmt.Errorf("report_facts[%d]: %q is not a fact with a question (want one of %s)", i, name, strings.Join(reportableFacts(), ", "))
		}
	}
	for i, q := range r.ReportQuestions {
		if strings.TrimSpace(q) == "" {
			return fmt.Errorf("report_questions[%d]: empty", i)
		}
	}
	if r.from, err = parseDate("effective_from", r.EffectiveFrom); err != nil {
		return err
	}
	if r.until, err = parseDate("effective_until", r.EffectiveUntil); err != nil {
		return err
	}
	if r.enforce, err = parseDate("enforceable_from", r.EnforceableFrom); err != nil {
		return err
	}
	if !r.from.IsZero() && !r.until.IsZero() && r.until.Before(r.from) {
		return errors.New("effective_until: before effective_from")
	}
	return nil
}

// maxAmount bounds each unit so a rules file cannot ask for absurd clocks (and
// evaluation of business days stays a short loop).
func maxAmount(unit string) int {
	switch unit {
	case UnitHours:
		return 24 * 366
	case UnitCalendarDays, UnitDaysAfterYearEnd:
		return 366
	case UnitBusinessDays:
		return 260
	case UnitMonths:
		return 24
	}
	return 0
}

func (d *Deadline) validate(field string, needAnchor bool) (*time.Location, error) {
	units := []string{UnitHours, UnitCalendarDays, UnitBusinessDays, UnitMonths, UnitDaysAfterYearEnd, UnitNone}
	if !slices.Contains(units, d.Unit) {
		return nil, fmt.Errorf("%s.unit: %q (want one of %s)", field, d.Unit, strings.Join(units, ", "))
	}
	if needAnchor != (d.Anchor != "") {
		if needAnchor {
			return nil, fmt.Errorf("%s.anchor: required", field)
		}
		return nil, fmt.Errorf("%s.anchor: only allowed in also_within", field)
	}
	if d.Anchor != "" && !slices.Contains(anchorNames(), d.Anchor) {
		return nil, fmt.Errorf("%s.anchor: unknown fact %q", field, d.Anchor)
	}
	if d.Unit == UnitNone {
		if d.Amount != 0 || d.Zone != "" || d.Holidays != "" {
			return nil, fmt.Errorf("%s: unit none takes no amount, zone or holidays", field)
		}
		return nil, nil
	}
	if d.Amount <= 0 || d.Amount > maxAmount(d.Unit) {
		return nil, fmt.Errorf("%s.amount: %d out of range 1..%d for %s", field, d.Amount, maxAmount(d.Unit), d.Unit)
	}
	if d.Holidays != "" && d.Unit != UnitBusinessDays {
		return nil, fmt.Errorf("%s.holidays: only for business_days", field)
	}
	if d.Unit == UnitBusinessDays && !slices.Contains([]string{"br", "us", "none"}, d.Holidays) {
		return nil, fmt.Errorf("%s.holidays: %q (want br, us or none)", field, d.Holidays)
	}
	if d.Unit == UnitHours {
		if d.Zone != "" {
			return nil, fmt.Errorf("%s.zone: hours are continuous; a zone has no effect", field)
		}
		return nil, nil
	}
	if d.Zone == "" {
		return nil, fmt.Errorf("%s.zone: required for %s", field, d.Unit)
	}
	loc, err := time.LoadLocation(d.Zone)
	if err != nil || d.Zone == "Local" {
		return nil, fmt.Errorf("%s.zone: unknown IANA zone %q", field, d.Zone)
	}
	return loc, nil
}

func (c *Condition) validate(field string, perSubdivision bool) error {
	for i, f := range append(slices.Clone(c.Flags), c.NotFlags...) {
		if !slices.Contains(breach.FlagNames(), f) {
			return fmt.Errorf("%s.flags[%d]: unknown flag %q", field, i, f)
		}
	}
	for i, cat := range c.CategoriesAny {
		if !slices.Contains(breach.DataCategories(), cat) {
			return fmt.Errorf("%s.categories_any[%d]: unknown category %q", field, i, cat)
		}
	}
	for i, r := range c.RiskIn {
		if !slices.Contains(breach.RiskLevels(), r) {
			return fmt.Errorf("%s.risk_in[%d]: unknown risk level %q", field, i, r)
		}
	}
	for _, name := range sortedKeys(c.Facts) {
		if !slices.Contains(breach.FactNames(breach.KindBool, false), name) {
			return fmt.Errorf("%s.facts.%s: not a true/false fact (want one of %s)", field, name, strings.Join(breach.FactNames(breach.KindBool, false), ", "))
		}
	}
	if t := c.Threshold; t != nil {
		switch {
		case !slices.Contains([]string{">", ">=", "<", "<="}, t.Op):
			return fmt.Errorf("%s.threshold.op: unknown operator %q", field, t.Op)
		case t.Value < 0:
			return fmt.Errorf("%s.threshold.value: negative", field)
		case !slices.Contains([]string{"", "keep", "skip"}, t.IfUnknown):
			return fmt.Errorf("%s.threshold.if_unknown: %q (want keep or skip)", field, t.IfUnknown)
		case t.Scope == "each" && !perSubdivision:
			return fmt.Errorf("%s.threshold.scope: each needs per_subdivision", field)
		case t.Scope != "each" && t.Scope != "total" && !breach.ValidJurisdiction(t.Scope):
			return fmt.Errorf("%s.threshold.scope: %q (want a jurisdiction code, total or each)", field, t.Scope)
		}
	}
	for i := range c.AnyOf {
		if err := c.AnyOf[i].validate(fmt.Sprintf("%s.any_of[%d]", field, i), perSubdivision); err != nil {
			return err
		}
	}
	return nil
}
