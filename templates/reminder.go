package templates

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
	"time"
)

// Kinds of clock mail.
const (
	KindReminder   = "reminder"   // before the deadline
	KindOverdue    = "overdue"    // the deadline passed
	KindEscalation = "escalation" // still overdue; sent to the escalation role
)

// ReminderInput is one reminder, overdue or escalation mail about a clock.
type ReminderInput struct {
	Kind        string    // "reminder" | "overdue" | "escalation"
	IncidentID  string    // e.g. BR-7K3F9Q
	IncidentURL string    // link to the incident (PUBLIC_URL + "/v1/incidents/ID" for now)
	Title       string    // incident title (not personal data, but escaped like user text)
	Subject     string    // what the clock is about, e.g. "GDPR Art. 33 notification to Lead supervisory authority" or "Step: Draft the customer notice"
	DueAt       time.Time // the deadline
	Now         time.Time // when the mail is rendered; the remaining or overdue time is judged against it
	Owner       string    // role or team being reminded
}

// Mail is a rendered message: a header-safe subject, a plain-text part and an HTML part.
type Mail struct {
	Subject string
	Text    string
	HTML    string
}

// mailView is what the mail templates render; strings are raw.
type mailView struct {
	Kind       string
	Headline   string
	IncidentID string
	Title      string
	Subject    string
	Due        string
	Status     string
	Owner      string
	Action     string
	URL        string
}

// RenderReminder renders a reminder, overdue or escalation mail, e.g. subject
// "[BR-7K3F9Q] Reminder: GDPR Art. 33 … due in 23h59m", "[BR-7K3F9Q] OVERDUE by
// 2h: …" or "[BR-7K3F9Q] ESCALATION: … overdue by 6h".
func RenderReminder(in ReminderInput) (*Mail, error) {
	switch {
	case in.Kind != KindReminder && in.Kind != KindOverdue && in.Kind != KindEscalation:
		return nil, fmt.Errorf("render reminder: unknown kind %q (want reminder, overdue or escalation)", in.Kind)
	case oneLine(in.IncidentID) == "":
		return nil, errors.New("render reminder: no incident id")
	case oneLine(in.Subject) == "":
		return nil, errors.New("render reminder: no subject")
	case in.DueAt.IsZero() || in.Now.IsZero():
		return nil, errors.New("render reminder: due-at and now are required")
	}
	id, what := oneLine(in.IncidentID), oneLine(in.Subject)
	owner := oneLine(in.Owner)
	if owner == "" {
		owner = "the owner"
	}
	left := in.DueAt.Sub(in.Now)
	past := -left >= time.Minute // under a minute late reads as "due now", not "overdue by 0m"
	v := mailView{
		Kind:       in.Kind,
		IncidentID: id,
		Title:      oneLine(in.Title),
		Subject:    what,
		Due:        stamp(in.DueAt),
		Owner:      owner,
		URL:        oneLine(in.IncidentURL),
	}
	var subject string
	switch {
	case in.Kind == KindReminder && left >= time.Minute:
		subject = fmt.Sprintf("Reminder: %s due in %s", what, span(left))
		v.Status = "due in " + span(left)
		v.Headline = fmt.Sprintf("Reminder: %s is due in %s.", what, span(left))
		v.Action = "Complete it before the deadline, or record progress on the incident. For a regulator notification, file what is known now; further information can follow in phases where the law allows."
	case in.Kind == KindReminder && !past:
		subject = fmt.Sprintf("Reminder: %s due now", what)
		v.Status = "due now"
		v.Headline = fmt.Sprintf("Reminder: %s is due now.", what)
		v.Action = "Complete it now, or record progress on the incident."
	case in.Kind == KindReminder, in.Kind == KindOverdue:
		late := "overdue"
		subject = "OVERDUE: " + what
		if past {
			late = "overdue by " + span(left)
			subject = fmt.Sprintf("OVERDUE by %s: %s", span(left), what)
		}
		v.Status = late
		v.Headline = fmt.Sprintf("%s is %s.", what, late)
		v.Action = "Act now: complete it, or file what is known and record the reasons for the delay. Every hour past the deadline has to be explained."
	default: // escalation
		late := "overdue"
		if past {
			late = "overdue by " + span(left)
		}
		subject = fmt.Sprintf("ESCALATION: %s %s", what, late)
		v.Status = late
		v.Headline = fmt.Sprintf("Escalation to %s: %s is %s.", owner, what, late)
		v.Action = "The deadline has passed without the work being completed. Make sure someone acts now and that the reasons for the delay are recorded on the incident."
	}
	var text, html bytes.Buffer
	tt, err := texttemplate.ParseFS(files, "mail/reminder.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render reminder: parse text template: %w", err)
	}
	if err := tt.Execute(&text, v); err != nil {
		return nil, fmt.Errorf("render reminder: text: %w", err)
	}
	ht, err := htmltemplate.ParseFS(files, "mail/reminder.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render reminder: parse html template: %w", err)
	}
	if err := ht.Execute(&html, v); err != nil {
		return nil, fmt.Errorf("render reminder: html: %w", err)
	}
	return &Mail{Subject: "[" + id + "] " + subject, Text: text.String(), HTML: html.String()}, nil
}
