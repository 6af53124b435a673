package regulations

import (
	"fmt"
	"slices"
	"strings"
)

// Markers around the generated part of docs/regulations.md; the prose outside
// them is written by hand.
const (
	DocTableBegin = "<!-- BEGIN GENERATED RULES: go test ./regulations -run TestRegulationsDocInStep -update -->"
	DocTableEnd   = "<!-- END GENERATED RULES -->"
)

// jurisdictionNames names the jurisdictions the rules use, one "code name" a
// line, for the headings of the generated tables. A constant string keeps the
// package free of mutable state.
const jurisdictionNames = `
EU European Union and EEA
GB United Kingdom
CN China
US United States (federal and sector rules)
US-AL Alabama
US-AK Alaska
US-AZ Arizona
US-AR Arkansas
US-CA California
US-CO Colorado
US-CT Connecticut
US-DE Delaware
US-DC District of Columbia
US-FL Florida
US-GA Georgia
US-HI Hawaii
US-ID Idaho
US-IL Illinois
US-IN Indiana
US-IA Iowa
US-KS Kansas
US-KY Kentucky
US-LA Louisiana
US-ME Maine
US-MD Maryland
US-MA Massachusetts
US-MI Michigan
US-MN Minnesota
US-MS Mississippi
US-MO Missouri
US-MT Montana
US-NE Nebraska
US-NV Nevada
US-NH New Hampshire
US-NJ New Jersey
US-NM New Mexico
US-NY New York
US-NC North Carolina
US-ND North Dakota
US-OH Ohio
US-OK Oklahoma
US-OR Oregon
US-PA Pennsylvania
US-RI Rhode Island
US-SC South Carolina
US-SD South Dakota
US-TN Tennessee
US-TX Texas
US-UT Utah
US-VT Vermont
US-VA Virginia
US-WA Washington
US-WV West Virginia
US-WI Wisconsin
US-WY Wyoming
US-PR Puerto Rico
US-VI U.S. Virgin Islands
US-GU Guam
CA Canada
AU Australia
SG Singapore
BR Brazil
IN India
`

// jurisdictionName returns the name of a rule jurisdiction code, or the code.
func jurisdictionName(code string) string {
	for line := range strings.Lines(jurisdictionNames) {
		if c, name, ok := strings.Cut(strings.TrimSpace(line), " "); ok && c == code {
			return name
		}
	}
	return code
}

