package regulations

import (
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

func defaultRules(t *testing.T) *RuleSet {
	t.Helper()
	rs, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return rs
}

// at parses an RFC 3339 instant (with its offset) for test tables.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func ptr(t time.Time) *time.Time { return &t }

// find returns the obligation with id, failing the test when it is absent.
func find(t *testing.T, obs []breach.Duty, id string) breach.Duty {
	t.Helper()
	for _, o := range obs {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("obligation %q missing; have %v", id, ids(obs))
	return breach.Duty{}
}

func has(obs []breach.Duty, id string) bool {
	return slices.ContainsFunc(obs, func(o breach.Duty) bool { return o.ID == id })
}

func ids(obs []breach.Duty) []string {
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = o.ID
	}
	return out
}

// wantDue checks an obligation's due instant; want "" means no due time.
func wantDue(t *testing.T, o breach.Duty, want string) {
	t.Helper()
	if want == "" {
		if o.DueAt != nil {
			t.Errorf("%s: DueAt = %s, want none", o.ID, o.DueAt.Format(time.RFC3339))
		}
		return
	}
	w := at(t, want)
	if o.DueAt == nil {
		t.Errorf("%s: DueAt = nil, want %s (missing %v)", o.ID, want, o.MissingFacts)
		return
	}
	if !o.DueAt.Equal(w) {
		t.Errorf("%s: DueAt = %s, want %s", o.ID, o.DueAt.UTC().Format(time.RFC3339), w.UTC().Format(time.RFC3339))
	}
}
