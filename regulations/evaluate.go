package regulations

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// tri is a three-valued truth: a condition may hinge on a fact not known yet.
type tri int

const (
	no tri = iota
	unknown
	yes
)

// verdict is a condition's outcome plus the facts it read and those it lacked.
type verdict struct {
	v       tri
	uses    []string
	missing []string
}

func (a *verdict) and(b verdict) {
	a.uses = append(a.uses, b.uses...)
	switch {
	case a.v == no || b.v == no:
		a.v, a.missing = no, nil
	case b.v == unknown:
		a.v = unknown
		a.missing = append(a.missing, b.missing...)
	}
}

// evalCtx is what a condition is judged against: the facts and, for per-subdivision
// rules, the subdivision being considered ("" when none is present).
type evalCtx struct {
	f   breach.Facts
	sub string
}

func (c Condition) eval(x evalCtx) verdict {
	out := verdict{v: yes}
	if len(c.Flags) > 0 || len(c.NotFlags) > 0 {
		v := verdict{v: yes, uses: []string{"flags"}}
		for _, fl := range c.Flags {
			if !x.f.HasFlag(fl) {
				v.v = no
			}
		}
		for _, fl := range c.NotFlags {
			if x.f.HasFlag(fl) {
				v.v = no
			}
		}
		out.and(v)
	}
	if len(c.CategoriesAny) > 0 {
		v := verdict{v: no, uses: []string{"data_categories"}}
		if len(x.f.DataCategories) == 0 {
			v.v, v.missing = unknown, []string{"data_categories"}
		}
		for _, cat := range c.CategoriesAny {
			if slices.Contains(x.f.DataCategories, cat) {
				v.v, v.missing = yes, nil
			}
		}
		out.and(v)
	}
	if len(c.RiskIn) > 0 {
		v := verdict{v: no, uses: []string{"risk"}}
		switch r := x.f.RiskLevel(); {
		case slices.Contains(c.RiskIn, r):
			v.v = yes
		case r == breach.RiskUnassessed:
			v.v, v.missing = unknown, []string{"risk"}
		}
		out.and(v)
	}
	for _, name := range sortedKeys(c.Facts) {
		v := verdict{v: no, uses: []string{name}}
		fact, _ := breach.LookupFact(name)
		switch b := fact.Bool(x.f); {
		case b == nil:
			v.v, v.missing = unknown, []string{name}
		case *b == c.Facts[name]:
			v.v = yes
		}
		out.and(v)
	}
	if c.Threshold != nil {
		out.and(c.Threshold.eval(x))
	}
	if len(c.AnyOf) > 0 {
		any := verdict{v: no}
		for _, alt := range c.AnyOf {
			v := alt.eval(x)
			any.uses = append(any.uses, v.uses...)
			switch {
			case v.v == yes:
				any.v = yes
			case v.v == unknown && any.v != yes:
				any.v = unknown
				any.missing = append(any.missing, v.missing...)
			}
		}
		if any.v == yes {
			any.missing = nil
		}
		out.and(any)
	}
	return out
}

// count returns the affected count for a threshold scope, whether it is complete,
// the fact names it rests on and those missing. A partial total is a lower bound.
func (t Threshold) count(x evalCtx) (n int, complete bool, uses, missing []string) {
	scope := t.Scope
	if scope == "each" {
		if x.sub == "" {
			return 0, false, []string{"affected"}, []string{"affected.US-*"}
		}
		scope = x.sub
	}
	if scope != "total" {
		name := "affected." + scope
		v, ok := x.f.Affected[scope]
		if !ok {
			return 0, false, []string{name}, []string{name}
		}
		return v, true, []string{name}, nil
	}
	if x.f.Affected == nil && len(x.f.Jurisdictions) == 0 {
		return 0, false, []string{"affected"}, []string{"affected"}
	}
	// A country entry is taken to include its subdivisions' entries, so they are
	// not counted twice.
	for _, code := range sortedKeys(x.f.Affected) {
		if strings.Contains(code, "-") {
			if _, ok := x.f.Affected[breach.Country(code)]; ok {
				continue
			}
		}
		n += x.f.Affected[code]
	}
	// The total is complete when every listed jurisdiction is counted: itself, its
	// country, or (for a country) through counts of its subdivisions.
	complete = true
	for _, j := range x.f.Jurisdictions {
		covered := false
		for code := range x.f.Affected {
			if code == j || code == breach.Country(j) || breach.Country(code) == j {
				covered = true
				break
			}
		}
		if !covered {
			complete = false
			missing = append(missing, "affected."+j)
		}
	}
	return n, complete, []string{"affected"}, missing
}

