package activities

import (
	"context"
	"fmt"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
)

// CountLetters counts the customers who still wait for a letter, so the
// customer_notices step stays open until they are printed (or covered by
// substitute notice). Counts only: no subject crosses into the workflow.
func (a *Activities) CountLetters(ctx context.Context, incidentID string) (*breach.LetterCount, error) {
	waiting, err := a.Store.LetterCandidates(ctx, incidentID)
	if err != nil {
		return nil, fmt.Errorf("count letters: %w", err)
	}
	counts, err := a.Store.NoticeCounts(ctx, incidentID, store.NoticeKindLetter)
	if err != nil {
		return nil, fmt.Errorf("count letters: %w", err)
	}
	out := &breach.LetterCount{Waiting: len(waiting)}
	for _, byStatus := range counts {
		out.Pending += byStatus[store.NoticePending]
	}
	return out, nil
}
