package playbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// Step kinds. The workflow gives each kind its own behaviour; see the
// package documentation for what each one means.
const (
	KindTask             = "task"
	KindApproval         = "approval"
	KindAction           = "action"
	KindScope            = "scope"
	KindRegulatorNotices = "regulator_notices"
	KindCustomerNotices  = "customer_notices"
	KindOutreach         = "outreach"
	KindRemediation      = "remediation"
	KindReview           = "review"
)

// Due anchors: the moment a step's due time is counted from.
const (
	FromLaunch = "launch" // when the incident was launched
	FromAware  = "aware"  // the incident's aware_at fact (the legal clock start)
	FromStart  = "start"  // when the step became ready (all of After done or skipped)
)

// What a step reports as (Step.ReportsAs): the part its note and completion
// play in regulator reports and customer notices. The templates read these,
// never step ids, so a playbook may name its steps freely.
const (
	// ReportsContainment: the step that stops the exposure. Its completion
	// is when the breach counts as contained; its note is a measure taken.
	ReportsContainment = "containment"
	// ReportsMitigation: a further step that limits the harm (rotating
	// credentials, recovering copies, restoring systems); its note is a
	// measure taken.
	ReportsMitigation = "mitigation"
	// ReportsAssessment: a step that scopes the impact or assesses the risk;
	// its note describes the likely consequences.
	ReportsAssessment = "assessment"
	// ReportsCause: an early step whose note records what happened and how.
	ReportsCause = "cause"
	// ReportsRootCause: the step whose note gives the root cause, which a
	// final report needs.
	ReportsRootCause = "root_cause"
)

// Kinds returns every step kind, in documentation order.
func Kinds() []string {
	return []string{KindTask, KindApproval, KindAction, KindScope, KindRegulatorNotices,
		KindCustomerNotices, KindOutreach, KindRemediation, KindReview}
}

// Roles returns every role a step may be owned by or escalated to: the
// token roles that may act on a step (viewer only reads).
func Roles() []string { return []string{breach.RoleResponder, breach.RoleLegal, breach.RoleAdmin} }

// ReportRoles returns every value Step.ReportsAs may take.
func ReportRoles() []string {
	return []string{ReportsContainment, ReportsMitigation, ReportsAssessment, ReportsCause, ReportsRootCause}
}

// LegacyReportsAs is what a step reported as, by its id, for playbooks
// pinned before reports_as existed: the ids the shipped playbooks used then.
// It answers "" for every other id. Use it only for a step that declares no
// ReportsAs (see ReportRole).
func LegacyReportsAs(stepID string) string {
	switch stepID {
	case "contain-source", "isolate-hosts", "revoke-access":
		return ReportsContainment
	case "rotate-credentials", "disable-accounts", "block-attacker", "rotate-shared-secrets",
		"recover-data", "restore-systems":
		return ReportsMitigation
	case "scope-impact", "assess-exfiltration", "assess-risk":
		return ReportsAssessment
	case "triage", "preserve-evidence":
		return ReportsCause
	case "post-incident-review":
		return ReportsRootCause
	}
	return ""
}

// ReportRole returns what the step with this id reports as: reportsAs when
// it declares one, otherwise its legacy role (LegacyReportsAs), so incidents
// pinned before reports_as existed report as they always did.
func ReportRole(stepID, reportsAs string) string {
	if reportsAs != "" {
		return reportsAs
	}
	return LegacyReportsAs(stepID)
}

// Anchors returns every value Due.From may take.
func Anchors() []string { return []string{FromLaunch, FromAware, FromStart} }

