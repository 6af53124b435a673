package templates

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
)

// builder fills the section of one content field from the incident.
type builder func(c *reportCtx) section

// builderFor returns the builder of a content field, or nil when the field is
// not one breachflow knows (regulations' content field vocabulary).
func builderFor(field string) builder {
	switch field {
	case "entity_contact":
		return (*reportCtx).entityContact
	case "report_phase":
		return (*reportCtx).reportPhase
	case "timing":
		return (*reportCtx).timing
	case "nature_and_cause":
		return (*reportCtx).natureAndCause
	case "subject_counts":
		return (*reportCtx).subjectCounts
	case "data_elements":
		return func(c *reportCtx) section { return c.dataCategories("Personal data involved") }
	case "data_types":
		return func(c *reportCtx) section { return c.dataCategories("What information was involved") }
	case "consequences":
		return (*reportCtx).consequences
	case "measures":
		return (*reportCtx).measures
	case "individual_notice":
		return (*reportCtx).individualNotice
	case "delay_reasons":
		return (*reportCtx).delayReasons
	case "regime_flags":
		return (*reportCtx).regimeFlags
	case "plain_language":
		return (*reportCtx).plainLanguage
	case "what_happened":
		return (*reportCtx).whatHappened
	case "individual_steps":
		return (*reportCtx).individualSteps
	case "contact":
		return (*reportCtx).contact
	case "extras":
		return (*reportCtx).extras
	case "channel":
		return (*reportCtx).channel
	}
	return nil
}

