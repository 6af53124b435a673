// Package workflows holds breachflow's Temporal workflows: Incident, the
// playbook interpreter that also runs every regulatory clock, and the
// names and types its callers (the API, the CLI, the worker) share.
package workflows

import (
	"time"

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
type Facts struct {
	AwareAt         time.Time      `json:"aware_at"`
	OccurredAt      *time.Time     `json:"occurred_at,omitempty"`
	DiscoveredAt    *time.Time     `json:"discovered_at,omitempty"`
	DeterminedAt    *time.Time     `json:"determined_at,omitempty"`
	AssessedAt      *time.Time     `json:"assessed_at,omitempty"`
	MaterialityAt   *time.Time     `json:"materiality_at,omitempty"`
	ClassifiedAt    *time.Time     `json:"classified_at,omitempty"`
	ExtortionPaidAt *time.Time     `json:"extortion_paid_at,omitempty"`
	DataCategories  []string       `json:"data_categories,omitempty"`
	Jurisdictions   []string       `json:"jurisdictions,omitempty"`
	Affected        map[string]int `json:"affected,omitempty"`
	Risk            string         `json:"risk,omitempty"`
	Flags           []string       `json:"flags,omitempty"`
}

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

// Obligation is one regulatory duty with its clock.
type Obligation struct {
	ID           string     `json:"id"`
	Regime       string     `json:"regime"`
	Jurisdiction string     `json:"jurisdiction"`
	Recipient    string     `json:"recipient"`
	Anchor       string     `json:"anchor"`
	AnchorAt     *time.Time `json:"anchor_at,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Standard     string     `json:"standard,omitempty"`
	Deadline     string     `json:"deadline,omitempty"`
	Status       string     `json:"status"`
	MissingFacts []string   `json:"missing_facts,omitempty"`
	Source       string     `json:"source,omitempty"`
}

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
	Timeline        []TimelineEntry `json:"timeline"`
}
