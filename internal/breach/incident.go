package breach

import (
	"fmt"
	"strings"
	"time"
)

// Incident statuses.
const (
	StatusActive = "active"
	StatusClosed = "closed"
)

// Severities, lowest first.
var Severities = []string{"low", "medium", "high", "critical"}

// Obligation states.
const (
	ObligationPending = "pending"
	ObligationOverdue = "overdue"
	ObligationFiled   = "filed"
	ObligationWaived  = "waived"
)

// Obligation is one regulatory duty with its clock and its record.
type Obligation struct {
	Duty
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
	// ReportsAs is what the step stands for in regulator reports and
	// notices (containment, assessment, ...); the workflow fills it from
	// the pinned playbook in every status it returns.
	ReportsAs string `json:"reports_as,omitempty"`
	// Waiting says why a ready customer_notices step sends nothing yet,
	// e.g. "100 codes missing: …"; empty when it is not held up.
	Waiting string `json:"waiting,omitempty"`
	// Approvals are the approvals an approval step with a quorum has
	// gathered so far, in order; a rejection clears them.
	Approvals []Approval `json:"approvals,omitempty"`
	// Needs says who must still approve a ready approval step; the
	// workflow fills it from the pinned playbook in every status.
	Needs *ApprovalNeeds `json:"needs,omitempty"`
	// ApprovedVersion is the notice wording (NoticeTextsVersion) the
	// approval of the customer notice released; a change of wording
	// after it reopens the step.
	ApprovedVersion string `json:"approved_version,omitempty"`
}

// Approval is one person's approval of a step that needs several.
type Approval struct {
	By   string    `json:"by"`
	Role string    `json:"role"`
	At   time.Time `json:"at"`
	// Version is the notice wording (NoticeTextsVersion) an approval of
	// the customer notice was given to; empty for other steps.
	Version string `json:"version,omitempty"`
}

// ApprovalNeeds is what an approval step still waits for: Count more
// approvals by distinct people holding one of Roles, and never by those
// listed in Excluded (who approved already, or the launcher when the
// playbook excludes them).
type ApprovalNeeds struct {
	Quorum   int      `json:"quorum"`
	Count    int      `json:"count"`
	Roles    []string `json:"roles"`
	Excluded []string `json:"excluded,omitempty"`
}

// DescribeNeeds says who is still needed, for people: "1 more approval
// (legal), not by lena or rita".
func DescribeNeeds(n ApprovalNeeds) string {
	word := "approvals"
	if n.Count == 1 {
		word = "approval"
	}
	out := fmt.Sprintf("%d more %s (%s)", n.Count, word, strings.Join(n.Roles, " or "))
	if len(n.Excluded) > 0 {
		out += ", not by " + strings.Join(n.Excluded, " or ")
	}
	return out
}

// SecondApproverNeeded is the start of the refusal a second approval by
// the same person gets; clients show it as is.
const SecondApproverNeeded = "needs a second approver"

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
	// Members of a restricted incident: principals who may see and act on it.
	Members  []string   `json:"members,omitempty"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	Runs     int        `json:"runs"`
	// Notices are the customer-notice send runs the workflow started.
	Notices []NoticeRun `json:"notice_runs,omitempty"`
	// NoticeTexts are legal's texts of the customer notice, by locale.
	NoticeTexts map[string]NoticeText `json:"notice_texts,omitempty"`
	// NoticeVersion is the version of NoticeTexts (NoticeTextsVersion):
	// what an approval of the notice approves.
	NoticeVersion string `json:"notice_version,omitempty"`
	// AuditHead is the last audit event the workflow wrote, as the store
	// answered it: the checkpoint against which the chain is verified.
	AuditHead *AuditHead `json:"audit_head,omitempty"`
}

// AuditHead is the last event of an incident's audit chain as someone
// outside the store recorded it — the incident workflow checkpoints it
// after every append — so that removing events from the end is detected.
type AuditHead struct {
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	MAC   string `json:"mac,omitempty"`
	KeyID string `json:"key_id,omitempty"`
}