// Playbook is one version of a breach-response plan: steps forming a DAG.
// A launched incident keeps its own copy (it travels as JSON in the workflow
// input), so editing the YAML never changes an incident already running.
type Playbook struct {
	ID          string `json:"id" yaml:"id"`
	Version     int    `json:"version" yaml:"version"`
	Title       string `json:"title" yaml:"title"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Reminders is the default for every step with a due time that sets none
	// of its own: each is a duration BEFORE the due time.
	Reminders []Duration `json:"reminders,omitempty" yaml:"reminders,omitempty"`
	// Escalation is the default for every step with a due time that sets none.
	Escalation *Escalation `json:"escalation,omitempty" yaml:"escalation,omitempty"`
	// ClockReminders sets when regulatory clocks remind, as points elapsed on
	// a 72-hour clock (e.g. [24h, 48h, 60h, 68h, 71h]); other clocks remind at
	// the same fractions of their length. Empty means those defaults.
	ClockReminders []Duration `json:"clock_reminders,omitempty" yaml:"clock_reminders,omitempty"`
	// Tiering holds the customer-tier thresholds; Parse fills the defaults.
	Tiering *Tiering `json:"tiering,omitempty" yaml:"tiering,omitempty"`
	// Remedy is what the notice offers customers in its scope (an
	// enrollment code from the incident's pool); nil offers none.
	Remedy *Remedy `json:"remedy,omitempty" yaml:"remedy,omitempty"`
	Steps  []Step  `json:"steps" yaml:"steps"`
	// Source names where the playbook was loaded from, e.g.
	// "embedded:customer-data-breach.yaml" or a file path.
	Source string `json:"-" yaml:"-"`
}

// Remedy says which customers are offered a remedy code of Product: those
// in one of Jurisdictions (a country matches its subdivisions; empty:
// every one) and of one of Tiers (empty: every tier). The codes come from
// the pool legal imports per incident; notices wait while it is short.
type Remedy struct {
	Product       string   `json:"product" yaml:"product"`
	Jurisdictions []string `json:"jurisdictions,omitempty" yaml:"jurisdictions,omitempty"`
	Tiers         []string `json:"tiers,omitempty" yaml:"tiers,omitempty"`
}

// Scope is the remedy as the workflow carries it; nil for no remedy.
func (r *Remedy) Scope() *breach.RemedyScope {
	if r == nil {
		return nil
	}
	return &breach.RemedyScope{Product: r.Product, Jurisdictions: slices.Clone(r.Jurisdictions), Tiers: slices.Clone(r.Tiers)}
}

// Tiering holds the thresholds that sort affected customers into tiers:
// high when annual value or years as a customer reach the high marks,
// medium when annual value reaches the medium mark, low otherwise.
type Tiering struct {
	HighAnnualValue   float64 `json:"high_annual_value" yaml:"high_annual_value"`
	HighYears         float64 `json:"high_years" yaml:"high_years"`
	MediumAnnualValue float64 `json:"medium_annual_value" yaml:"medium_annual_value"`
}

// DefaultTiering returns the thresholds used when a playbook sets none.
func DefaultTiering() Tiering {
	return Tiering{HighAnnualValue: 100000, HighYears: 5, MediumAnnualValue: 10000}
}

// Tier returns "high", "medium" or "low" for a customer with the given
// annual value and years of relationship.
func (t Tiering) Tier(annualValue, years float64) string {
	switch {
	case annualValue >= t.HighAnnualValue || (t.HighYears > 0 && years >= t.HighYears):
		return "high"
	case annualValue >= t.MediumAnnualValue:
		return "medium"
	}
	return "low"
}

// Step is one unit of work in a playbook.
type Step struct {
	ID          string `json:"id" yaml:"id"`
	Title       string `json:"title" yaml:"title"`
	Kind        string `json:"kind" yaml:"kind"`
	Owner       string `json:"owner" yaml:"owner"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// After lists the steps that must be done (or skipped) before this one
	// becomes ready.
	After []string `json:"after,omitempty" yaml:"after,omitempty"`
	// When: the step runs only if ANY clause holds; empty means always.
	// A step whose clauses all fail is skipped, which counts as done for
	// its dependents.
	When       []Clause    `json:"when,omitempty" yaml:"when,omitempty"`
	Due        *Due        `json:"due,omitempty" yaml:"due,omitempty"`
	Reminders  []Duration  `json:"reminders,omitempty" yaml:"reminders,omitempty"`
	Escalation *Escalation `json:"escalation,omitempty" yaml:"escalation,omitempty"`
	// Action names the containment webhook of a kind=action step, e.g.
	// disable-account, rotate-credentials, block-ip, isolate-host.
	Action string `json:"action,omitempty" yaml:"action,omitempty"`
	// Requires lists facts (by their name in breach.FactTable) that must be
	// known before the step may complete.
	Requires []string `json:"requires,omitempty" yaml:"requires,omitempty"`
	// OnReject (kind=approval) lists steps reopened when the approval is
	// rejected; the approval then waits for them again.
	OnReject []string `json:"on_reject,omitempty" yaml:"on_reject,omitempty"`
	// Quorum (kind=approval) is how many distinct people must approve
	// before the step is done; 0 and 1 mean one. Approvers lists the roles
	// whose approvals count (empty: the owner's), and ExcludeLauncher
	// refuses the incident's launcher as an approver: two-person control.
	Quorum          int      `json:"quorum,omitempty" yaml:"quorum,omitempty"`
	Approvers       []string `json:"approvers,omitempty" yaml:"approvers,omitempty"`
	ExcludeLauncher bool     `json:"exclude_launcher,omitempty" yaml:"exclude_launcher,omitempty"`
	// Hold (kind=outreach) is the longest the steps after it wait for the
	// outreach tasks before going ahead anyway.
	Hold *Duration `json:"hold,omitempty" yaml:"hold,omitempty"`
	// Optional steps do not block closing the incident.
	Optional bool `json:"optional,omitempty" yaml:"optional,omitempty"`
	// ReportsAs says what the step's note and completion stand for in
	// regulator reports and notices (one of ReportRoles); empty means
	// nothing, except for the legacy ids of LegacyReportsAs.
	ReportsAs string `json:"reports_as,omitempty" yaml:"reports_as,omitempty"`
}

