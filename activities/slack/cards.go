package slack

import (
	"fmt"
	"strings"
	"time"

	"github.com/breachflow/breachflow/activities"
	slackapi "github.com/slack-go/slack"
)

// Action ids of the buttons on step cards; the API's interaction
// endpoint maps each onto the workflow Update of the same meaning.
const (
	ActionAcknowledge = "breachflow.ack"
	ActionComplete    = "breachflow.complete"
	ActionApprove     = "breachflow.approve"
	ActionReject      = "breachflow.reject"
)

// Modal callback ids.
const (
	ViewReject  = "breachflow.reject"  // the reason for a rejection
	ViewDeclare = "breachflow.declare" // /breach declare's launch form
)

// Block and action ids inside the reject modal.
const (
	ReasonBlock  = "reason"
	ReasonAction = "reason_input"
)

// cardEvent is the metadata event type that marks breachflow's messages,
// so a post whose answer was lost is found in the channel, not repeated.
const cardEvent = "breachflow_card"

// StepValue is the value of a step button: which incident and step.
func StepValue(incidentID, stepID string) string { return incidentID + "|" + stepID }

// ParseStepValue splits a step button's value.
func ParseStepValue(v string) (incidentID, stepID string, ok bool) {
	incidentID, stepID, ok = strings.Cut(v, "|")
	return incidentID, stepID, ok && incidentID != "" && stepID != "" && !strings.Contains(stepID, "|")
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

func plain(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
}

// escape makes text safe inside mrkdwn: Slack reads &, < and > as markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackDate renders t in each reader's own time zone, with a UTC fallback.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// left is how long until due as of now: "71h 59m left" or "2h 0m overdue".
func left(due, now time.Time) string {
	d := due.Sub(now).Round(time.Minute)
	word := "left"
	if d < 0 {
		d, word = -d, "overdue"
	}
	return fmt.Sprintf("%dh %02dm %s", int(d.Hours()), int(d.Minutes())%60, word)
}

var severityIcon = map[string]string{"low": "🟢", "medium": "🟡", "high": "🟠", "critical": "🔴"}

var stateIcon = map[string]string{"pending": "⏳", "ready": "▶️", "done": "✅", "skipped": "⏭️", "rejected": "⛔"}

// stateWord is how a step state reads on a card.
var stateWord = map[string]string{"pending": "waiting", "ready": "ready", "done": "done", "skipped": "skipped", "rejected": "rejected"}

// ChannelName is the channel an incident's room gets: breach-<id>,
// lower-cased, with -2, -3… when the name is taken.
func ChannelName(incidentID string, attempt int) string {
	name := "breach-" + strings.ToLower(incidentID)
	if attempt > 1 {
		name = fmt.Sprintf("%s-%d", name, attempt)
	}
	return name
}

// Topic is the channel topic: severity, phase, next deadline.
func Topic(r activities.Room) string {
	parts := []string{r.IncidentID, r.Severity, r.Status, "phase " + r.Phase}
	if r.NextDeadline != nil {
		parts = append(parts, "next deadline "+r.NextDeadline.UTC().Format("2006-01-02 15:04 UTC"))
	}
	t := strings.Join(parts, " · ")
	if len(t) > 250 {
		t = t[:250]
	}
	return t
}

// HeaderCard is the pinned card: severity, phase, the next deadline and
// its countdown as of the picture, duty and step counts.
func HeaderCard(r activities.Room, publicURL string) (string, []slackapi.Block) {
	title := fmt.Sprintf("%s %s — %s", severityIcon[r.Severity], r.IncidentID, r.Title)
	if len(title) > 150 {
		title = title[:147] + "…"
	}
	status := r.Status
	if r.Status == "closed" {
		status = "🔒 closed"
	}
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(plain(title)),
		slackapi.NewSectionBlock(nil, []*slackapi.TextBlockObject{
			mrkdwn("*Severity*\n" + escape(r.Severity)),
			mrkdwn("*Status*\n" + status),
			mrkdwn("*Phase*\n" + escape(r.Phase)),
			mrkdwn("*Playbook*\n" + escape(r.PlaybookID)),
			mrkdwn(fmt.Sprintf("*Open duties*\n%d (%d overdue)", r.OpenObligations, r.Overdue)),
			mrkdwn("*Declared by*\n" + escape(r.LaunchedBy)),
		}, nil),
	}
	next := "*Next deadline*: none open"
	if r.NextDeadline != nil {
		next = fmt.Sprintf("*Next deadline*: %s — due %s (%s as of %s)", escape(r.NextDeadlineName),
			slackDate(*r.NextDeadline), left(*r.NextDeadline, r.AsOf), r.AsOf.UTC().Format("15:04 UTC"))
	}
	blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn(next), nil, nil))
	counts := map[string]int{}
	for _, st := range r.Steps {
		counts[st.State]++
	}
	var summary []string
	for _, s := range []string{"ready", "pending", "done", "skipped", "rejected"} {
		if counts[s] > 0 {
			summary = append(summary, fmt.Sprintf("%d %s", counts[s], stateWord[s]))
		}
	}
	ctx := "Steps: " + strings.Join(summary, " · ")
	if publicURL != "" {
		ctx += fmt.Sprintf(" · <%s/v1/incidents/%s|details>", strings.TrimRight(publicURL, "/"), r.IncidentID)
	}
	blocks = append(blocks, slackapi.NewContextBlock("", mrkdwn(ctx)))
	text := fmt.Sprintf("%s %s (%s, %s): next deadline %s", r.IncidentID, r.Title, r.Severity, r.Phase, nextText(r))
	return text, blocks
}