// fieldTitle turns a field name no builder titles into a heading: "foo_bar" → "Foo bar".
func fieldTitle(field string) string {
	s := strings.ReplaceAll(oneLine(field), "_", " ")
	if s == "" {
		return "Unnamed field"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// reportsAs is what a step stands for in reports and notices. The workflow
// fills it from the pinned playbook; a status from a worker older than
// reports_as carries none, and the step's legacy id answers then.
func reportsAs(st breach.StepState) string {
	return playbooks.ReportRole(st.ID, st.ReportsAs)
}

// measureRoles are what the steps whose notes are measures taken report as.
func measureRoles() []string {
	return []string{playbooks.ReportsContainment, playbooks.ReportsMitigation}
}

// doneSteps returns the completed steps that report as one of roles or are
// of one of kinds, in playbook order. Kinds are matched where a kind says
// enough on its own (every action step is a measure).
func (c *reportCtx) doneSteps(roles []string, kinds ...string) []breach.StepState {
	var out []breach.StepState
	for _, st := range c.inc.Steps {
		if st.State != breach.StepDone {
			continue
		}
		if slices.Contains(roles, reportsAs(st)) || slices.Contains(kinds, st.Kind) {
			out = append(out, st)
		}
	}
	return out
}

// stepNotes turns the notes of steps into report notes labelled with the step,
// its completion time and who completed it.
func stepNotes(steps []breach.StepState) []note {
	var out []note
	for _, st := range steps {
		text := strings.TrimSpace(st.Note)
		if text == "" && st.Reason != "" {
			text = strings.TrimSpace(st.Reason)
		}
		if text == "" {
			continue
		}
		label := st.Title
		if label == "" {
			label = st.ID
		}
		if st.DoneAt != nil {
			label += ", completed " + stamp(*st.DoneAt)
		}
		if st.DoneBy != "" {
			label += " by " + st.DoneBy
		}
		out = append(out, note{Label: label, Text: text})
	}
	return out
}

func (c *reportCtx) entityContact() section {
	o := c.in.Org
	s := section{Title: "Entity and contact point"}
	s.Rows = append(s.Rows, row{"Organisation", orUnknown(o.Name)})
	for _, r := range []row{{"Contact", o.Contact}, {"Data protection officer", o.DPO}, {"Email", o.Email}, {"Phone", o.Phone}} {
		if r.Value != "" {
			s.Rows = append(s.Rows, r)
		}
	}
	var need []string
	if strings.TrimSpace(o.Name) == "" {
		need = append(need, "the organisation's name")
	}
	if !o.hasContactPoint() && strings.TrimSpace(o.Contact) == "" {
		need = append(need, "a contact point (DPO, contact person, email or phone)")
	}
	if len(need) > 0 {
		s.Missing, s.Need = true, "Configure "+strings.Join(need, " and ")+"."
	}
	return s
}

// hasContactPoint reports whether someone outside can reach the organisation.
func (o Organisation) hasContactPoint() bool {
	return strings.TrimSpace(o.DPO) != "" || strings.TrimSpace(o.Email) != "" || strings.TrimSpace(o.Phone) != ""
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "not recorded"
	}
	return s
}

func (c *reportCtx) reportPhase() section {
	s := section{Title: "Report type and phase"}
	switch c.ob.Phase {
	case "initial":
		s.Rows = append(s.Rows, row{"Phase", "Initial report; an update and a final report follow"})
	case "intermediate":
		s.Rows = append(s.Rows, row{"Phase", "Intermediate report (update of the earlier report)"})
	case "final":
		s.Rows = append(s.Rows, row{"Phase", "Final report"})
	default:
		s.Rows = append(s.Rows, row{"Phase", "Notification; further information may follow in phases where the law allows (e.g. GDPR Art. 33(4))"})
	}
	if c.ob.Status == breach.ObligationFiled {
		s.Rows = append(s.Rows, row{"This report", "already filed (" + c.statusText() + "); this draft would be a supplement"})
	}
	if c.ob.After == "" {
		return s
	}
	var earlier *breach.Obligation
	for i := range c.inc.Obligations {
		if c.inc.Obligations[i].ID == c.ob.After {
			earlier = &c.inc.Obligations[i]
		}
	}
	switch {
	case earlier == nil:
		s.Rows = append(s.Rows, row{"Follows", c.ob.After + " (not among this incident's obligations)"})
		s.Missing, s.Need = true, "The earlier report "+c.ob.After+" and its filing reference."
	case earlier.FiledAt == nil:
		s.Rows = append(s.Rows, row{"Follows", earlier.Regime + " " + earlier.ID + ": not filed yet"})
		s.Missing, s.Need = true, "File the earlier report "+earlier.ID+" first; this report links to its reference."
	default:
		ref := earlier.Reference
		if ref == "" {
			ref = "no reference recorded"
		}
		s.Rows = append(s.Rows, row{"Follows", fmt.Sprintf("%s %s, filed %s, reference %s", earlier.Regime, earlier.ID, stamp(*earlier.FiledAt), ref)})
		if earlier.Reference == "" {
			s.Missing, s.Need = true, "The filing reference of the earlier report "+earlier.ID+"."
		}
	}
	return s
}

func (c *reportCtx) timing() section {
	f := c.inc.Facts
	s := section{Title: "Timing"}
	if f.OccurredAt != nil {
		s.Rows = append(s.Rows, row{"Occurred", stamp(*f.OccurredAt)})
	} else {
		s.Rows = append(s.Rows, row{"Occurred", "not recorded"})
	}
	if f.DiscoveredAt != nil && f.IsAssumed("discovered_at") {
		// A regulator must not read an assumption as a finding.
		s.Rows = append(s.Rows, row{"Discovered", stamp(*f.DiscoveredAt) + " (assumed to be the time of awareness; not yet established)"})
	} else if f.DiscoveredAt != nil {
		s.Rows = append(s.Rows, row{"Discovered", stamp(*f.DiscoveredAt)})
	} else {
		s.Rows = append(s.Rows, row{"Discovered", "not recorded"})
	}
	if f.AwareAt.IsZero() {
		s.Rows = append(s.Rows, row{"Became aware", "not recorded"})
	} else {
		s.Rows = append(s.Rows, row{"Became aware", stamp(f.AwareAt)})
	}
	if contained := c.containedAt(); contained != nil {
		s.Rows = append(s.Rows, row{"Contained", stamp(*contained)})
		if f.OccurredAt != nil && contained.After(*f.OccurredAt) {
			s.Rows = append(s.Rows, row{"Duration", span(contained.Sub(*f.OccurredAt)) + " from occurrence to containment"})
		}
	} else {
		s.Rows = append(s.Rows, row{"Contained", "not yet recorded as contained"})
	}
	switch {
	case f.OccurredAt == nil && f.AwareAt.IsZero():
		s.Missing, s.Need = true, "When the breach occurred (occurred_at) and when the organisation became aware (aware_at)."
	case f.OccurredAt == nil:
		s.Missing, s.Need = true, "When the breach occurred, or its period (occurred_at)."
	case f.AwareAt.IsZero():
		s.Missing, s.Need = true, "When the organisation became aware (aware_at)."
	}
	return s
}

// containedAt is when the containment step completed, if it did.
func (c *reportCtx) containedAt() *time.Time { return containedAt(c.inc) }

func (c *reportCtx) natureAndCause() section {
	s := section{Title: "Nature and cause of the breach"}
	s.Rows = append(s.Rows, row{"Title", c.inc.Title}, row{"Severity", orUnknown(c.inc.Severity)})
	s.Text = strings.TrimSpace(c.inc.Summary)
	s.Notes = stepNotes(c.doneSteps([]string{playbooks.ReportsCause}))
	review := stepNotes(c.doneSteps([]string{playbooks.ReportsRootCause}, "review"))
	s.Notes = append(s.Notes, review...)
	switch {
	case s.Text == "" && len(s.Notes) == 0:
		s.Missing, s.Need = true, "A description of what happened and how: the incident summary or the triage note."
	case c.ob.Phase == "final" && len(review) == 0:
		s.Missing, s.Need = true, "The root cause, from the post-incident review note."
	}
	return s
}

// countJurisdictions returns the affected counts in code order, the total (a
// country's entry already includes its subdivisions', as in regulations) and
// the listed jurisdictions that have no count.
func countJurisdictions(f breach.Facts) (rows []row, total int, uncounted []string) {
	codes := make([]string, 0, len(f.Affected))
	for code := range f.Affected {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		n := f.Affected[code]
		label := code
		if country, _, ok := strings.Cut(code, "-"); ok {
			if _, counted := f.Affected[country]; counted {
				rows = append(rows, row{label, thousands(n) + " (included in " + country + ")"})
				continue
			}
		}
		total += n
		rows = append(rows, row{label, thousands(n)})
	}
	for _, j := range f.Jurisdictions {
		covered := false
		for _, code := range codes {
			country, _, _ := strings.Cut(j, "-")
			codeCountry, _, _ := strings.Cut(code, "-")
			if code == j || code == country || codeCountry == j {
				covered = true
				break
			}
		}
		if !covered {
			uncounted = append(uncounted, j)
		}
	}
	return rows, total, uncounted
}

// thousands formats n with comma separators: 1200 → "1,200".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (c *reportCtx) subjectCounts() section {
	f := c.inc.Facts
	s := section{Title: "Data subjects affected (approximate numbers)"}
	rows, total, uncounted := countJurisdictions(f)
	if len(rows) == 0 {
		s.Missing, s.Need = true, "The approximate number of people affected per jurisdiction (facts.affected), or the imported affected-customer list."
		return s
	}
	s.Rows = rows
	totalText := thousands(total)
	if len(uncounted) > 0 {
		totalText = "at least " + totalText
		s.Rows = append(s.Rows, row{"Not counted yet", strings.Join(uncounted, ", ")})
		s.Missing, s.Need = true, "Counts for "+strings.Join(uncounted, ", ")+"; the total is a lower bound until then."
	}
	s.Rows = append(s.Rows, row{"Total", totalText})
	s.Remark = "Approximate numbers of people; the imported affected-customer list replaces the estimates."
	return s
}

