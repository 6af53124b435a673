// Package workflows holds breachflow's Temporal workflows: Incident, the
// playbook interpreter that also runs every regulatory clock, and the
// names and types its callers (the API, the CLI, the worker) share.
package workflows

import (
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"

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

// IncidentInput starts an Incident workflow. Fields may be added; none
// may be removed or change meaning while incidents run.
type IncidentInput struct {
	ID              string       `json:"id"`
	Title           string       `json:"title"`
	Summary         string       `json:"summary,omitempty"`
	Severity        string       `json:"severity"`
	PlaybookID      string       `json:"playbook"`
	PlaybookVersion int          `json:"playbook_version"`
	ExternalRef     string       `json:"external_ref,omitempty"`
	Facts           breach.Facts `json:"facts"`
	LaunchedBy      string       `json:"launched_by"`
	LaunchedAt      time.Time    `json:"launched_at"`
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

// Carry is the state an incident hands to its next run.
type Carry struct {
	Facts        breach.Facts                 `json:"facts"`
	Severity     string                       `json:"severity"`
	Steps        []breach.StepState           `json:"steps"`
	Obligations  []breach.Obligation          `json:"obligations"`
	Remediations []breach.Remediation         `json:"remediations"`
	Timeline     []breach.TimelineEntry       `json:"timeline"`
	AuditSeq     int                          `json:"audit_seq"`
	Runs         int                          `json:"runs"`
	Notices      []breach.NoticeRun           `json:"notices,omitempty"`
	NoticeTexts  map[string]breach.NoticeText `json:"notice_texts,omitempty"`
	AuditHead    *breach.AuditHead            `json:"audit_head,omitempty"`
	// RemedyShortTold is how many remedy codes the room was last told
	// are missing (0: none, or the shortage was covered since).
	RemedyShortTold int `json:"remedy_short_told,omitempty"`
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
	UpdateSetNoticeText       = "set_notice_text"
	UpdateSetMember           = "set_member"
	UpdateOutreachDone        = "outreach_done"
	// UpdateRemedyPoolChanged tells the incident legal added remedy codes:
	// a send waiting for codes tries again.
	UpdateRemedyPoolChanged = "remedy_pool_changed"
	// UpdateLaunch takes no input and answers the first settled status;
	// it is sent together with the start of the workflow.
	UpdateLaunch = "launch"
)