func nextText(r activities.Room) string {
	if r.NextDeadline == nil {
		return "none"
	}
	return r.NextDeadline.UTC().Format("2006-01-02 15:04 UTC")
}

// showStep says whether a step has a card: once it needs a human (ready)
// and ever after; a step skipped before it was ever ready gets none.
func showStep(st activities.RoomStep, hasCard bool) bool {
	return hasCard || st.State == "ready" || st.State == "done" || st.State == "rejected"
}

// StepCard is one step's card; a ready step of an open incident carries
// the buttons its kind needs.
func StepCard(r activities.Room, st activities.RoomStep) (string, []slackapi.Block) {
	line := fmt.Sprintf("*%s* `%s`\nOwner: %s · %s %s", escape(st.Title), escape(st.ID), escape(st.Owner), stateIcon[st.State], stateWord[st.State])
	if st.DueAt != nil && (st.State == "ready" || st.State == "pending") {
		line += fmt.Sprintf(" · due %s (%s)", slackDate(*st.DueAt), left(*st.DueAt, r.AsOf))
	}
	blocks := []slackapi.Block{slackapi.NewSectionBlock(mrkdwn(line), nil, nil)}
	var who []string
	if len(st.Approvals) > 0 && st.State != "done" {
		who = append(who, "Approved by "+escape(strings.Join(st.Approvals, ", ")))
	}
	if st.Needs != "" && st.State == "ready" {
		who = append(who, "Needs "+escape(st.Needs))
	}
	if st.Waiting != "" && st.State == "ready" {
		who = append(who, ":warning: Waiting: "+escape(st.Waiting))
	}
	if st.AckedBy != "" {
		who = append(who, "Acknowledged by "+escape(st.AckedBy))
	}
	if st.DoneBy != "" {
		verb := "Done"
		if st.State == "rejected" {
			verb = "Rejected"
		}
		by := st.DoneBy
		if st.State == "done" && len(st.Approvals) > 1 {
			by = strings.Join(st.Approvals, " and ")
		}
		who = append(who, verb+" by "+escape(by))
	}
	if len(who) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", mrkdwn(strings.Join(who, " · "))))
	}
	if st.State == "ready" && r.Status != "closed" {
		value := StepValue(r.IncidentID, st.ID)
		var buttons []slackapi.BlockElement
		if st.AckedBy == "" {
			buttons = append(buttons, slackapi.NewButtonBlockElement(ActionAcknowledge, value, plain("Acknowledge")))
		}
		if st.Kind == "approval" {
			buttons = append(buttons,
				slackapi.NewButtonBlockElement(ActionApprove, value, plain("Approve")).WithStyle(slackapi.StylePrimary),
				slackapi.NewButtonBlockElement(ActionReject, value, plain("Reject…")).WithStyle(slackapi.StyleDanger))
		} else {
			buttons = append(buttons, slackapi.NewButtonBlockElement(ActionComplete, value, plain("Complete")).WithStyle(slackapi.StylePrimary))
		}
		blocks = append(blocks, slackapi.NewActionBlock("step:"+st.ID, buttons...))
	}
	text := fmt.Sprintf("%s step %s (%s): %s", r.IncidentID, st.Title, st.Owner, st.State)
	return text, blocks
}

// NoticeText is a reminder, escalation or overdue notice.
func NoticeText(n activities.RoomNotice) string {
	icon := map[string]string{"reminder": "⏰ Reminder", "escalation": "📣 Escalation", "overdue": "🚨 Overdue",
		activities.RoomNoticeRemedyShort: "⚠️ Remedy codes short", activities.RoomNoticeRemedyCovered: "✅ Remedy codes covered"}[n.Kind]
	if icon == "" {
		icon = "🔔 " + n.Kind
	}
	if n.DueAt.IsZero() {
		return fmt.Sprintf("%s — %s: %s", icon, n.IncidentID, escape(n.Subject))
	}
	return fmt.Sprintf("%s — %s: %s, due %s (%s)", icon, n.IncidentID, escape(n.Subject), slackDate(n.DueAt), left(n.DueAt, n.Now))
}

