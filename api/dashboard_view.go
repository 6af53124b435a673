package api

import (
	"bytes"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/regulations"
	"github.com/breachflow/breachflow/store"
)

// Urgency classes of a deadline, as the pages colour them.
const (
	urgOverdue = "overdue" // past due
	urgUrgent  = "urgent"  // under 6 hours
	urgSoon    = "soon"    // under 24 hours
	urgLater   = "later"
	urgOpen    = "open" // no fixed due time
)

func urgency(due *time.Time, status string, now time.Time) string {
	if status == breach.ObligationOverdue {
		return urgOverdue
	}
	if due == nil {
		return urgOpen
	}
	switch left := due.Sub(now); {
	case left <= 0:
		return urgOverdue
	case left < 6*time.Hour:
		return urgUrgent
	case left < 24*time.Hour:
		return urgSoon
	}
	return urgLater
}

// deadlineView is one row of the deadline board.
type deadlineView struct {
	IncidentID, Severity, Obligation, Regime, Jurisdiction string
	Recipient, RecipientName, Deadline, Standard, Status   string
	DueAt                                                  *time.Time
	MissingFacts                                           []string
	Urgency                                                string
}

// fmtRemaining says how long until due, or how long overdue; the page's
// script keeps it ticking.
func fmtRemaining(due *time.Time, now time.Time) string {
	if due == nil {
		return "no fixed deadline"
	}
	d := due.Sub(now)
	if d < 0 {
		return "overdue by " + fmtDuration(-d)
	}
	return fmtDuration(d) + " left"
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %02dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

func percent(a, b int) int {
	if b <= 0 {
		return 0
	}
	return a * 100 / b
}

// withUrgency adds the urgency of each incident's next deadline. It
// reads nothing more: the list is the store's index, so a page of fifty
// incidents asks no workflow anything.
func withUrgency(items []IncidentSummary, now time.Time) []incidentRow {
	rows := make([]incidentRow, len(items))
	for i, it := range items {
		rows[i] = incidentRow{IncidentSummary: it, Urgency: urgency(it.NextDeadline, "", now)}
		if it.Status == breach.StatusClosed {
			rows[i].Urgency = ""
		}
	}
	return rows
}

// incidentView is the incident page.
type incidentView struct {
	St           *breach.Status
	Steps        []stepView
	Done, Total  int
	Late         int
	Obligations  []obligationView
	Notices      []noticeBar
	NoticeTotal  noticeBar
	NoticeRows   []noticeBar // per jurisdiction, then the total
	Timeline     []breach.TimelineEntry
	Remediations []breach.Remediation
	OpenRemedies int
	Closed       bool
	Affected     []string
	// ShowGrants is set for the roles that may request or approve access
	// grants (responder, legal); Grants are the incident's.
	ShowGrants bool
	Grants     []grantView
	// NoticeApproval is the id of the step that approves the customer
	// notice's wording; the notice page shows what it approves.
	NoticeApproval string
	// Facts is the facts card: the form legal and responders edit.
	Facts factsSection
}

type stepView struct {
	breach.StepState
	Class    string // done | waiting | late | blocked | skipped | rejected
	Label    string
	Approval bool
	// Approvals and Needs show two-person control: who approved so far
	// and who is still needed.
	ApprovedBy string
	NeedsText  string
	// NeedsFacts are the facts a ready step requires that are not known
	// yet; the page links each to its input.
	NeedsFacts []string
}

type obligationView struct {
	breach.Obligation
	Urgency string
	Open    bool
	Clock   *clockView
}

// clockView draws one obligation's window, anchor to deadline, on a
// 1000-wide SVG: the elapsed part, reminder ticks and "now".
type clockView struct {
	NowX      float64
	NowInside bool
	Elapsed   float64
	Reminders []clockTick
	Anchor    time.Time
	Due       time.Time
	Length    string
	Label     string
}

type clockTick struct {
	X      float64
	At     time.Time
	Label  string
	Passed bool
}

type noticeBar struct {
	Jurisdiction                        string
	Sent, Pending, Failed, Suppressed   int
	Total                               int
	SentW, PendingW, FailedW, SuppressW float64
	PendingX, FailedX, SuppressX        float64
}

// Times in labels are in loc, the viewer's zone.
func (d *dash) incidentView(st *breach.Status, counts map[string]map[string]int, now time.Time, loc *time.Location) incidentView {
	v := incidentView{St: st, Closed: st.Status == breach.StatusClosed, Remediations: st.Remediations}
	if a := noticeApprovalStep(st); a != nil {
		v.NoticeApproval = a.ID
	}
	for _, s := range st.Steps {
		sv := stepView{StepState: s, Approval: s.Kind == "approval"}
		switch s.State {
		case breach.StepDone:
			sv.Class, sv.Label = "done", "done"
			v.Done++
		case breach.StepSkipped:
			sv.Class, sv.Label = "skipped", "skipped"
			v.Done++
		case breach.StepRejected:
			sv.Class, sv.Label = "rejected", "rejected"
		case breach.StepReady:
			sv.Class, sv.Label = "waiting", "waiting for "+s.Owner
			if s.Needs != nil && s.Needs.Count > 0 {
				sv.Label = fmt.Sprintf("waiting for %d of %d approvals", s.Needs.Count, s.Needs.Quorum)
			}
			if s.DueAt != nil && s.DueAt.Before(now) {
				sv.Class, sv.Label = "late", "late — was due "+fmtWhenIn(s.DueAt, loc)
				v.Late++
			}
		default:
			sv.Class, sv.Label = "blocked", "not started"
			if len(s.After) > 0 {
				sv.Label = "after " + strings.Join(s.After, ", ")
			}
		}
		var by []string
		for _, a := range s.Approvals {
			by = append(by, fmt.Sprintf("%s (%s, %s)", a.By, a.Role, fmtWhenIn(&a.At, loc)))
		}
		sv.ApprovedBy = strings.Join(by, "; ")
		if s.Needs != nil && s.Needs.Count > 0 && s.State == breach.StepReady {
			sv.NeedsText = breach.DescribeNeeds(*s.Needs)
		}
		if s.State == breach.StepReady {
			sv.NeedsFacts = d.missingStepFacts(st, s.ID)
		}
		v.Steps = append(v.Steps, sv)
	}
	v.Total = len(st.Steps)
	var offsets func(time.Duration) []time.Duration
	if pb, ok := d.playbooks.Get(st.PlaybookID); ok && pb.Version == st.PlaybookVersion {
		offsets = pb.ClockReminderOffsets
	}
	for _, o := range st.Obligations {
		ov := obligationView{Obligation: o, Urgency: urgency(o.DueAt, o.Status, now),
			Open: o.Status == breach.ObligationPending || o.Status == breach.ObligationOverdue}
		if !ov.Open {
			ov.Urgency = o.Status
		}
		ov.Clock = clock(o.AnchorAt, o.DueAt, now, offsets, loc)
		v.Obligations = append(v.Obligations, ov)
	}
	sort.SliceStable(v.Obligations, func(i, j int) bool {
		a, b := v.Obligations[i], v.Obligations[j]
		if a.Open != b.Open {
			return a.Open
		}
		if a.DueAt == nil || b.DueAt == nil {
			return b.DueAt == nil && a.DueAt != nil
		}
		return a.DueAt.Before(*b.DueAt)
	})
	jurs := make([]string, 0, len(counts))
	for j := range counts {
		jurs = append(jurs, j)
	}
	sort.Strings(jurs)
	v.NoticeTotal.Jurisdiction = "all"
	for _, j := range jurs {
		m := counts[j]
		b := noticeBar{Jurisdiction: j, Sent: m[store.NoticeSent], Pending: m[store.NoticePending] + m[store.NoticeSending],
			Failed: m[store.NoticeFailed], Suppressed: m[store.NoticeSuppressed]}
		if b.Jurisdiction == "" {
			b.Jurisdiction = "unknown"
		}
		v.NoticeTotal.Sent += b.Sent
		v.NoticeTotal.Pending += b.Pending
		v.NoticeTotal.Failed += b.Failed
		v.NoticeTotal.Suppressed += b.Suppressed
		v.Notices = append(v.Notices, b.widths())
	}
	v.NoticeTotal = v.NoticeTotal.widths()
	v.NoticeRows = append(slices.Clone(v.Notices), v.NoticeTotal)
	v.Timeline = slices.Clone(st.Timeline)
	slices.Reverse(v.Timeline) // newest first
	for _, r := range st.Remediations {
		if r.Status != "done" {
			v.OpenRemedies++
		}
	}
	for j, n := range st.Facts.Affected {
		v.Affected = append(v.Affected, fmt.Sprintf("%s %d", j, n))
	}
	sort.Strings(v.Affected)
	return v
}

func (b noticeBar) widths() noticeBar {
	b.Total = b.Sent + b.Pending + b.Failed + b.Suppressed
	if b.Total == 0 {
		return b
	}
	w := func(n int) float64 { return float64(n) * 1000 / float64(b.Total) }
	b.SentW, b.PendingW, b.FailedW, b.SuppressW = w(b.Sent), w(b.Pending), w(b.Failed), w(b.Suppressed)
	b.PendingX, b.FailedX, b.SuppressX = b.SentW, b.SentW+b.PendingW, b.SentW+b.PendingW+b.FailedW
	return b
}

// clock lays out the window from anchor to due with the reminders the
// workflow sends (the playbook's clock_reminders, else the default
// 24/48/60/68/71 h of 72 h scaled to the clock's length).
func clock(anchor, due *time.Time, now time.Time, playbookOffsets func(time.Duration) []time.Duration, loc *time.Location) *clockView {
	if anchor == nil || due == nil || !due.After(*anchor) {
		return nil
	}
	total := due.Sub(*anchor)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(*anchor)) / float64(total)
		return min(max(f, 0), 1) * 1000
	}
	var offs []time.Duration
	if playbookOffsets != nil {
		offs = playbookOffsets(total)
	}
	if offs == nil {
		offs = regulations.ReminderOffsets(total)
	}
	cv := &clockView{Anchor: anchor.UTC(), Due: due.UTC(), NowX: x(now), Elapsed: x(now),
		NowInside: now.After(*anchor) && now.Before(*due), Length: fmtDuration(total)}
	var marks []string
	for _, off := range offs {
		at := anchor.Add(off)
		cv.Reminders = append(cv.Reminders, clockTick{X: x(at), At: at.UTC(), Label: fmtDuration(off), Passed: !at.After(now)})
		marks = append(marks, fmtDuration(off))
	}
	elapsed := now.Sub(*anchor)
	state := fmtDuration(max(elapsed, 0)) + " elapsed, " + fmtRemaining(due, now)
	cv.Label = fmt.Sprintf("%s clock from %s to %s: %s; reminders at %s", cv.Length, fmtWhenIn(cv.Anchor, loc), fmtWhenIn(cv.Due, loc),
		state, strings.Join(marks, ", "))
	return cv
}

