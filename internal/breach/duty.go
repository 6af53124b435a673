package breach

import "time"

// Recipients an obligation can be addressed to.
const (
	RecipientRegulator    = "regulator"
	RecipientSubjects     = "subjects"
	RecipientMedia        = "media"
	RecipientCreditBureau = "credit_bureaus"
	RecipientOther        = "other"
)

// Recipients returns every recipient a duty may be addressed to.
func Recipients() []string {
	return []string{RecipientRegulator, RecipientSubjects, RecipientMedia, RecipientCreditBureau, RecipientOther}
}

// Duty is one notification duty computed from the rules and an incident's facts;
// Obligation adds what legal recorded against it.
type Duty struct {
	ID            string     `json:"id"`      // stable per incident, e.g. "gdpr-art33", "us-ca-ag", "hipaa-media-us-tx"
	RuleID        string     `json:"rule_id"` // the rule (version) that produced it
	Regime        string     `json:"regime"`
	Jurisdiction  string     `json:"jurisdiction"`
	Recipient     string     `json:"recipient"` // regulator|subjects|media|credit_bureaus|other
	RecipientName string     `json:"recipient_name"`
	Anchor        string     `json:"anchor"` // fact name, or "filed.<obligation id>" for phased reports
	AnchorAt      *time.Time `json:"anchor_at,omitempty"`
	DueAt         *time.Time `json:"due_at,omitempty"` // nil: a needed fact is missing, the duty is exempt, or there is no fixed limit
	Standard      string     `json:"standard,omitempty"`
	Deadline      string     `json:"deadline"`
	Phase         string     `json:"phase,omitempty"`
	After         string     `json:"after,omitempty"`
	RestsOn       []string   `json:"rests_on"`
	MissingFacts  []string   `json:"missing_facts,omitempty"`
	ContentFields []string   `json:"content_fields,omitempty"`
	// ReportFacts are the facts the regulator's form asks for, and
	// ReportQuestions what else it asks that no fact answers.
	ReportFacts            []string `json:"report_facts,omitempty"`
	ReportQuestions        []string `json:"report_questions,omitempty"`
	NeedsLegalConfirmation bool     `json:"needs_legal_confirmation,omitempty"`
	Exempt                 bool     `json:"exempt,omitempty"` // an exemption applies (reason in Note); kept for the record
	Source                 string   `json:"source"`           // space-separated URLs
	Note                   string   `json:"note,omitempty"`
}