// categoryText describes a data category for a regulator and a reader.
func categoryText(cat string) string {
	switch cat {
	case "contact":
		return "Contact details (e.g. name, email or postal address, phone number)"
	case "identity":
		return "Government identifiers (e.g. national ID, passport, social security or driving-licence numbers)"
	case "financial":
		return "Financial data (bank account or payment card details)"
	case "credentials":
		return "Account credentials (usernames, passwords, security answers or access tokens)"
	case "health":
		return "Health data"
	case "biometric":
		return "Biometric data"
	case "genetic":
		return "Genetic data"
	case "children":
		return "Data about children"
	case "location":
		return "Location data"
	case "special_category":
		return "Special-category data (e.g. ethnic origin, political opinions, religious beliefs, trade-union membership, sex life or orientation)"
	case "other":
		return "Other personal data (see the description of the breach)"
	}
	return "Other: " + cat
}

func (c *reportCtx) dataCategories(title string) section {
	f := c.inc.Facts
	s := section{Title: title}
	for _, cat := range f.DataCategories {
		s.Items = append(s.Items, categoryText(cat))
	}
	if len(s.Items) == 0 {
		s.Missing, s.Need = true, "The categories of personal data involved (facts.data_categories)."
		return s
	}
	if slices.Contains(f.Flags, breach.FlagDataEncrypted) {
		s.Remark = "The data were encrypted (flag data_encrypted); state whether the key was also compromised."
	}
	return s
}