// outboxRows are the caught messages with recipients masked: customer
// notices go to customers, whose addresses stay off the pages. It is never
// nil, so the JSON says [] when nothing was caught.
func outboxRows(msgs []mailcatcher.Message) []mailcatcher.Message {
	if msgs == nil {
		msgs = []mailcatcher.Message{}
	}
	for i := range msgs {
		to := make([]string, len(msgs[i].To))
		for j, a := range msgs[i].To {
			to[j] = maskAddress(a)
		}
		msgs[i].To, msgs[i].Raw = to, nil
	}
	return msgs
}

// outboxMessage is one caught message as the outbox page shows it.
type outboxMessage struct {
	mailcatcher.Message
	Body string // plain-text part, customers' addresses and names hidden
}

// outboxMessages are the outbox page's rows: masked as outboxRows, with
// each plain-text body made safe to show by outboxBody.
func outboxMessages(msgs []mailcatcher.Message) []outboxMessage {
	out := make([]outboxMessage, len(msgs))
	for i, m := range msgs {
		out[i].Body = outboxBody(m)
	}
	for i, m := range outboxRows(msgs) {
		out[i].Message = m
	}
	return out
}

// emailPattern finds address-shaped text in a body.
var emailPattern = regexp.MustCompile(`[^\s<>()\[\]"',;:]+@[^\s<>()\[\]"',;:]+[^\s<>()\[\]"',;:.]`)