// DocTable renders the rules as Markdown, one table per jurisdiction in file
// order, for docs/regulations.md between DocTableBegin and DocTableEnd.
func (rs *RuleSet) DocTable() string {
	var order []string
	byJurisdiction := map[string][]*Rule{}
	confirm := 0
	for i := range rs.rules {
		r := &rs.rules[i]
		if !slices.Contains(order, r.Jurisdiction) {
			order = append(order, r.Jurisdiction)
		}
		byJurisdiction[r.Jurisdiction] = append(byJurisdiction[r.Jurisdiction], r)
		if r.NeedsLegalConfirmation {
			confirm++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rules in %d jurisdictions; %d marked for legal confirmation.\n", len(rs.rules), len(order), confirm)
	for _, j := range order {
		fmt.Fprintf(&b, "\n### %s — %s\n\n", j, jurisdictionName(j))
		b.WriteString("| rule | regime | recipient | anchor | deadline | standard | applies when | in force | legal confirmation | sources |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range byJurisdiction[j] {
			cells := []string{
				ruleCell(r), regimeCell(r), recipientCell(r), anchorCell(r), deadlineCell(r),
				orDash(r.Standard), whenCell(r), inForceCell(r), confirmCell(r), sourcesCell(r),
			}
			for i, c := range cells {
				cells[i] = strings.ReplaceAll(c, "|", `\|`)
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func ruleCell(r *Rule) string {
	if r.Obligation != r.ID {
		return fmt.Sprintf("`%s` (→ `%s`)", r.ID, r.Obligation)
	}
	return "`" + r.ID + "`"
}

func regimeCell(r *Rule) string {
	if r.Phase != "" {
		return fmt.Sprintf("%s (%s)", r.Regime, r.Phase)
	}
	return r.Regime
}

func recipientCell(r *Rule) string {
	s := r.Recipient + ": " + r.RecipientName
	switch {
	case len(r.AppliesIn) == 0:
		s += " (wherever; flag-gated)"
	case slices.Contains(r.AppliesIn, groupEEA):
		s += " (any EEA state)"
	case slices.Contains(r.AppliesIn, groupEU):
		s += " (any EU state)"
	}
	if r.PerSubdivision != "" {
		s += ", per " + r.PerSubdivision + " state"
	}
	return s
}

func anchorCell(r *Rule) string {
	if r.Anchor == anchorFiled {
		return "filing of `" + r.After + "`"
	}
	s := "`" + r.Anchor + "`"
	if r.After != "" {
		s += ", after `" + r.After + "`"
	}
	return s
}

func deadlineCell(r *Rule) string {
	d := r.Deadline
	if d.Unit == UnitNone {
		return "—"
	}
	s := deadlineText(d)
	switch {
	case d.Holidays != "":
		s += fmt.Sprintf(" (%s, %s holidays)", d.Zone, d.Holidays)
	case d.Zone != "" && d.Text == "":
		s += " (" + d.Zone + ")"
	}
	return s
}

func whenCell(r *Rule) string {
	parts := conditionParts(r.When)
	for _, e := range r.Exemptions {
		parts = append(parts, "exempt if "+e.Flag)
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, "; ")
}

// conditionParts renders a condition as short clauses; a threshold keeps the
// rule's own operator so the doc shows > or >= exactly as evaluated.
func conditionParts(c Condition) []string {
	var parts []string
	if len(c.Flags) > 0 {
		parts = append(parts, "flags: "+strings.Join(c.Flags, ", "))
	}
	if len(c.NotFlags) > 0 {
		parts = append(parts, "not flags: "+strings.Join(c.NotFlags, ", "))
	}
	if len(c.CategoriesAny) > 0 {
		parts = append(parts, "data: "+strings.Join(c.CategoriesAny, " or "))
	}
	if len(c.RiskIn) > 0 {
		parts = append(parts, "risk ∈ {"+strings.Join(c.RiskIn, ", ")+"}")
	}
	for _, name := range sortedKeys(c.Facts) {
		if c.Facts[name] {
			parts = append(parts, name)
		} else {
			parts = append(parts, "not "+name)
		}
	}
	if t := c.Threshold; t != nil {
		var s string
		switch t.Scope {
		case "total":
			s = "affected total"
		case "each":
			s = "affected in one state"
		default:
			s = "affected " + t.Scope
		}
		s += fmt.Sprintf(" %s %d", t.Op, t.Value)
		if t.IfUnknown == "skip" {
			s += " (skipped while unknown)"
		}
		parts = append(parts, s)
	}
	if len(c.AnyOf) > 0 {
		var alts []string
		for _, a := range c.AnyOf {
			alts = append(alts, strings.Join(conditionParts(a), "; "))
		}
		parts = append(parts, "any of ("+strings.Join(alts, "; or ")+")")
	}
	return parts
}

func inForceCell(r *Rule) string {
	var s []string
	if r.EffectiveFrom != "" {
		s = append(s, "from "+r.EffectiveFrom)
	}
	if r.EffectiveUntil != "" {
		s = append(s, "until "+r.EffectiveUntil)
	}
	if r.EnforceableFrom != "" {
		s = append(s, "enforceable from "+r.EnforceableFrom)
	}
	return orDash(strings.Join(s, ", "))
}

func confirmCell(r *Rule) string {
	if r.NeedsLegalConfirmation {
		return "**yes**"
	}
	return "no"
}

func sourcesCell(r *Rule) string {
	var links []string
	for i, s := range r.Sources {
		links = append(links, fmt.Sprintf("[%d](%s)", i+1, s))
	}
	return strings.Join(links, " ")
}
