// Package workflows holds breachflow's Temporal workflows: Incident, the
// playbook interpreter that also runs every regulatory clock, and the
// names and types its callers (the API, the CLI, the worker) share.
package workflows

import (
	"time"

	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/regulations"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is where Incident workflows and their activities run.
const TaskQueue = "breachflow"

// Query and Update names of the Incident workflow.
const (
	QueryStatus = "status"
)

// Typed search attributes; none may hold personal data.
var (
	SearchStatus       = temporal.NewSearchAttributeKeyKeyword("BreachStatus")
	SearchSeverity     = temporal.NewSearchAttributeKeyKeyword("BreachSeverity")
	SearchPlaybook     = temporal.NewSearchAttributeKeyKeyword("BreachPlaybook")
	SearchNextDeadline = temporal.NewSearchAttributeKeyTime("BreachNextDeadline")
)

// SearchAttributes lists the custom search attributes a namespace needs.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SearchStatus.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchSeverity.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchPlaybook.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchNextDeadline.GetName(): enumspb.INDEXED_VALUE_TYPE_DATETIME,
	}
}

// IncidentWorkflowID is the workflow id of incident id.
func IncidentWorkflowID(id string) string { return "incident/" + id }

// Incident statuses.
const (
	StatusActive = "active"
	StatusClosed = "closed"
)

// Severities, lowest first.
var Severities = []string{"low", "medium", "high", "critical"}

// Facts are what the incident knows about the breach; the regulatory
// clocks are computed from them. They never name a person.
type Facts = regulations.Facts

// IncidentInput starts an Incident workflow. Fields may be added; none
// may be removed or change meaning while incidents run.
type IncidentInput struct {
	ID              string    `json:"id"`
	Title           string    `json:"title"`
	Summary         string    `json:"summary,omitempty"`
	Severity        string    `json:"severity"`
	PlaybookID      string    `json:"playbook"`
	PlaybookVersion int       `json:"playbook_version"`
	ExternalRef     string    `json:"external_ref,omitempty"`
	Facts           Facts     `json:"facts"`
	LaunchedBy      string    `json:"launched_by"`
	LaunchedAt      time.Time `json:"launched_at"`
	// Playbook is the pinned playbook itself, so editing the file later
	// never changes a running incident.
	Playbook *playbooks.Playbook `json:"playbook_spec,omitempty"`
	// Restricted incidents accept actions only from Members (and admins).
	Restricted bool     `json:"restricted,omitempty"`
	Members    []string `json:"members,omitempty"`
	// Room names the chat tool that hosts the incident room ("slack"), or
	// is empty when the room is off; set at launch from the configuration.
	Room string `json:"room,omitempty"`
	// Carry is the state handed over by continue-as-new.
	Carry *Carry `json:"carry,omitempty"`
}

// IncidentResult is what a closed Incident workflow returns.
type IncidentResult struct {
	ID       string    `json:"id"`
	ClosedAt time.Time `json:"closed_at"`
}

// Obligation states.
const (
	ObligationPending = "pending"
	ObligationOverdue = "overdue"
	ObligationFiled   = "filed"
	ObligationWaived  = "waived"
)

// Obligation is one regulatory duty with its clock and its record.
type Obligation struct {
	regulations.Obligation
	Status      string     `json:"status"`
	FiledAt     *time.Time `json:"filed_at,omitempty"`
	FiledBy     string     `json:"filed_by,omitempty"`
	Reference   string     `json:"reference,omitempty"`
	FilingNote  string     `json:"filing_note,omitempty"`
	DelayReason string     `json:"delay_reason,omitempty"`
	WaivedBy    string     `json:"waived_by,omitempty"`
	WaiveReason string     `json:"waive_reason,omitempty"`
	Reminded    int        `json:"reminded"`
	Escalated   int        `json:"escalated"`
	// Supplements are follow-up reports linked to the initial filing
	// (GDPR Art. 33(4) phased reporting, 8-K/A, ANPD supplements).
	Supplements []Filing `json:"supplements,omitempty"`
}

