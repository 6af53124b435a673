package breach

import (
	"fmt"
	"time"
)

// RemedyScope is a playbook's remedy as a send run carries it: customers
// whose subdivision or country is in Jurisdictions (all when empty) and
// whose tier is in Tiers (all when empty) get one code of Product.
type RemedyScope struct {
	Product       string   `json:"product"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	Tiers         []string `json:"tiers,omitempty"`
}

// RemedyCoverage is how far an incident's code pool covers the customers
// in scope: counts only.
type RemedyCoverage struct {
	InScope  int `json:"in_scope"`
	Assigned int `json:"assigned"`
	Free     int `json:"free"`
}

// Missing is how many codes the pool lacks.
func (c RemedyCoverage) Missing() int { return max(0, c.InScope-c.Assigned-c.Free) }

// RemedyCodesMissing is the message of a send that waits for codes, e.g.
// "100 codes missing: …".
func RemedyCodesMissing(c RemedyCoverage, product string) string {
	return fmt.Sprintf("%d codes missing: %d customers are offered %s and the pool has %d codes for them (%d given, %d free); no notice is sent until legal tops up the pool",
		c.Missing(), c.InScope, product, c.Assigned+c.Free, c.Assigned, c.Free)
}

// RemedyPoolChanged tells the incident that legal added codes to its pool:
// a send that waits for codes tries again.
type RemedyPoolChanged struct {
	Actor Actor `json:"actor"`
	Added int   `json:"added"`
}

// NoticePageTTL is how long a customer's notice-page link works.
const NoticePageTTL = 180 * 24 * time.Hour
