package store

// DeadlineQuery and IncidentListQuery are the SQL ListDeadlines and
// ListIncidents send, for the query-plan tests in package store_test.
func (s *SQL) DeadlineQuery(f DeadlineFilter) (string, []any, error) { return s.deadlineQuery(f) }

func (s *SQL) IncidentListQuery(f IncidentFilter) (string, []any, error) {
	return s.incidentListQuery(f)
}
