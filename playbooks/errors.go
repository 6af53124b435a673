package playbooks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a playbook file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`            // 1-based; 0 when unknown
	Field   string `json:"field,omitempty"` // e.g. "steps[3].after[0]"; empty for the whole document
	Message string `json:"message"`
}

// String formats the problem as "file:line: field: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in one or more playbook files.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by file, line and field, and drops repeats
// of a field within a file: the semantic checks run first and word things
// better than the schema, so the first report of a field wins.
func sortProblems(ps []Problem) []Problem {
	seen := make(map[[2]string]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		k := [2]string{p.File, p.Field}
		if p.Field != "" && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Field, b.Field))
	})
	return out
}