// outboxBody is m's plain text with every address but the sender's masked,
// and, in a customer notice, the greeting (the only line that names the
// customer, templates.NoticeInput) replaced. A customer notice is the
// mail that carries Content-Language, as activities/notify sends it.
func outboxBody(m mailcatcher.Message) string {
	text := m.Text()
	from := strings.ToLower(m.From)
	text = emailPattern.ReplaceAllStringFunc(text, func(a string) string {
		if strings.ToLower(a) == from {
			return a
		}
		return maskAddress(a)
	})
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil || msg.Header.Get("Content-Language") == "" {
		return text
	}
	// The notice's text part opens with its title block, a blank line and
	// the greeting line.
	lines := strings.Split(text, "\n")
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i-1]) == "" && strings.TrimSpace(lines[i]) != "" {
			lines[i] = "[greeting with the customer's name hidden]"
			break
		}
	}
	return strings.Join(lines, "\n")
}

// maskAddress keeps the first character and the domain: "c…@example.com".
func maskAddress(a string) string {
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" {
		return "…"
	}
	r := []rune(local)
	return string(r[0]) + "…@" + domain
}

// missingStepFacts lists the facts step of st's pinned playbook requires
// that st does not know yet: the workflow refuses to complete it until
// they are set.
func (s *Server) missingStepFacts(st *breach.Status, step string) []string {
	pb, ok := s.playbooks.Get(st.PlaybookID)
	if !ok || pb.Version != st.PlaybookVersion {
		return nil
	}
	spec, ok := pb.Step(step)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range spec.Requires {
		if fact, ok := breach.LookupFact(r); !ok || !fact.Known(st.Facts) {
			out = append(out, r)
		}
	}
	return out
}