// Filing is one report sent to a regulator or audience.
type Filing struct {
	FiledAt   time.Time `json:"filed_at"`
	FiledBy   string    `json:"filed_by"`
	Reference string    `json:"reference,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// Step states.
const (
	StepPending  = "pending"
	StepReady    = "ready"
	StepDone     = "done"
	StepSkipped  = "skipped"
	StepRejected = "rejected"
)

// StepState is one playbook step's progress.
type StepState struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Kind         string     `json:"kind"`
	Owner        string     `json:"owner"`
	State        string     `json:"state"`
	After        []string   `json:"after,omitempty"`
	Optional     bool       `json:"optional,omitempty"`
	ReadyAt      *time.Time `json:"ready_at,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	DoneAt       *time.Time `json:"done_at,omitempty"`
	DoneBy       string     `json:"done_by,omitempty"`
	Note         string     `json:"note,omitempty"`
	Evidence     []string   `json:"evidence,omitempty"`
	Decision     string     `json:"decision,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	Reminded     int        `json:"reminded"`
	Escalated    int        `json:"escalated"`
	ActionResult string     `json:"action_result,omitempty"`
	AckedBy      string     `json:"acked_by,omitempty"`
	AckedAt      *time.Time `json:"acked_at,omitempty"`
	// Outreach counts the personal calls of an outreach step, once its
	// tasks are opened.
	Outreach *OutreachTally `json:"outreach,omitempty"`
}

// Remediation is one tracked remediation item.
type Remediation struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Owner    string     `json:"owner,omitempty"`
	DueAt    *time.Time `json:"due_at,omitempty"`
	Status   string     `json:"status"`
	Evidence string     `json:"evidence,omitempty"`
	AddedBy  string     `json:"added_by"`
	DoneAt   *time.Time `json:"done_at,omitempty"`
	DoneBy   string     `json:"done_by,omitempty"`
}

// Carry is the state an incident hands to its next run.
type Carry struct {
	Facts        Facts           `json:"facts"`
	Severity     string          `json:"severity"`
	Steps        []StepState     `json:"steps"`
	Obligations  []Obligation    `json:"obligations"`
	Remediations []Remediation   `json:"remediations"`
	Timeline     []TimelineEntry `json:"timeline"`
	AuditSeq     int             `json:"audit_seq"`
	Runs         int             `json:"runs"`
	Notices      []NoticeRun     `json:"notices,omitempty"`
}

// Update names of the Incident workflow.
const (
	UpdateCompleteStep        = "complete_step"
	UpdateDecide              = "decide"
	UpdatePatchFacts          = "patch_facts"
	UpdateAddRemediation      = "add_remediation"
	UpdateCompleteRemediation = "complete_remediation"
	UpdateFileObligation      = "file_obligation"
	UpdateWaiveObligation     = "waive_obligation"
	UpdateClose               = "close"
	UpdateAcknowledge         = "acknowledge"
	UpdateSendNotices         = "send_notices"
)

// Actor is who asks for a change: a token's name and role.
type Actor struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// CompleteStep completes a step.
type CompleteStep struct {
	Actor    Actor    `json:"actor"`
	Step     string   `json:"step"`
	Note     string   `json:"note,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// Acknowledge records that someone has seen a ready step and is on it.
type Acknowledge struct {
	Actor Actor  `json:"actor"`
	Step  string `json:"step"`
}

// Decide approves or rejects an approval step.
type Decide struct {
	Actor    Actor  `json:"actor"`
	Step     string `json:"step"`
	Decision string `json:"decision"` // approve | reject
	Reason   string `json:"reason,omitempty"`
}

// PatchFacts changes facts; nil fields stay as they are.
type PatchFacts struct {
	Actor    Actor  `json:"actor"`
	Severity string `json:"severity,omitempty"`
	Facts    Facts  `json:"facts"`
	// Set names the fact fields present in the request, so a zero value
	// can be told from an absent one.
	Set []string `json:"set"`
}

// AddRemediation adds a remediation item.
type AddRemediation struct {
	Actor Actor      `json:"actor"`
	Title string     `json:"title"`
	Owner string     `json:"owner,omitempty"`
	DueAt *time.Time `json:"due_at,omitempty"`
}

// CompleteRemediation marks a remediation item done.
type CompleteRemediation struct {
	Actor    Actor  `json:"actor"`
	ID       string `json:"id"`
	Evidence string `json:"evidence,omitempty"`
}

// FileObligation records a filing with a regulator or audience.
type FileObligation struct {
	Actor       Actor     `json:"actor"`
	Obligation  string    `json:"obligation"`
	FiledAt     time.Time `json:"filed_at"`
	Reference   string    `json:"reference,omitempty"`
	Note        string    `json:"note,omitempty"`
	DelayReason string    `json:"delay_reason,omitempty"`
	// Supplement adds a follow-up report to an obligation already filed.
	Supplement bool `json:"supplement,omitempty"`
}

// WaiveObligation records why a duty is not being met by filing.
type WaiveObligation struct {
	Actor      Actor  `json:"actor"`
	Obligation string `json:"obligation"`
	Reason     string `json:"reason"`
}

// CloseIncident closes the incident.
type CloseIncident struct {
	Actor Actor  `json:"actor"`
	Note  string `json:"note,omitempty"`
}

// Error types carried by rejected Updates; the API maps them to HTTP.
const (
	ErrForbidden = "Forbidden"
	ErrNotFound  = "NotFound"
	ErrConflict  = "Conflict"
	ErrInvalid   = "Invalid"
	ErrBlocked   = "Blocked"
)

// TimelineEntry is one thing that happened, and who did it.
type TimelineEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Note   string    `json:"note,omitempty"`
}

// Status is the answer to the status query and the body of
// GET /v1/incidents/{id}.
type Status struct {
	ID              string          `json:"id"`
	Title           string          `json:"title"`
	Summary         string          `json:"summary,omitempty"`
	Severity        string          `json:"severity"`
	Status          string          `json:"status"`
	Phase           string          `json:"phase"`
	PlaybookID      string          `json:"playbook"`
	PlaybookVersion int             `json:"playbook_version"`
	ExternalRef     string          `json:"external_ref,omitempty"`
	LaunchedBy      string          `json:"launched_by"`
	LaunchedAt      time.Time       `json:"launched_at"`
	Facts           Facts           `json:"facts"`
	NextDeadline    *time.Time      `json:"next_deadline,omitempty"`
	Obligations     []Obligation    `json:"obligations"`
	Steps           []StepState     `json:"steps"`
	Remediations    []Remediation   `json:"remediations"`
	Timeline        []TimelineEntry `json:"timeline"`
	Restricted      bool            `json:"restricted,omitempty"`
	ClosedAt        *time.Time      `json:"closed_at,omitempty"`
	Runs            int             `json:"runs"`
	// Notices are the customer-notice send runs the workflow started.
	Notices []NoticeRun `json:"notice_runs,omitempty"`
}
