package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

//go:embed report/*.tmpl mail/*.tmpl
var files embed.FS

// Organisation is who is reporting (from configuration later; tests fill it).
type Organisation struct {
	Name    string // legal name of the controller or entity
	Contact string // person or team to contact about the report
	DPO     string // data protection officer, where one is appointed
	Email   string // contact email address of the organisation (not of a customer)
	Phone   string // contact phone number of the organisation
}

// ReportInput is everything a draft regulator notification is rendered from.
type ReportInput struct {
	Incident    *breach.Status
	Obligation  breach.Obligation
	Org         Organisation
	GeneratedAt time.Time // "now": deadlines and delays are judged against it
	// Reach counts, per customer jurisdiction, how the customers were
	// reached (store.NoticeReach); nil when unknown, and the notice
	// sections then say nothing of it.
	Reach map[string]breach.Reach
}

// Report is a rendered draft.
type Report struct {
	Title    string   // e.g. "GDPR Art. 33 notification to Lead supervisory authority — BR-7K3F9Q (draft)"
	Markdown string   // the draft as Markdown, user text escaped
	HTML     string   // a complete, self-contained HTML document (inline CSS, no external assets)
	Missing  []string // human-readable names of required content fields that the incident cannot fill yet
}

// reportView is what the report templates render; strings are raw, each
// template escapes them for its own format.
type reportView struct {
	Title     string
	Generated string
	Warnings  []string
	Missing   []missingItem
	Header    []row
	Sources   []string
	Sections  []section
}

type missingItem struct{ Name, Need string }

// row is a labelled value; Value may be user text.
type row struct{ Label, Value string }

// note is a piece of free text someone wrote (a step note), with where it came from.
type note struct{ Label, Text string }

// section is one content field of the report.
type section struct {
	Field   string // content field name from the rules
	Title   string
	Generic bool // no builder knows this field
	Missing bool
	Need    string // what is still needed, when Missing
	Text    string // a paragraph of (user) text
	Rows    []row
	Items   []string
	Notes   []note
	Remark  string // fixed guidance for the drafter
}

// RenderReport renders the draft notification for one obligation, with every
// content field the rule requires as a section, filled from the incident where
// it can be, and the fields it cannot fill listed at the top and in Missing.
func RenderReport(in ReportInput) (*Report, error) {
	if in.Incident == nil {
		return nil, errors.New("render report: no incident")
	}
	if in.Obligation.ID == "" {
		return nil, errors.New("render report: obligation has no id")
	}
	if in.GeneratedAt.IsZero() {
		return nil, errors.New("render report: generated-at time is zero")
	}
	c := &reportCtx{in: in, inc: in.Incident, ob: in.Obligation, now: in.GeneratedAt.UTC()}
	v := c.view()
	var mdBuf, htmlBuf bytes.Buffer
	mdT, err := texttemplate.New("report.md.tmpl").Funcs(texttemplate.FuncMap{"md": md, "mdLines": mdLines, "autolink": autolink, "add1": add1}).
		ParseFS(files, "report/report.md.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render report: parse markdown template: %w", err)
	}
	if err := mdT.Execute(&mdBuf, v); err != nil {
		return nil, fmt.Errorf("render report: markdown: %w", err)
	}
	htmlT, err := htmltemplate.New("report.html.tmpl").Funcs(htmltemplate.FuncMap{"add1": add1}).ParseFS(files, "report/report.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render report: parse html template: %w", err)
	}
	if err := htmlT.Execute(&htmlBuf, v); err != nil {
		return nil, fmt.Errorf("render report: html: %w", err)
	}
	r := &Report{Title: v.Title, Markdown: mdBuf.String(), HTML: htmlBuf.String()}
	for _, m := range v.Missing {
		r.Missing = append(r.Missing, m.Name)
	}
	return r, nil
}

// autolink renders a source URL as a Markdown autolink, or escaped text when
// it could not be one.
func autolink(u string) string {
	if u == "" || strings.ContainsAny(u, "<> \t\r\n") || !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return md(u)
	}
	return "<" + u + ">"
}

// reportCtx carries the input through the section builders.
type reportCtx struct {
	in  ReportInput
	inc *breach.Status
	ob  breach.Obligation
	now time.Time
}

// reportTitle names the draft, e.g. "GDPR Art. 33 notification to Lead
// supervisory authority — BR-7K3F9Q (draft)".
func (c *reportCtx) reportTitle() string {
	what := "notification"
	if c.ob.Phase != "" {
		what = c.ob.Phase + " report"
	}
	to := c.ob.RecipientName
	if to == "" {
		to = c.ob.Recipient
	}
	return oneLine(fmt.Sprintf("%s %s to %s — %s (draft)", c.ob.Regime, what, to, c.inc.ID))
}