// categoryConsequence is a typical consequence of exposing a category, offered
// to the drafter; legal's assessment decides what is likely.
func categoryConsequence(cat string) string {
	switch cat {
	case "contact":
		return "Phishing, spam and social-engineering attempts using the exposed contact details"
	case "identity":
		return "Identity theft or fraud using government identifiers"
	case "financial":
		return "Financial loss or fraud through misuse of bank or card details"
	case "credentials":
		return "Account takeover, including on other services where the same password is used"
	case "health", "genetic", "biometric", "special_category":
		return "Distress, discrimination or reputational harm from the disclosure of sensitive data"
	case "children":
		return "Harm to children, who are less able to protect themselves"
	case "location":
		return "Stalking or physical-safety risks from location data"
	}
	return ""
}

func riskText(r string) string {
	switch r {
	case breach.RiskNone:
		return "none: unlikely to result in a risk to the rights and freedoms of individuals"
	case breach.RiskRisk:
		return "risk to the rights and freedoms of individuals"
	case breach.RiskHigh:
		return "high risk to the rights and freedoms of individuals"
	}
	return "not assessed yet"
}

func (c *reportCtx) consequences() section {
	f := c.inc.Facts
	s := section{Title: "Likely consequences"}
	s.Rows = append(s.Rows, row{"Risk level", riskText(f.Risk)})
	s.Notes = stepNotes(c.doneSteps([]string{playbooks.ReportsAssessment}))
	for _, cat := range f.DataCategories {
		if t := categoryConsequence(cat); t != "" && !slices.Contains(s.Items, t) {
			s.Items = append(s.Items, t)
		}
	}
	if len(s.Items) > 0 {
		s.Remark = "The list above is typical for the data categories involved; keep only what the assessment supports."
	}
	if len(s.Notes) == 0 {
		s.Missing, s.Need = true, "The assessment of likely consequences: the note of the completed risk-assessment step (assess-risk)."
	}
	return s
}

func (c *reportCtx) measures() section {
	s := section{Title: "Measures taken or proposed"}
	steps := c.doneSteps(measureRoles(), "action")
	s.Notes = stepNotes(steps)
	for _, st := range c.inc.Steps {
		if st.ActionResult != "" && (slices.Contains(measureRoles(), reportsAs(st)) || st.Kind == "action") {
			s.Items = append(s.Items, fmt.Sprintf("%s: containment action %s", orUnknown(st.Title), st.ActionResult))
		}
	}
	for _, r := range c.inc.Remediations {
		item := "Remediation: " + r.Title + " — " + orUnknown(r.Status)
		var details []string
		if r.Owner != "" {
			details = append(details, "owner "+r.Owner)
		}
		if r.DoneAt != nil {
			details = append(details, "done "+stamp(*r.DoneAt))
		} else if r.DueAt != nil {
			details = append(details, "due "+stamp(*r.DueAt))
		}
		if len(details) > 0 {
			item += " (" + strings.Join(details, ", ") + ")"
		}
		s.Items = append(s.Items, item)
	}
	if len(s.Notes) == 0 && len(s.Items) == 0 {
		s.Missing, s.Need = true, "What was done or is planned: the note of the completed containment step (contain-source) or remediation items."
	}
	return s
}

