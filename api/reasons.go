package api

import (
	"context"
	"strings"

	"github.com/breachflow/breachflow/internal/subjects"
)

// Free-text reasons (a returned letter's, a substitute-notice decision's)
// are stored as typed, shown to every member of the incident and written
// to the audit chain, which cannot forget. So a reason must not carry a
// customer's contact data: one holding an email address (what maskReason
// hides in delivery errors) is refused, and a returned letter's reason
// may not quote that customer's name or address either.

// reasonNoPersonalData is the field error of a refused reason.
const reasonNoPersonalData = "must not hold an email address, nor the customer's name or address: say what happened, e.g. \"addressee unknown\""

// reasonQuotes reports whether reason holds an email address or, case
// aside, one of known (a customer's name, address lines, city, postal
// code; those shorter than 4 bytes are too common to tell).
func reasonQuotes(reason string, known ...string) bool {
	if addressPattern.MatchString(reason) {
		return true
	}
	lower := strings.ToLower(reason)
	for _, k := range known {
		if k = strings.ToLower(strings.TrimSpace(k)); len(k) >= 4 && strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// customerContacts opens subject id's name and postal address in memory,
// to check a reason against them; nothing when the subject is not the
// incident's or cannot be opened (the caller's own checks answer that).
func (s *Server) customerContacts(ctx context.Context, incidentID string, id int64) []string {
	if s.keys == nil {
		return nil
	}
	recs, err := s.store.GetSubjects(ctx, []int64{id})
	if err != nil || len(recs) != 1 || recs[0].IncidentID != incidentID {
		return nil
	}
	name, _, err := subjects.Open(recs[0], s.keys)
	if err != nil {
		return nil
	}
	out := []string{name}
	if a, err := subjects.OpenAddress(recs[0], s.keys); err == nil {
		out = append(append(out, a.Lines...), a.City, a.PostalCode)
	}
	return out
}