// MaxQuorum bounds an approval's quorum: more distinct approvers than
// this is a typo, not a control.
const MaxQuorum = 5

// Needed returns how many distinct approvals the step needs: its quorum,
// or one.
func (s Step) Needed() int { return max(s.Quorum, 1) }

// ApproverRoles returns the roles whose approvals count: Approvers, or the
// owner when it lists none.
func (s Step) ApproverRoles() []string {
	if len(s.Approvers) > 0 {
		return s.Approvers
	}
	return []string{s.Owner}
}

// Clause is one condition; every field it sets must hold.
type Clause struct {
	// Risk holds when the incident's risk level is in this set.
	Risk []string `json:"risk,omitempty" yaml:"risk,omitempty"`
	// Duty holds when some regulatory obligation has this recipient.
	Duty string `json:"duty,omitempty" yaml:"duty,omitempty"`
	// Flag holds when the incident carries this flag.
	Flag string `json:"flag,omitempty" yaml:"flag,omitempty"`
}

// Due says when a step is due: After past the anchor named by From.
type Due struct {
	After Duration `json:"after" yaml:"after"`
	From  string   `json:"from" yaml:"from"`
}

// Escalation names the role told once a step is overdue, and again Every
// interval while it stays overdue.
type Escalation struct {
	To    string   `json:"to" yaml:"to"`
	Every Duration `json:"every" yaml:"every"`
}

// Facts is what conditions are evaluated against; the workflow fills it
// from the incident. An empty Risk counts as unassessed.
type Facts struct {
	Risk   string
	Flags  []string
	Duties []string
}

// Holds reports whether every field the clause sets holds for f. A clause
// that sets nothing holds (validation refuses such clauses in playbooks).
func (c Clause) Holds(f Facts) bool {
	if len(c.Risk) > 0 {
		risk := f.Risk
		if risk == "" {
			risk = breach.RiskUnassessed
		}
		if !slices.Contains(c.Risk, risk) {
			return false
		}
	}
	if c.Duty != "" && !slices.Contains(f.Duties, c.Duty) {
		return false
	}
	if c.Flag != "" && !slices.Contains(f.Flags, c.Flag) {
		return false
	}
	return true
}

// Applies reports whether the step runs for f: When is empty or any clause
// holds.
func (s Step) Applies(f Facts) bool {
	if len(s.When) == 0 {
		return true
	}
	for _, c := range s.When {
		if c.Holds(f) {
			return true
		}
	}
	return false
}

// Deadline returns the due time given the three anchors; start is when the
// step became ready.
func (d Due) Deadline(launch, aware, start time.Time) time.Time {
	var t time.Time
	switch d.From {
	case FromLaunch:
		t = launch
	case FromAware:
		t = aware
	default:
		t = start
	}
	return t.Add(d.After.D())
}

// Step returns the step with the given id.
func (p *Playbook) Step(id string) (*Step, bool) {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i], true
		}
	}
	return nil, false
}

// Roots returns the ids of the steps with no After, in file order; they
// become ready at launch.
func (p *Playbook) Roots() []string {
	var ids []string
	for _, s := range p.Steps {
		if len(s.After) == 0 {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Dependents returns the ids of the steps that list id in After, in file
// order.
func (p *Playbook) Dependents(id string) []string {
	var ids []string
	for _, s := range p.Steps {
		if slices.Contains(s.After, id) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// RemindersFor returns the reminders that apply to s: its own, else the
// playbook default; none when s has no due time.
func (p *Playbook) RemindersFor(s *Step) []Duration {
	if s.Due == nil {
		return nil
	}
	if len(s.Reminders) > 0 {
		return s.Reminders
	}
	return p.Reminders
}

// EscalationFor returns the escalation that applies to s: its own, else the
// playbook default; nil when s has no due time.
func (p *Playbook) EscalationFor(s *Step) *Escalation {
	if s.Due == nil {
		return nil
	}
	if s.Escalation != nil {
		return s.Escalation
	}
	return p.Escalation
}

// Digest returns a SHA-256 of the playbook's JSON form. An incident can
// record it beside id and version, so an audit shows exactly which text
// ran even if someone re-used a version number in an override file.
func (p *Playbook) Digest() string {
	b, err := json.Marshal(p)
	if err != nil {
		// Every field marshals; this cannot happen for a parsed playbook.
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ClockReminderOffsets returns the elapsed times at which a regulatory
// clock of length d reminds, scaled from ClockReminders; nil when the
// playbook keeps the defaults.
func (p *Playbook) ClockReminderOffsets(d time.Duration) []time.Duration {
	if len(p.ClockReminders) == 0 || d <= 0 {
		return nil
	}
	var out []time.Duration
	for _, r := range p.ClockReminders {
		at := time.Duration(float64(d) * (float64(r.D()) / float64(72*time.Hour)))
		if at > 0 && at < d && (len(out) == 0 || at-out[len(out)-1] >= time.Minute) {
			out = append(out, at)
		}
	}
	return out
}
