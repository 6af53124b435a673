package activities

import (
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// The incident room is where people work an incident in a chat tool
// (Slack). The Incident workflow drives it through two activities of
// activities/slack: SyncIncidentRoom brings the room up to date with a
// Room (creates the channel on first call, then updates the header card
// and one card per step in place; the same Room twice changes nothing),
// and PostRoomNotice posts a reminder, escalation or overdue notice in the
// thread of the header card and by direct message to the roles named
// (idempotent by Key). A worker registers them only when Slack is
// configured; one without them never receives them, because the workflow
// calls them only for incidents launched with the room on.

// Room is what the incident room shows. It is built from the workflow's
// state and holds no customer data: counts only.
type Room struct {
	IncidentID   string     `json:"incident_id"`
	Title        string     `json:"title"`
	Severity     string     `json:"severity"`
	Status       string     `json:"status"` // active | closed
	Phase        string     `json:"phase"`
	PlaybookID   string     `json:"playbook_id"`
	LaunchedBy   string     `json:"launched_by"`
	LaunchedAt   time.Time  `json:"launched_at"`
	NextDeadline *time.Time `json:"next_deadline,omitempty"`
	// NextDeadlineName names the duty behind NextDeadline, e.g. "GDPR Art. 33 to the lead supervisory authority".
	NextDeadlineName string     `json:"next_deadline_name,omitempty"`
	Steps            []RoomStep `json:"steps"`
	// OpenObligations counts the regulatory duties still pending or overdue.
	OpenObligations int `json:"open_obligations"`
	Overdue         int `json:"overdue"`
	// Members are the principals of a restricted incident (token names,
	// "slack:<user id>", staff emails). An unrestricted room invites them
	// and everyone configured with a role; a restricted room invites
	// only them, on every sync, so a member added later is brought in.
	Members    []string `json:"members,omitempty"`
	Restricted bool     `json:"restricted,omitempty"`
	// AsOf is the workflow time of this picture; a card never goes back
	// to an older picture than the one it shows.
	AsOf time.Time `json:"as_of"`
}

// RoomStep is one playbook step as its card shows it.
type RoomStep struct {
	ID      string     `json:"id"`
	Title   string     `json:"title"`
	Kind    string     `json:"kind"`  // playbook step kind; approval steps get Approve/Reject
	Owner   string     `json:"owner"` // role
	State   string     `json:"state"` // pending | ready | done | skipped | rejected
	DueAt   *time.Time `json:"due_at,omitempty"`
	DoneBy  string     `json:"done_by,omitempty"`
	AckedBy string     `json:"acked_by,omitempty"`
	Note    string     `json:"note,omitempty"`
	// Approvals names who approved an approval step that needs several
	// people, in order; Needs says who is still needed ("1 more: legal").
	Approvals []string `json:"approvals,omitempty"`
	Needs     string   `json:"needs,omitempty"`
	// Waiting says why a ready step is held up ("100 codes missing: …").
	Waiting string `json:"waiting,omitempty"`
}

// Kinds of the room notices about the remedy-code pool, which have no
// deadline: short before sending starts, then covered.
const (
	RoomNoticeRemedyShort   = "remedy_short"
	RoomNoticeRemedyCovered = "remedy_covered"
)

// RoomNotice is one reminder, escalation or overdue notice, or a word on
// the remedy-code pool (short before sending starts, then covered).
type RoomNotice struct {
	IncidentID string    `json:"incident_id"`
	Key        string    `json:"key"`  // unique per notice; a retry with the same key posts nothing new
	Kind       string    `json:"kind"` // reminder | escalation | overdue | remedy_short | remedy_covered
	Subject    string    `json:"subject"`
	DueAt      time.Time `json:"due_at"` // zero for notices without a deadline (the remedy pool's)
	Now        time.Time `json:"now"`
	Roles      []string  `json:"roles"` // who is told by direct message
	// Restricted incidents tell only those of Roles who are Members
	// (principals: "slack:<user id>" or the email a user is mapped by).
	Restricted bool     `json:"restricted,omitempty"`
	Members    []string `json:"members,omitempty"`
}

// AddObligations counts the open duties into the room's picture and names
// the soonest deadline.
func (r *Room) AddObligations(obs []breach.Obligation) {
	for _, o := range obs {
		if o.Status != breach.ObligationPending && o.Status != breach.ObligationOverdue {
			continue
		}
		r.OpenObligations++
		if o.Status == breach.ObligationOverdue {
			r.Overdue++
		}
		if o.DueAt != nil && (r.NextDeadline == nil || o.DueAt.Before(*r.NextDeadline)) {
			t := *o.DueAt
			r.NextDeadline, r.NextDeadlineName = &t, o.Regime+" to "+o.RecipientName
		}
	}
}
