package store

import (
	"context"
	"fmt"
	"time"
)

// OpsCounts is what an operator's dashboard gauges: every incident's
// notices by status, open obligations by status, and open obligations
// whose due time has passed (whether or not the workflow has marked them
// overdue yet).
type OpsCounts struct {
	Notices     map[string]int // pending|sending|sent|failed|suppressed → count
	Obligations map[string]int // pending|overdue → count
	PastDue     int
}

// OpsCounts counts the store's notices and open obligations as of now.
func (s *SQL) OpsCounts(ctx context.Context, now time.Time) (OpsCounts, error) {
	out := OpsCounts{Notices: map[string]int{}, Obligations: map[string]int{}}
	for _, g := range []struct {
		query string
		into  map[string]int
	}{
		{`SELECT status, COUNT(*) FROM notices GROUP BY status`, out.Notices},
		{`SELECT status, COUNT(*) FROM obligations WHERE status IN ('pending', 'overdue') GROUP BY status`, out.Obligations},
	} {
		if err := s.groupCount(ctx, g.query, g.into); err != nil {
			return OpsCounts{}, fmt.Errorf("store: ops counts: %w", err)
		}
	}
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM obligations
		WHERE status IN ('pending', 'overdue') AND due_at IS NOT NULL AND due_at <= ?`), s.timeArg(now)).Scan(&out.PastDue)
	if err != nil {
		return OpsCounts{}, fmt.Errorf("store: ops counts: %w", err)
	}
	return out, nil
}

func (s *SQL) groupCount(ctx context.Context, query string, into map[string]int) error {
	rows, err := s.db.QueryContext(ctx, s.q(query))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return rows.Err()
}
