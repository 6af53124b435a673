package store

import (
	"errors"
	"testing"
)

// TestDeadlineLimit checks the LIMIT ListDeadlines sends, which the shared
// suite cannot see without writing more than MaxDeadlineLimit rows.
func TestDeadlineLimit(t *testing.T) {
	s := &SQL{dialect: DialectSQLite}
	for _, tc := range []struct {
		limit, want int
	}{
		{0, DefaultDeadlineLimit},
		{1, 1},
		{MaxDeadlineLimit, MaxDeadlineLimit},
		{MaxDeadlineLimit + 1, MaxDeadlineLimit},
		{1 << 40, MaxDeadlineLimit},
	} {
		_, args, err := s.deadlineQuery(DeadlineFilter{Limit: tc.limit})
		if err != nil {
			t.Fatalf("Limit %d: %v", tc.limit, err)
		}
		if got := args[len(args)-1]; got != tc.want {
			t.Errorf("Limit %d sent LIMIT %v, want %d", tc.limit, got, tc.want)
		}
	}
	if _, _, err := s.deadlineQuery(DeadlineFilter{Limit: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Limit -1: err = %v, want ErrInvalid", err)
	}
}
