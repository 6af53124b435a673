package playbooks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// maxVersion bounds versions so they fit every integer type they pass through.
const maxVersion = 1_000_000_000

var (
	// playbookIDRE is the pattern of playbook ids: kebab-case, as in URLs.
	playbookIDRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	// stepIDRE is the pattern of step ids, which also appear in URLs.
	stepIDRE = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

// checkDurations validates every duration in the document and replaces bad
// ones by "0s", so decoding into Playbook (whose Duration refuses bad text)
// still succeeds and the other checks can run.
func (t *tree) checkDurations(doc any) {
	root, ok := doc.(map[string]any)
	if !ok {
		return
	}
	t.durationList(root, "reminders", "")
	t.durationList(root, "clock_reminders", "")
	if esc, ok := root["escalation"].(map[string]any); ok {
		t.duration(esc, "every", "escalation")
	}
	steps, _ := root["steps"].([]any)
	for i, s := range steps {
		step, ok := s.(map[string]any)
		if !ok {
			continue
		}
		path := joinIndex("steps", i)
		if due, ok := step["due"].(map[string]any); ok {
			t.duration(due, "after", joinKey(path, "due"))
		}
		t.durationList(step, "reminders", path)
		if esc, ok := step["escalation"].(map[string]any); ok {
			t.duration(esc, "every", joinKey(path, "escalation"))
		}
		t.duration(step, "hold", path)
	}
}

// durationList checks obj[key] when it is a list of durations.
func (t *tree) durationList(obj map[string]any, key, path string) {
	list, ok := obj[key].([]any)
	if !ok {
		return
	}
	field := joinKey(path, key)
	for i, v := range list {
		if bad := t.badDuration(v, joinIndex(field, i)); bad {
			list[i] = "0s"
		}
	}
}

// duration checks obj[key] when present.
func (t *tree) duration(obj map[string]any, key, path string) {
	v, ok := obj[key]
	if !ok || v == nil {
		return
	}
	if t.badDuration(v, joinKey(path, key)) {
		obj[key] = "0s"
	}
}

// badDuration reports (and records) whether v is not a positive duration.
func (t *tree) badDuration(v any, field string) bool {
	s, ok := v.(string)
	if !ok {
		t.add(t.line(field), field, `bad duration %v: want a string such as "90m", "4h", "3d" or "1w"`, v)
		return true
	}
	d, err := ParseDuration(s)
	if err != nil {
		t.add(t.line(field), field, "bad duration %q: %s", s, strings.TrimPrefix(err.Error(), fmt.Sprintf("parse duration %q: ", s)))
		return true
	}
	if d <= 0 {
		t.add(t.line(field), field, "bad duration %q: must be longer than zero", s)
		return true
	}
	return false
}

// checkSemantics applies the rules the schema cannot express. Enumerated
// values are checked here too, with friendlier messages than the schema's;
// empty values are left to the schema, which knows whether they were
// missing or of the wrong type.
func (t *tree) checkSemantics(p *Playbook) {
	if p.ID != "" && !playbookIDRE.MatchString(p.ID) {
		t.add(t.line("id"), "id", "bad playbook id %q: use lowercase letters, digits and single dashes", p.ID)
	}
	for i, r := range p.ClockReminders {
		f := joinIndex("clock_reminders", i)
		switch {
		case r.D() >= 72*time.Hour:
			t.add(t.line(f), f, "clock reminders are points elapsed on a 72h clock: %s is not before 72h", r)
		case i > 0 && r.D() <= p.ClockReminders[i-1].D():
			t.add(t.line(f), f, "clock reminders must ascend: %s does not come after %s", r, p.ClockReminders[i-1])
		}
	}
	switch v := t.values["version"].(type) {
	case int:
		if v < 1 {
			t.add(t.line("version"), "version", "version must be 1 or more, got %d", v)
		}
	case float64, uint64:
		if p.Version < 1 {
			t.add(t.line("version"), "version", "version must be a whole number from 1 to %d, got %v", maxVersion, v)
		}
	}
	t.checkEscalation(p.Escalation, "escalation")
	if tr := p.Tiering; tr != nil && t.has("tiering.medium_annual_value") && tr.MediumAnnualValue > tr.HighAnnualValue {
		t.add(t.line("tiering.medium_annual_value"), "tiering.medium_annual_value",
			"medium_annual_value %v is above high_annual_value %v", tr.MediumAnnualValue, tr.HighAnnualValue)
	}

	t.checkRemedy(p.Remedy)

	index := make(map[string]int, len(p.Steps))
	for i, s := range p.Steps {
		if s.ID == "" {
			continue
		}
		field := joinKey(joinIndex("steps", i), "id")
		if first, dup := index[s.ID]; dup {
			t.add(t.line(field), field, "duplicate step id %q (first used at line %d)", s.ID, t.line(joinKey(joinIndex("steps", first), "id")))
			continue
		}
		index[s.ID] = i
		if !stepIDRE.MatchString(s.ID) {
			t.add(t.line(field), field, "bad step id %q: use lowercase letters, digits, _ and -", s.ID)
		}
	}
	for i := range p.Steps {
		t.checkStep(p, i, index)
	}
	t.checkCycles(p, index)
}

// checkStep applies the per-step rules.
func (t *tree) checkStep(p *Playbook, i int, index map[string]int) {
	s := &p.Steps[i]
	path := joinIndex("steps", i)
	at := func(field string) (int, string) {
		f := joinKey(path, field)
		return t.line(f), f
	}
	if s.Kind != "" && !slices.Contains(Kinds(), s.Kind) {
		line, f := at("kind")
		t.add(line, f, "unknown step kind %q (want one of %s)", s.Kind, strings.Join(Kinds(), ", "))
	}
	if s.Owner != "" && !slices.Contains(Roles(), s.Owner) {
		line, f := at("owner")
		t.add(line, f, "unknown role %q (want one of %s)", s.Owner, strings.Join(Roles(), ", "))
	}
	seen := map[string]bool{}
	for j, dep := range s.After {
		f := joinIndex(joinKey(path, "after"), j)
		switch _, known := index[dep]; {
		case dep == "":
		case dep == s.ID:
			t.add(t.line(f), f, "step %q cannot come after itself", dep)
		case !known:
			t.add(t.line(f), f, "unknown step %q", dep)
		case seen[dep]:
			t.add(t.line(f), f, "step %q is listed twice", dep)
		}
		seen[dep] = true
	}
	for j, c := range s.When {
		cpath := joinIndex(joinKey(path, "when"), j)
		if len(c.Risk) == 0 && c.Duty == "" && c.Flag == "" && t.has(cpath) {
			t.add(t.line(cpath), cpath, "a clause must set risk, duty or flag")
		}
		for k, r := range c.Risk {
			if r != "" && !slices.Contains(breach.RiskLevels(), r) {
				f := joinIndex(joinKey(cpath, "risk"), k)
				t.add(t.line(f), f, "unknown risk level %q (want one of %s)", r, strings.Join(breach.RiskLevels(), ", "))
			}
		}
		if c.Duty != "" && !slices.Contains(breach.Recipients(), c.Duty) {
			f := joinKey(cpath, "duty")
			t.add(t.line(f), f, "unknown duty recipient %q (want one of %s)", c.Duty, strings.Join(breach.Recipients(), ", "))
		}
		if c.Flag != "" && !slices.Contains(breach.FlagNames(), c.Flag) {
			f := joinKey(cpath, "flag")
			t.add(t.line(f), f, "unknown flag %q (want one of %s)", c.Flag, strings.Join(breach.FlagNames(), ", "))
		}
	}
	if s.ReportsAs != "" && !slices.Contains(ReportRoles(), s.ReportsAs) {
		line, f := at("reports_as")
		t.add(line, f, "unknown reports_as %q (want one of %s)", s.ReportsAs, strings.Join(ReportRoles(), ", "))
	}
	if s.Due != nil && s.Due.From != "" && !slices.Contains(Anchors(), s.Due.From) {
		line, f := at("due.from")
		t.add(line, f, "unknown due anchor %q (want one of %s)", s.Due.From, strings.Join(Anchors(), ", "))
	}
	if s.Due == nil && len(s.Reminders) > 0 {
		line, f := at("reminders")
		t.add(line, f, "reminders count back from a due time, and this step has no due")
	}
	if s.Due == nil && s.Escalation != nil {
		line, f := at("escalation")
		t.add(line, f, "escalation starts at the due time, and this step has no due")
	}
	t.checkEscalation(s.Escalation, joinKey(path, "escalation"))
	switch {
	case s.Kind == KindAction && s.Action == "":
		line, f := t.line(path), joinKey(path, "action")
		t.add(line, f, "a step of kind action needs an action (the containment webhook to call)")
	case s.Kind != KindAction && s.Action != "" && s.Kind != "":
		line, f := at("action")
		t.add(line, f, "only steps of kind action take an action (this one is %s)", s.Kind)
	}
	for j, r := range s.Requires {
		if _, known := breach.LookupFact(r); r != "" && !known {
			f := joinIndex(joinKey(path, "requires"), j)
			t.add(t.line(f), f, "unknown fact %q (want one of %s)", r, strings.Join(breach.FactNames("", true), ", "))
		}
	}
	if len(s.OnReject) > 0 {
		if s.Kind != KindApproval && s.Kind != "" {
			line, f := at("on_reject")
			t.add(line, f, "only steps of kind approval take on_reject (this one is %s)", s.Kind)
		} else {
			before := ancestors(p, s.ID, index)
			for j, id := range s.OnReject {
				f := joinIndex(joinKey(path, "on_reject"), j)
				switch _, known := index[id]; {
				case id == "":
				case !known:
					t.add(t.line(f), f, "unknown step %q", id)
				case !before[id]:
					t.add(t.line(f), f, "step %q does not come before this approval (through after), so it cannot be reopened by it", id)
				}
			}
		}
	}
	t.checkQuorum(s, path)
	if s.Hold != nil && s.Kind != KindOutreach && s.Kind != "" {
		line, f := at("hold")
		t.add(line, f, "only steps of kind outreach take a hold (this one is %s)", s.Kind)
	}
}

// checkQuorum checks the two-person control fields of an approval step.
func (t *tree) checkQuorum(s *Step, path string) {
	at := func(field string) (int, string) {
		f := joinKey(path, field)
		return t.line(f), f
	}
	if s.Kind != KindApproval && s.Kind != "" {
		for _, field := range []string{"quorum", "approvers", "exclude_launcher"} {
			if t.has(joinKey(path, field)) {
				line, f := at(field)
				t.add(line, f, "only steps of kind approval take %s (this one is %s)", field, s.Kind)
			}
		}
		return
	}
	if t.has(joinKey(path, "quorum")) && (s.Quorum < 1 || s.Quorum > MaxQuorum) {
		line, f := at("quorum")
		t.add(line, f, "quorum must be between 1 and %d distinct approvers", MaxQuorum)
	}
	seen := map[string]bool{}
	for j, r := range s.Approvers {
		f := joinIndex(joinKey(path, "approvers"), j)
		switch {
		case !slices.Contains(Roles(), r):
			t.add(t.line(f), f, "unknown role %q (want one of %s)", r, strings.Join(Roles(), ", "))
		case seen[r]:
			t.add(t.line(f), f, "role %q is listed twice", r)
		}
		seen[r] = true
	}
	if s.ExcludeLauncher && s.Quorum < 2 && t.has(joinKey(path, "exclude_launcher")) {
		// One approver who is not the launcher is still one person's say;
		// the rule is meant for a second pair of eyes.
		line, f := at("exclude_launcher")
		t.add(line, f, "exclude_launcher needs a quorum of 2 or more")
	}
}

// checkEscalation checks the role of an escalation.
func (t *tree) checkEscalation(e *Escalation, path string) {
	if e != nil && e.To != "" && !slices.Contains(Roles(), e.To) {
		f := joinKey(path, "to")
		t.add(t.line(f), f, "unknown role %q (want one of %s)", e.To, strings.Join(Roles(), ", "))
	}
}

// ancestors returns every step that id comes after, directly or not.
func ancestors(p *Playbook, id string, index map[string]int) map[string]bool {
	seen := map[string]bool{}
	queue := []string{id}
	for len(queue) > 0 {
		i, ok := index[queue[0]]
		queue = queue[1:]
		if !ok {
			continue
		}
		for _, dep := range p.Steps[i].After {
			if !seen[dep] {
				seen[dep] = true
				queue = append(queue, dep)
			}
		}
	}
	return seen
}

// checkCycles reports each cycle in after once, at the after entry that
// closes it, naming every step on it.
func (t *tree) checkCycles(p *Playbook, index map[string]int) {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]int, len(p.Steps))
	var stack []int
	reported := map[string]bool{}
	var visit func(u int)
	visit = func(u int) {
		state[u] = onStack
		stack = append(stack, u)
		for j, dep := range p.Steps[u].After {
			v, ok := index[dep]
			if !ok || v == u {
				continue // unknown and self references are reported elsewhere
			}
			switch state[v] {
			case unvisited:
				visit(v)
			case onStack:
				start := slices.Index(stack, v)
				cycle := slices.Clone(stack[start:])
				names := make([]string, 0, len(cycle)+1)
				for _, k := range cycle {
					names = append(names, p.Steps[k].ID)
				}
				key := slices.Clone(names)
				slices.Sort(key)
				if reported[strings.Join(key, "\x00")] {
					continue
				}
				reported[strings.Join(key, "\x00")] = true
				// The stack runs from v to u and u comes after v: rotate so the
				// message starts at u and reads "u comes after v ...".
				names = append(names[len(names)-1:], names[:len(names)-1]...)
				names = append(names, names[0])
				f := joinIndex(joinKey(joinIndex("steps", u), "after"), j)
				t.add(t.line(f), f, "cycle in after: %s (each step comes after the next)", strings.Join(names, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		state[u] = done
	}
	for i := range p.Steps {
		if state[i] == unvisited && p.Steps[i].ID != "" {
			if _, ok := index[p.Steps[i].ID]; ok && index[p.Steps[i].ID] == i {
				visit(i)
			}
		}
	}
}

// remedyJurisdictionRE is an ISO 3166-1 alpha-2 country or an ISO 3166-2
// subdivision.
var remedyJurisdictionRE = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)

// checkRemedy applies the rules of the remedy block.
func (t *tree) checkRemedy(r *Remedy) {
	if r == nil {
		return
	}
	if strings.TrimSpace(r.Product) == "" {
		t.add(t.line("remedy"), "remedy.product", "a remedy needs a product, e.g. credit-monitoring")
	}
	for i, j := range r.Jurisdictions {
		if f := joinIndex("remedy.jurisdictions", i); !remedyJurisdictionRE.MatchString(j) {
			t.add(t.line(f), f, "bad jurisdiction %q: use an ISO 3166-1 alpha-2 country (US) or ISO 3166-2 subdivision (US-CA)", j)
		}
	}
	for i, tier := range r.Tiers {
		if f := joinIndex("remedy.tiers", i); !slices.Contains([]string{"high", "medium", "low"}, tier) {
			t.add(t.line(f), f, "bad tier %q: use high, medium or low", tier)
		}
	}
}