func (c *reportCtx) view() reportView {
	v := reportView{Title: c.reportTitle(), Generated: stamp(c.now)}
	ob := c.ob
	if ob.NeedsLegalConfirmation {
		v.Warnings = append(v.Warnings, "Needs legal confirmation: the rule behind this obligation is marked [verify] in the reference; confirm the deadline, recipient and required content with counsel before relying on this draft.")
	}
	if ob.Exempt {
		v.Warnings = append(v.Warnings, "An exemption applies to this obligation (see the rule note); the draft is kept for the record.")
	}
	if c.late() {
		v.Warnings = append(v.Warnings, fmt.Sprintf("The deadline passed %s ago (%s); the notification must give the reasons for the delay.", span(c.lateBy()), stamp(*ob.DueAt)))
	}
	if len(ob.MissingFacts) > 0 {
		v.Warnings = append(v.Warnings, "Facts the clock or the rule's conditions need are not recorded yet: "+strings.Join(ob.MissingFacts, ", ")+".")
	}
	v.Header = c.header()
	v.Sources = strings.Fields(ob.Source)
	for _, field := range ob.ContentFields {
		s := c.section(field)
		if s.Missing {
			v.Missing = append(v.Missing, missingItem{Name: s.Title, Need: s.Need})
		}
		v.Sections = append(v.Sections, s)
	}
	return v
}

// section builds the section of one content field; a field no builder knows
// becomes a generic section that counts as missing.
func (c *reportCtx) section(field string) section {
	if b := builderFor(field); b != nil {
		s := b(c)
		s.Field = field
		if s.Title == "" {
			s.Title = fieldTitle(field)
		}
		return s
	}
	return section{
		Field:   field,
		Title:   fieldTitle(field),
		Generic: true,
		Missing: true,
		Need:    fmt.Sprintf("breachflow has no template for the content field %q; write this section by hand.", field),
	}
}

func (c *reportCtx) header() []row {
	ob := c.ob
	rows := []row{
		{"Incident", c.inc.ID + " — " + c.inc.Title},
		{"Regime", ob.Regime},
		{"Recipient", recipientText(ob.Duty)},
		{"Jurisdiction", ob.Jurisdiction},
		{"Obligation", ob.ID + " (rule " + ob.RuleID + ")"},
		{"Status", c.statusText()},
		{"Deadline", c.deadlineText()},
	}
	if ob.AnchorAt != nil {
		rows = append(rows, row{"Clock", fmt.Sprintf("%s from %s, %s", ob.Deadline, ob.Anchor, stamp(*ob.AnchorAt))})
	} else {
		rows = append(rows, row{"Clock", fmt.Sprintf("%s from %s (not recorded yet)", ob.Deadline, ob.Anchor)})
	}
	if ob.DueAt != nil && ob.Status != breach.ObligationFiled && ob.Status != breach.ObligationWaived {
		if c.late() {
			rows = append(rows, row{"Time left", "OVERDUE by " + span(c.lateBy())})
		} else {
			rows = append(rows, row{"Time left", "due in " + span(ob.DueAt.Sub(c.now))})
		}
	}
	if ob.Note != "" {
		rows = append(rows, row{"Rule note", ob.Note})
	}
	return rows
}

func recipientText(ob breach.Duty) string {
	switch {
	case ob.RecipientName == "":
		return ob.Recipient
	case ob.Recipient == "":
		return ob.RecipientName
	}
	return ob.RecipientName + " (" + ob.Recipient + ")"
}

func (c *reportCtx) statusText() string {
	ob := c.ob
	s := ob.Status
	if s == "" {
		s = breach.ObligationPending
	}
	switch {
	case ob.Status == breach.ObligationFiled && ob.FiledAt != nil:
		s += " at " + stamp(*ob.FiledAt)
		if ob.Reference != "" {
			s += ", reference " + ob.Reference
		}
	case ob.Status == breach.ObligationWaived && ob.WaiveReason != "":
		s += ": " + ob.WaiveReason
	}
	return s
}

// deadlineText gives the standard and the hard limit together, e.g. "without
// undue delay; at the latest 2026-11-26T08:00:00Z (Thu 26 Nov 2026 08:00 UTC)".
func (c *reportCtx) deadlineText() string {
	ob := c.ob
	var parts []string
	if ob.Standard != "" {
		parts = append(parts, ob.Standard)
	}
	switch {
	case ob.DueAt != nil:
		parts = append(parts, "at the latest "+stamp(*ob.DueAt))
	case ob.Exempt:
		parts = append(parts, "no due time: an exemption applies")
	case len(ob.MissingFacts) > 0 && ob.AnchorAt == nil:
		parts = append(parts, "no due time yet: "+ob.Anchor+" is not recorded")
	default:
		parts = append(parts, "no fixed outer limit")
	}
	return strings.Join(parts, "; ")
}

// late reports whether the deadline passed before the filing or, unfiled, before now.
func (c *reportCtx) late() bool {
	return c.ob.DueAt != nil && c.ob.Status != breach.ObligationWaived && c.lateBy() > 0
}

func (c *reportCtx) lateBy() time.Duration {
	if c.ob.DueAt == nil {
		return 0
	}
	at := c.now
	if c.ob.FiledAt != nil {
		at = *c.ob.FiledAt
	}
	return at.Sub(*c.ob.DueAt)
}

// add1 numbers sections from 1 in templates.
func add1(i int) int { return i + 1 }
