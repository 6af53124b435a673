package breach

import "time"

// NoticeClaimLease is how long a claim protects a notice in sending from
// other claimers. A notice still in sending after the lease is taken to
// belong to a crashed batch and ClaimNotices hands it out again, with the
// same Message-ID. It must be longer than a live batch takes between claim
// and marking, or a slow batch and its retry could both send.
const NoticeClaimLease = time.Minute

// NoticeKindCustomer is the kind of the notice every affected customer receives.
const NoticeKindCustomer = "customer"

// NoticePage asks PrepareNotices for the next page of subjects.
type NoticePage struct {
	IncidentID string `json:"incident_id"`
	Kind       string `json:"kind"`
	After      int64  `json:"after"` // subject id cursor
	Limit      int    `json:"limit"` // subjects in the page
	Batch      int    `json:"batch"` // subjects per range
	// Remedy, when set, gives each customer of the page in its scope a
	// code from the pool before any notice of the page is sent.
	Remedy *RemedyScope `json:"remedy,omitempty"`
}

// NoticeRange is the subjects after After up to and including Through;
// Count is how many there were when the range was cut.
type NoticeRange struct {
	After   int64 `json:"after"`
	Through int64 `json:"through"`
	Count   int   `json:"count,omitempty"`
}

// PreparedPage is a page of subjects whose notices exist, cut into ranges.
type PreparedPage struct {
	Ranges  []NoticeRange `json:"ranges"`
	Next    int64         `json:"next"`            // the cursor for the next page
	Done    bool          `json:"done"`            // no subject after this page
	Created int           `json:"created"`         // notices created for this page
	Codes   int           `json:"codes,omitempty"` // remedy codes given for this page
}

// NoticeTally counts an incident's notices of one kind by status.
type NoticeTally struct {
	Pending    int `json:"pending"`
	Sending    int `json:"sending"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Suppressed int `json:"suppressed"`
	Total      int `json:"total"`
}

// NoticeCount is a NoticeTally with the same counts per jurisdiction (the
// customer's subdivision, else country, else "unknown"), so the incident
// can tell which jurisdictions' customers a run reached.
type NoticeCount struct {
	NoticeTally
	Jurisdictions map[string]NoticeTally `json:"jurisdictions,omitempty"`
}

// OutreachTally counts an incident's outreach tasks.
type OutreachTally struct {
	Created int `json:"created"`
	Open    int `json:"open"`
	Done    int `json:"done"`
}

// NoticeBatch is one batch activity: the incident's notices of Kind to
// the subjects in the range. Incident is what the notice says; it holds
// no customer data.
type NoticeBatch struct {
	IncidentID string      `json:"incident_id"`
	Kind       string      `json:"kind"`
	Range      NoticeRange `json:"range"`
	Incident   *Status     `json:"incident"`
}

// BatchResult counts what a batch did.
type BatchResult struct {
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`  // for good (5xx, no address)
	Retried int `json:"retried"` // left pending after a temporary failure
}

// NoticeRun is one send run as the incident records it.
type NoticeRun struct {
	WorkflowID string       `json:"workflow_id"`
	Step       string       `json:"step"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	Result     *NoticeTally `json:"result,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// NoticeRunInProgress is send_notices' refusal while a run is going.
const NoticeRunInProgress = "a notice run is already in progress"

// SendNotices asks for another send run: after more customers were
// imported, or after failed notices were put back to pending.
type SendNotices struct {
	Actor Actor `json:"actor"`
	// Customers counts the incident's customers by notice locale, as the
	// API found them in the store, so the validator can refuse a locale
	// whose texts legal has not written. Nil: the run checks at its start.
	Customers map[string]int `json:"customers,omitempty"`
	// Recount marks a run asked for after letters were printed or a
	// substitute notice decided, so the step can see every customer
	// settled; legal may ask for it as well as a responder.
	Recount bool `json:"recount,omitempty"`
}