func (c *reportCtx) individualNotice() section {
	f := c.inc.Facts
	s := section{Title: "Notice to individuals"}
	if f.SubjectsNotifiedAt != nil {
		s.Rows = append(s.Rows, row{"Individuals notified", stamp(*f.SubjectsNotifiedAt)})
	}
	for _, o := range c.inc.Obligations {
		if o.Recipient != breach.RecipientSubjects {
			continue
		}
		item := fmt.Sprintf("%s to %s (%s): %s", o.Regime, o.RecipientName, o.Jurisdiction, orUnknown(o.Status))
		if o.DueAt != nil {
			item += ", due " + stamp(*o.DueAt)
		} else if o.Standard != "" {
			item += ", " + o.Standard
		}
		s.Items = append(s.Items, item)
	}
	for _, st := range c.inc.Steps {
		if st.Kind != "customer_notices" {
			continue
		}
		item := fmt.Sprintf("Step %q: %s", st.Title, st.State)
		if st.DoneAt != nil {
			item += ", completed " + stamp(*st.DoneAt)
		}
		s.Items = append(s.Items, item)
	}
	if f.Risk == breach.RiskNone {
		s.Rows = append(s.Rows, row{"Plan", "Risk assessed as none: individuals are not notified"})
	}
	s.Rows = append(s.Rows, c.reachRows()...)
	if len(s.Rows) == 0 && len(s.Items) == 0 {
		s.Missing, s.Need = true, "The plan and status of notice to individuals (a customer-notices step, a duty to notify subjects, or the date they were notified)."
		return s
	}
	s.Remark = "Attach a copy or sample of the notice where the recipient asks for one."
	return s
}

func (c *reportCtx) delayReasons() section {
	s := section{Title: "Reasons for delay"}
	ob := c.ob
	switch {
	case ob.DelayReason != "":
		s.Text = ob.DelayReason
	case c.late():
		s.Missing = true
		s.Need = fmt.Sprintf("The reasons for the delay: the deadline %s passed %s ago.", stamp(*ob.DueAt), span(c.lateBy()))
	case ob.DueAt != nil:
		s.Remark = fmt.Sprintf("Not applicable while the notification is made by %s (due in %s); a later filing must give the reasons for the delay.", stamp(*ob.DueAt), span(ob.DueAt.Sub(c.now)))
	default:
		s.Remark = "No fixed due time applies; give reasons if the notification is not made without undue delay."
	}
	return s
}

// regimeQuestions are what the regulator's form asks that the incident's
// facts cannot answer yet: the rule's report facts still unknown, and its
// report questions no fact answers. Legal supplies them.
func (c *reportCtx) regimeQuestions() []string {
	var qs []string
	for _, name := range c.ob.ReportFacts {
		if fact, ok := breach.LookupFact(name); ok && !fact.Known(c.inc.Facts) {
			qs = append(qs, fact.Question)
		}
	}
	return append(qs, c.ob.ReportQuestions...)
}

// regimeAnswers are the rule's report facts the incident knows, each with
// its value, as rows of the report.
func (c *reportCtx) regimeAnswers() []row {
	var rows []row
	for _, name := range c.ob.ReportFacts {
		fact, ok := breach.LookupFact(name)
		if !ok || !fact.Known(c.inc.Facts) {
			continue
		}
		value := "yes"
		if b := fact.Bool(c.inc.Facts); b != nil && !*b {
			value = "no"
		} else if t := fact.Time(c.inc.Facts); t != nil {
			value = stamp(*t)
		}
		rows = append(rows, row{fact.Question, value})
	}
	return rows
}

