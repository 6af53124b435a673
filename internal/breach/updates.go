package breach

import "time"

// Actor is who asks for a change: a token's name and role. Sig is the
// API's signature of the actor for one Update (internal/actorsig); the
// worker refuses an Update whose actor it does not verify.
type Actor struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Sig  string `json:"sig,omitempty"`
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
	// Version, when set, is the notice wording the approver read
	// (NoticeTextsVersion); the decision is refused if it has changed.
	Version string `json:"version,omitempty"`
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

// SetMember adds (Member true) or removes a member of a restricted
// incident: a principal, as the API's authorization names callers (a
// token name, "slack:<user id>" or a staff email). Admins only.
type SetMember struct {
	Actor     Actor  `json:"actor"`
	Principal string `json:"principal"`
	Member    bool   `json:"member"`
}

// OutreachDone records in the audit trail that one outreach call was
// made; the task's note stays in the store (it may name the customer).
type OutreachDone struct {
	Actor Actor `json:"actor"`
	Task  int64 `json:"task"`
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
