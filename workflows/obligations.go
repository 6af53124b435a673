package workflows

import (
	"context"
	"fmt"
	"sync"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/regulations"
)

// ruleSet is parsed once; it is immutable afterwards.
var ruleSet = sync.OnceValues(regulations.Default)

// EvaluateObligations computes the incident's regulatory duties from its
// facts. It runs as a local activity so that its answer is recorded in
// history: a later change to the rules cannot change the past of a
// running incident on replay.
func EvaluateObligations(_ context.Context, f breach.Facts) ([]breach.Duty, error) {
	rs, err := ruleSet()
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	return rs.Evaluate(f), nil
}