func (c *reportCtx) regimeFlags() section {
	f := c.inc.Facts
	s := section{Title: "Regime-specific information"}
	if len(f.Flags) > 0 {
		s.Rows = append(s.Rows, row{"Flags", strings.Join(f.Flags, ", ")})
	}
	if slices.Contains(f.Flags, breach.FlagExtortionPayment) {
		paid := "yes"
		if f.ExtortionPaidAt != nil {
			paid += ", " + stamp(*f.ExtortionPaidAt)
		}
		s.Rows = append(s.Rows, row{"Extortion payment", paid})
	}
	countries := map[string]bool{}
	for _, j := range f.Jurisdictions {
		country, _, _ := strings.Cut(j, "-")
		countries[country] = true
	}
	for j := range f.Affected {
		country, _, _ := strings.Cut(j, "-")
		countries[country] = true
	}
	list := make([]string, 0, len(countries))
	for k := range countries {
		list = append(list, k)
	}
	sort.Strings(list)
	switch len(list) {
	case 0:
		s.Rows = append(s.Rows, row{"Cross-border impact", "unknown: no jurisdictions recorded"})
	case 1:
		s.Rows = append(s.Rows, row{"Cross-border impact", "no: only " + list[0] + " recorded"})
	default:
		s.Rows = append(s.Rows, row{"Cross-border impact", "yes: " + strings.Join(list, ", ")})
	}
	s.Rows = append(s.Rows, c.regimeAnswers()...)
	if qs := c.regimeQuestions(); len(qs) > 0 {
		s.Items = qs
		s.Remark = "The facts cannot answer the questions above; legal supplies the answers."
		s.Missing, s.Need = true, strings.Join(qs, "; ")+"."
	}
	return s
}

func (c *reportCtx) plainLanguage() section {
	s := section{Title: "Plain-language summary"}
	summary := strings.TrimSpace(c.inc.Summary)
	s.Text = summary
	s.Items = append(s.Items, "Write for the people affected: short sentences, no legal or technical jargon.")
	if strings.HasPrefix(c.ob.Jurisdiction, "US-CA") {
		s.Items = append(s.Items, `Title the notice "Notice of Data Breach" and use the headings What Happened, What Information Was Involved, What We Are Doing, What You Can Do and For More Information, in type no smaller than 10-point.`)
	}
	if summary == "" {
		s.Missing, s.Need = true, "A plain-language summary of the breach (the incident summary)."
	}
	return s
}