// RejectModal asks for the reason of a rejection; its private metadata
// names the incident, step and the channel to answer in.
func RejectModal(incidentID, stepID, channelID string) slackapi.ModalViewRequest {
	input := slackapi.NewPlainTextInputBlockElement(plain("Why is this rejected? It is kept in the audit trail."), ReasonAction)
	input.Multiline = true
	input.MaxLength = 2000
	return slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		CallbackID:      ViewReject,
		Title:           plain("Reject step"),
		Submit:          plain("Reject"),
		Close:           plain("Cancel"),
		PrivateMetadata: StepValue(incidentID, stepID) + "|" + channelID,
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			slackapi.NewSectionBlock(mrkdwn(fmt.Sprintf("Reject step `%s` of %s.", escape(stepID), incidentID)), nil, nil),
			slackapi.NewInputBlock(ReasonBlock, plain("Reason"), nil, input),
		}},
	}
}

// Declare modal block ids; each names the launch field it fills.
const (
	DeclarePlaybook      = "playbook"
	DeclareTitle         = "title"
	DeclareSeverity      = "severity"
	DeclareSummary       = "summary"
	DeclareAwareAt       = "aware_at"
	DeclareCategories    = "data_categories"
	DeclareJurisdictions = "jurisdictions"
	DeclareExternalRef   = "external_ref"
)

// DeclareModal is /breach declare's form with the launch fields; the
// channel to answer in travels in its private metadata.
func DeclareModal(playbookIDs, categories []string, channelID string) slackapi.ModalViewRequest {
	opts := func(vals []string) []*slackapi.OptionBlockObject {
		var out []*slackapi.OptionBlockObject
		for _, v := range vals {
			out = append(out, slackapi.NewOptionBlockObject(v, plain(v), nil))
		}
		return out
	}
	pb := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain("Playbook"), DeclarePlaybook, opts(playbookIDs)...)
	sev := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain("Severity"), DeclareSeverity, opts([]string{"low", "medium", "high", "critical"})...)
	sev.InitialOption = slackapi.NewOptionBlockObject("medium", plain("medium"), nil)
	cats := slackapi.NewOptionsMultiSelectBlockElement(slackapi.MultiOptTypeStatic, plain("Data categories"), DeclareCategories, opts(categories)...)
	summary := slackapi.NewPlainTextInputBlockElement(plain("What happened (no customer names)"), DeclareSummary)
	summary.Multiline = true
	input := func(id, label, hint string, el slackapi.BlockElement, optional bool) *slackapi.InputBlock {
		var h *slackapi.TextBlockObject
		if hint != "" {
			h = plain(hint)
		}
		b := slackapi.NewInputBlock(id, plain(label), h, el)
		b.Optional = optional
		return b
	}
	blocks := []slackapi.Block{
		input(DeclarePlaybook, "Playbook", "", pb, false),
		input(DeclareTitle, "Title", "No customer names or emails.", slackapi.NewPlainTextInputBlockElement(nil, DeclareTitle), false),
		input(DeclareSeverity, "Severity", "", sev, false),
		input(DeclareSummary, "Summary", "", summary, true),
		input(DeclareAwareAt, "Aware at (RFC 3339, empty = now)", "When the organisation became aware: starts the legal clocks.", slackapi.NewPlainTextInputBlockElement(plain("2026-11-23T08:00:00Z"), DeclareAwareAt), true),
	}
	// The other clock facts, as the dashboard's launch form offers them.
	for _, f := range DeclareTimeFacts() {
		blocks = append(blocks, FactBlock(f, true))
	}
	blocks = append(blocks,
		input(DeclareCategories, "Data categories", "", cats, true),
		input(DeclareJurisdictions, "Jurisdictions", "ISO codes separated by commas, e.g. DE, US-CA", slackapi.NewPlainTextInputBlockElement(plain("DE, US-CA"), DeclareJurisdictions), true),
		input(DeclareExternalRef, "External reference", "e.g. the SIEM ticket; repeats return the same incident", slackapi.NewPlainTextInputBlockElement(nil, DeclareExternalRef), true),
	)
	return slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		CallbackID:      ViewDeclare,
		Title:           plain("Declare a breach"),
		Submit:          plain("Declare"),
		Close:           plain("Cancel"),
		PrivateMetadata: channelID,
		Blocks:          slackapi.Blocks{BlockSet: blocks},
	}
}