func (t Threshold) eval(x evalCtx) verdict {
	n, complete, uses, missing := t.count(x)
	var holds bool
	switch t.Op {
	case ">":
		holds = n > t.Value
	case ">=":
		holds = n >= t.Value
	case "<":
		holds = n < t.Value
	case "<=":
		holds = n <= t.Value
	}
	upward := t.Op == ">" || t.Op == ">="
	v := verdict{uses: uses}
	switch {
	case complete && holds, !complete && upward && holds:
		// A lower bound already above an upward threshold settles it.
		v.v = yes
	case complete, !complete && !upward && !holds:
		v.v = no
	case t.IfUnknown == "skip":
		v.v = no
	default:
		v.v, v.missing = unknown, missing
	}
	return v
}

// present returns the jurisdictions of the incident: those listed plus any with a
// positive affected count, sorted.
func present(f breach.Facts) []string {
	out := slices.Clone(f.Jurisdictions)
	for code, n := range f.Affected {
		if n > 0 {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r *Rule) inEffect(aware time.Time) bool {
	// The law in force when the organisation became aware governs every duty of the
	// incident; keying on each rule's own anchor would let a rule switch versions
	// when a later fact (e.g. subjects_notified_at) is entered.
	day := aware.UTC()
	if !r.from.IsZero() && day.Before(r.from) {
		return false
	}
	if !r.until.IsZero() && !day.Before(r.until.AddDate(0, 0, 1)) {
		return false
	}
	return true
}

// Evaluate computes every obligation the facts give rise to, ordered soonest DueAt
// first, obligations without DueAt last, ties by ID. It does not validate facts;
// call ValidateFacts first.
func (rs *RuleSet) Evaluate(f breach.Facts) []breach.Duty {
	where := present(f)
	byID := map[string]int{}
	var out []breach.Duty
	add := func(ob breach.Duty) {
		i, ok := byID[ob.ID]
		if !ok {
			byID[ob.ID] = len(out)
			out = append(out, ob)
			return
		}
		// Two rule versions yielding one duty: keep the stricter (earlier) limit.
		if ob.DueAt != nil && (out[i].DueAt == nil || ob.DueAt.Before(*out[i].DueAt)) {
			out[i] = ob
		}
	}
	for i := range rs.rules {
		r := &rs.rules[i]
		if !r.inEffect(f.AwareAt) {
			continue
		}
		if len(r.AppliesIn) > 0 && !slices.ContainsFunc(where, func(p string) bool {
			return slices.ContainsFunc(r.AppliesIn, func(w string) bool { return matchesJurisdiction(p, w) })
		}) {
			continue
		}
		if r.PerSubdivision == "" {
			if ob, ok := rs.obligation(r, evalCtx{f: f}); ok {
				add(ob)
			}
			continue
		}
		var subs []string
		for _, p := range where {
			if strings.HasPrefix(p, r.PerSubdivision+"-") {
				subs = append(subs, p)
			}
		}
		if len(subs) == 0 {
			subs = []string{""}
		}
		for _, s := range subs {
			if ob, ok := rs.obligation(r, evalCtx{f: f, sub: s}); ok {
				add(ob)
			}
		}
	}
	slices.SortFunc(out, func(a, b breach.Duty) int {
		switch {
		case a.DueAt != nil && b.DueAt != nil:
			if c := a.DueAt.Compare(*b.DueAt); c != 0 {
				return c
			}
		case a.DueAt != nil:
			return -1
		case b.DueAt != nil:
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// obligation builds the obligation of rule r, or reports false when the rule's
// conditions are known not to hold.
func (rs *RuleSet) obligation(r *Rule, x evalCtx) (breach.Duty, bool) {
	v := r.When.eval(x)
	if v.v == no {
		return breach.Duty{}, false
	}
	f := x.f
	ob := breach.Duty{
		ID:                     r.Obligation,
		RuleID:                 r.ID,
		Regime:                 r.Regime,
		Jurisdiction:           r.Jurisdiction,
		Recipient:              r.Recipient,
		RecipientName:          r.RecipientName,
		Anchor:                 r.Anchor,
		Standard:               r.Standard,
		Deadline:               deadlineText(r.Deadline),
		Phase:                  r.Phase,
		After:                  r.After,
		ContentFields:          slices.Clone(r.ContentFields),
		ReportFacts:            slices.Clone(r.ReportFacts),
		ReportQuestions:        slices.Clone(r.ReportQuestions),
		NeedsLegalConfirmation: r.NeedsLegalConfirmation,
		Source:                 strings.Join(r.Sources, " "),
	}
	if x.sub != "" {
		ob.ID += "-" + strings.ToLower(x.sub)
		ob.Jurisdiction = x.sub
	}
	ob.RecipientName = strings.ReplaceAll(ob.RecipientName, "{jurisdiction}", ob.Jurisdiction)
	var anchorAt *time.Time
	if r.Anchor == anchorFiled {
		ob.Anchor = anchorFiled + "." + r.After
		if t, ok := f.Filed[r.After]; ok {
			anchorAt = &t
		}
	} else {
		anchorAt = anchorTime(f, r.Anchor)
	}
	uses := []string{ob.Anchor}
	if len(r.AppliesIn) > 0 {
		uses = append(uses, "jurisdictions")
	}
	uses = append(uses, v.uses...)
	missing := slices.Clone(v.missing)
	if anchorAt == nil {
		missing = append([]string{ob.Anchor}, missing...)
	} else {
		t := anchorAt.UTC()
		ob.AnchorAt = &t
	}
	var notes []string
	for _, e := range r.Exemptions {
		uses = append(uses, "flags")
		if f.HasFlag(e.Flag) {
			ob.Exempt = true
			notes = append(notes, "Exempt: "+e.Note)
		}
	}
	if !r.enforce.IsZero() && f.AwareAt.Before(r.enforce) {
		notes = append(notes, "Not enforceable before "+r.EnforceableFrom+"; shown so the duty is prepared for, not as a current legal deadline.")
	}
	if r.Note != "" {
		notes = append(notes, r.Note)
	}
	if !ob.Exempt && anchorAt != nil && r.Deadline.Unit != UnitNone {
		if due, err := rs.due(r.Deadline, r.zone, *anchorAt); err == nil {
			if r.AlsoWithin != nil {
				uses = append(uses, r.AlsoWithin.Anchor)
				if capAt := anchorTime(f, r.AlsoWithin.Anchor); capAt == nil {
					missing = append(missing, r.AlsoWithin.Anchor)
				} else if cap, err := rs.due(*r.AlsoWithin, r.capZone, *capAt); err == nil && cap.Before(due) {
					due = cap
				}
			}
			ob.DueAt = &due
		}
	}
	ob.RestsOn = dedupe(uses)
	ob.MissingFacts = dedupe(missing)
	ob.Note = strings.Join(notes, " ")
	return ob, true
}

// anchorFiled is the pseudo-anchor "the earlier obligation named in after was filed".
const anchorFiled = "filed"

// anchorNames are the time facts a rule may start its clock from.
func anchorNames() []string { return breach.FactNames(breach.KindTime, true) }

// anchorTime is the value of the named time fact, or nil when it is not known.
func anchorTime(f breach.Facts, name string) *time.Time {
	d, ok := breach.LookupFact(name)
	if !ok {
		return nil
	}
	return d.Time(f)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dedupe drops repeated names, keeping first occurrences in order.
func dedupe(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