func (c *reportCtx) whatHappened() section {
	f := c.inc.Facts
	s := section{Title: "What happened"}
	s.Text = strings.TrimSpace(c.inc.Summary)
	if f.OccurredAt != nil {
		s.Rows = append(s.Rows, row{"Date of the breach", stamp(*f.OccurredAt)})
	} else {
		s.Rows = append(s.Rows, row{"Date of the breach", "not recorded"})
	}
	if f.DiscoveredAt != nil {
		s.Rows = append(s.Rows, row{"Discovered", stamp(*f.DiscoveredAt)})
	}
	var need []string
	if s.Text == "" {
		need = append(need, "a description of what happened (the incident summary)")
	}
	if f.OccurredAt == nil {
		need = append(need, "the date or period of the breach (occurred_at)")
	}
	if len(need) > 0 {
		s.Missing, s.Need = true, capitalize(strings.Join(need, " and "))+"."
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// categoryStep is what a person can do about the exposure of one category.
func categoryStep(cat string) string {
	switch cat {
	case "contact":
		return "Be wary of unexpected emails, calls or messages that mention this incident or ask for personal details; we will never ask for your password."
	case "credentials":
		return "Change your password for our service and anywhere else you used the same password, and turn on two-step verification where it is offered."
	case "financial":
		return "Check your bank and card statements for transactions you do not recognise, and tell your bank or card issuer at once if you find any."
	case "identity":
		return "Consider placing a fraud alert or credit freeze, and watch for accounts or applications you did not open."
	case "health":
		return "Check statements from your health insurer or provider for services you did not receive."
	case "location":
		return "Review the location-sharing settings of your account and devices."
	}
	return ""
}

func (c *reportCtx) individualSteps() section {
	s := section{Title: "What individuals can do"}
	for _, cat := range c.inc.Facts.DataCategories {
		if t := categoryStep(cat); t != "" && !slices.Contains(s.Items, t) {
			s.Items = append(s.Items, t)
		}
	}
	if len(c.inc.Facts.DataCategories) == 0 {
		s.Missing, s.Need = true, "The categories of personal data involved (facts.data_categories), from which the recommended steps follow."
		return s
	}
	s.Items = append(s.Items, "Keep this notice, and contact us (details below) if you notice anything suspicious.")
	return s
}

func (c *reportCtx) contact() section {
	o := c.in.Org
	s := section{Title: "Contact for more information"}
	for _, r := range []row{{"Organisation", o.Name}, {"Data protection officer", o.DPO}, {"Contact", o.Contact}, {"Email", o.Email}, {"Phone", o.Phone}} {
		if strings.TrimSpace(r.Value) != "" {
			s.Rows = append(s.Rows, r)
		}
	}
	if !o.hasContactPoint() {
		s.Missing, s.Need = true, "A contact point people can reach: DPO, email or phone (configuration)."
	}
	return s
}

// extrasFor lists the additional content a jurisdiction's notice needs.
func extrasFor(jurisdiction string) []string {
	switch {
	case strings.HasPrefix(jurisdiction, "US-CA"):
		return []string{
			"Whether notice was delayed by a law-enforcement investigation",
			"Toll-free numbers and addresses of the major credit reporting agencies, if Social Security, driver's licence or ID card numbers were exposed",
			"An offer of identity-theft prevention and mitigation services at no cost for at least 12 months, where the organisation was the source of the breach and such numbers were exposed",
		}
	case jurisdiction == "CA":
		return []string{
			"The organisation's internal complaint process",
			"The individual's right to complain to the Office of the Privacy Commissioner of Canada",
		}
	}
	return []string{"Any additional content the law of " + orUnknown(jurisdiction) + " requires"}
}

func (c *reportCtx) extras() section {
	s := section{Title: "Additional required content"}
	s.Items = extrasFor(c.ob.Jurisdiction)
	s.Remark = "Each item above needs a decision or text from legal; the incident's facts do not hold it."
	s.Missing, s.Need = true, "Decide and write: "+strings.Join(s.Items, "; ")+"."
	return s
}

func (c *reportCtx) channel() section {
	s := section{Title: "Notification channel"}
	for _, st := range c.inc.Steps {
		if st.Kind == "customer_notices" {
			s.Items = append(s.Items, fmt.Sprintf("Email to each affected person's address on file, sent one per person with delivery tracking (step %q: %s)", st.Title, st.State))
		}
	}
	if len(s.Items) == 0 {
		s.Missing, s.Need = true, "How individuals are told (a customer-notices step) and the fallback for those who cannot be reached."
		return s
	}
	s.Items = append(s.Items, "Letter by post for people with a postal address and no usable email address (none, or the email notice failed for good)")
	s.Items = append(s.Items, "Substitute notice (website or media) for people who cannot be reached, where the law requires it")
	s.Rows = append(s.Rows, c.reachRows()...)
	return s
}

// reachRows count the customers by the one channel that reached them
// (email, letter, substitute notice) or failed with a recorded reason, in
// all and, where the obligation names a jurisdiction its customers are
// in, there too: "1,204 (US-CA: 310)". Nothing when the counts are unknown.
func (c *reportCtx) reachRows() []row {
	if c.in.Reach == nil {
		return nil
	}
	var all, here breach.Reach
	matched := false
	j := c.ob.Jurisdiction
	for sj, r := range c.in.Reach {
		all = all.Add(r)
		if j != "" && (sj == j || strings.HasPrefix(sj, j+"-")) {
			here, matched = here.Add(r), true
		}
	}
	count := func(n func(breach.Reach) int) string {
		if matched {
			return fmt.Sprintf("%s (%s: %s)", thousands(n(all)), j, thousands(n(here)))
		}
		return thousands(n(all))
	}
	rows := []row{
		{"Customers reached by email", count(func(r breach.Reach) int { return r.Email })},
		{"Customers reached by letter", count(func(r breach.Reach) int { return r.Letter })},
		{"Customers covered by substitute notice", count(func(r breach.Reach) int { return r.Substitute })},
		{"Customers not reached (failed, reason recorded)", count(func(r breach.Reach) int { return r.Failed })},
	}
	if all.Pending > 0 {
		rows = append(rows, row{"Customers not reached yet (sending, or waiting for a letter)", count(func(r breach.Reach) int { return r.Pending })})
	}
	return rows
}
