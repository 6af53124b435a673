package regulations

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// thresholdEdge is one count threshold as its statute words it, with whether the
// duty is owed one below, at and one above the number, worked out by hand from
// that wording: "more than N" and "exceeds N" are not owed at N; "N or more",
// "at least N", "not fewer than N" and 以上 are. The table is written from the
// statutes, not read from rules.yaml, so a rule whose op disagrees fails.
type thresholdEdge struct {
	rule             string // rule id (the obligation is found by its RuleID)
	scope            string // where the count is taken: a jurisdiction code
	wording          string // the statute's words
	n                int
	below, at, above bool
	facts            func(scope string, n int) breach.Facts // nil: a plain state incident
}

func stateFacts(scope string, n int) breach.Facts {
	aware := mustTime("2026-03-02T10:00:00Z")
	return breach.Facts{AwareAt: aware, DiscoveredAt: &aware, DeterminedAt: &aware,
		Jurisdictions: []string{scope}, Affected: map[string]int{scope: n}}
}

// facts2025 is a state incident the organisation learned of in 2025, under the
// rule versions in force then.
func facts2025(scope string, n int) breach.Facts {
	f := stateFacts(scope, n)
	aware := mustTime("2025-06-02T10:00:00Z")
	f.AwareAt, f.DiscoveredAt, f.DeterminedAt = aware, &aware, &aware
	return f
}

func hipaaFacts(scope string, n int) breach.Facts {
	f := stateFacts(scope, n)
	f.Flags = []string{breach.FlagHIPAACoveredEntity}
	f.DataCategories = []string{"health"}
	return f
}

func riskNoneFacts(scope string, n int) breach.Facts {
	f := stateFacts(scope, n)
	f.Risk = breach.RiskNone
	return f
}

func cacFacts(cii bool) func(string, int) breach.Facts {
	return func(scope string, n int) breach.Facts {
		f := stateFacts(scope, n)
		if cii {
			f.Flags = []string{breach.FlagCIIOperator}
		}
		return f
	}
}

// Each row: the statute's wording, then owed below / at / above, by hand.
var thresholdEdges = []thresholdEdge{
	// Federal and foreign regimes.
	{"hipaa-hhs", "US-CA", "45 CFR 164.408(b): 500 or more individuals", 500, false, true, true, hipaaFacts},
	{"hipaa-hhs-annual", "US-CA", "45 CFR 164.408(c): less than 500 individuals", 500, true, false, false, hipaaFacts},
	{"hipaa-media", "US-CA", "45 CFR 164.406(a): more than 500 residents of a State", 500, false, false, true, hipaaFacts},
	{"sg-pdpc", "SG", "PDPA s.26B / Breach Regs reg. 4: not fewer than 500 individuals", 500, false, true, true, riskNoneFacts},
	{"cn-cac-report-operator", "CN", "CAC measures: 100万人以上 (以上 includes the number)", 1000000, false, true, true, cacFacts(false)},
	{"cn-cac-report-cii", "CN", "CAC measures: 100万人以上 (以上 includes the number)", 1000000, false, true, true, cacFacts(true)},
	{"cn-cac-post-incident", "CN", "CAC measures: 100万人以上 (以上 includes the number)", 1000000, false, true, true, cacFacts(false)},
	// The reference's states.
	{"us-ca-ag-2025", "US-CA", "Civ. Code 1798.82(f) before SB 446: more than 500 California residents", 500, false, false, true, facts2025},
	{"us-ca-ag", "US-CA", "Civ. Code 1798.82(f): more than 500 California residents", 500, false, false, true, nil},
	{"us-tx-ag", "US-TX", "Bus. & Com. Code 521.053(i): at least 250 residents", 250, false, true, true, nil},
	{"us-tx-cra", "US-TX", "521.053(h): more than 10,000 persons at one time", 10000, false, false, true, nil},
	{"us-fl-dept", "US-FL", "Fla. Stat. 501.171(3): 500 or more individuals", 500, false, true, true, nil},
	{"us-fl-cra", "US-FL", "501.171(5): more than 1,000 individuals at a single time", 1000, false, false, true, nil},
	{"us-co-ag", "US-CO", "C.R.S. 6-1-716(2)(f): 500 Colorado residents or more", 500, false, true, true, nil},
	{"us-co-cra", "US-CO", "6-1-716(2)(d): more than 1,000 Colorado residents", 1000, false, false, true, nil},
	{"us-wa-ag", "US-WA", "RCW 19.255.010(7): more than five hundred Washington residents", 500, false, false, true, nil},
	// The other states, DC and territories.
	{"us-al-ag", "US-AL", "Ala. Code 8-38-6: exceeds 1,000", 1000, false, false, true, nil},
	{"us-al-cra", "US-AL", "Ala. Code 8-38-7: more than 1,000 individuals at a single time", 1000, false, false, true, nil},
	{"us-ak-cra", "US-AK", "Alaska Stat. 45.48.040: more than 1,000 state residents", 1000, false, false, true, nil},
	{"us-az-ag", "US-AZ", "A.R.S. 18-552(B)(2): more than 1,000 individuals", 1000, false, false, true, nil},
	{"us-az-cra", "US-AZ", "A.R.S. 18-552(B)(2): more than 1,000 individuals", 1000, false, false, true, nil},
	{"us-ar-ag", "US-AR", "Ark. Code 4-110-105(a)(2): more than 1,000 individuals", 1000, false, false, true, nil},
	{"us-de-ag", "US-DE", "6 Del. C. 12B-102(d): exceeds 500 residents", 500, false, false, true, nil},
	{"us-dc-ag", "US-DC", "D.C. Code 28-3852(b-1): 50 or more District residents", 50, false, true, true, nil},
	{"us-dc-cra", "US-DC", "D.C. Code 28-3852(c): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-ga-cra", "US-GA", "O.C.G.A. 10-1-912(d): more than 10,000 residents at one time", 10000, false, false, true, nil},
	{"us-hi-ag", "US-HI", "HRS 487N-2(f): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-hi-cra", "US-HI", "HRS 487N-2(f): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-il-ag", "US-IL", "815 ILCS 530/10(e): more than 500 Illinois residents", 500, false, false, true, nil},
	{"us-in-cra", "US-IN", "IC 24-4.9-3-1(b): more than 1,000 consumers", 1000, false, false, true, nil},
	{"us-ia-ag", "US-IA", "Iowa Code 715C.2(8): more than 500 Iowa residents", 500, false, false, true, nil},
	{"us-ks-cra", "US-KS", "K.S.A. 50-7a02(f): more than 1,000 consumers at one time", 1000, false, false, true, nil},
	{"us-ky-cra", "US-KY", "KRS 365.732(7): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-me-cra", "US-ME", "10 M.R.S. 1348(4): more than 1,000 persons at a single time", 1000, false, false, true, nil},
	{"us-md-cra", "US-MD", "Md. Com. Law 14-3506: 1,000 or more individuals", 1000, false, true, true, nil},
	{"us-mi-cra", "US-MI", "MCL 445.72(8): more than 1,000 residents", 1000, false, false, true, nil},
	{"us-mn-cra", "US-MN", "Minn. Stat. 325E.61(2): more than 500 persons at one time", 500, false, false, true, nil},
	{"us-mo-ag", "US-MO", "Mo. Rev. Stat. 407.1500(2)(8): more than 1,000 consumers at one time", 1000, false, false, true, nil},
	{"us-mo-cra", "US-MO", "Mo. Rev. Stat. 407.1500(2)(8): more than 1,000 consumers at one time", 1000, false, false, true, nil},
	{"us-nv-cra", "US-NV", "NRS 603A.220(6): more than 1,000 persons at any one time", 1000, false, false, true, nil},
	{"us-nh-cra", "US-NH", "RSA 359-C:20(VI)(a): more than 1,000 consumers", 1000, false, false, true, nil},
	{"us-nj-cra", "US-NJ", "N.J.S.A. 56:8-163(f): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-nm-ag", "US-NM", "N.M. Stat. 57-12C-10: more than 1,000 New Mexico residents", 1000, false, false, true, nil},
	{"us-nm-cra", "US-NM", "N.M. Stat. 57-12C-10: more than 1,000 New Mexico residents", 1000, false, false, true, nil},
	{"us-ny-cra", "US-NY", "GBL 899-aa(8)(b): more than 5,000 New York residents at one time", 5000, false, false, true, nil},
	{"us-nc-cra", "US-NC", "N.C.G.S. 75-65(f): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-nd-ag", "US-ND", "N.D.C.C. 51-30-02: exceeds 250 individuals", 250, false, false, true, nil},
	{"us-oh-cra", "US-OH", "Ohio Rev. Code 1349.19(G): more than 1,000 residents", 1000, false, false, true, nil},
	{"us-ok-ag", "US-OK", "24 O.S. 163 (SB 626): fewer than 500 residents exempt, so 500 or more", 500, false, true, true, nil},
	{"us-or-ag", "US-OR", "ORS 646A.604(1)(b): more than 250 consumers", 250, false, false, true, nil},
	{"us-or-cra", "US-OR", "ORS 646A.604(6): more than 1,000 consumers", 1000, false, false, true, nil},
	{"us-pa-ag", "US-PA", "73 P.S. 2303 (Act 33 of 2024): more than 500 residents", 500, false, false, true, nil},
	{"us-pa-cra", "US-PA", "73 P.S. 2305: more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-ri-ag", "US-RI", "R.I. Gen. Laws 11-49.3-4(a)(2): more than 500 Rhode Island residents", 500, false, false, true, nil},
	{"us-ri-cra", "US-RI", "R.I. Gen. Laws 11-49.3-4(a)(2): more than 500 Rhode Island residents", 500, false, false, true, nil},
	{"us-sc-ag", "US-SC", "S.C. Code 39-1-90(K): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-sc-cra", "US-SC", "S.C. Code 39-1-90(K): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-sd-ag", "US-SD", "SDCL 22-40-20: exceeds 250 residents", 250, false, false, true, nil},
	{"us-tn-cra", "US-TN", "Tenn. Code 47-18-2107(f): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-ut-ag", "US-UT", "Utah Code 13-44-202: 500 or more Utah residents", 500, false, true, true, nil},
	{"us-ut-cra", "US-UT", "Utah Code 13-44-202: 1,000 or more Utah residents", 1000, false, true, true, nil},
	{"us-vt-cra", "US-VT", "9 V.S.A. 2435(c): more than 1,000 consumers at one time", 1000, false, false, true, nil},
	{"us-va-cra", "US-VA", "Va. Code 18.2-186.6(E): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-wv-cra", "US-WV", "W. Va. Code 46A-2A-102(f): more than 1,000 persons at one time", 1000, false, false, true, nil},
	{"us-wi-cra", "US-WI", "Wis. Stat. 134.98(2)(br): 1,000 or more individuals", 1000, false, true, true, nil},
}

// TestThresholdEdges evaluates each threshold one below, at and one above its
// number through the evaluator and compares with the statute's wording.
func TestThresholdEdges(t *testing.T) {
	rs := defaultRules(t)
	for _, e := range thresholdEdges {
		facts := e.facts
		if facts == nil {
			facts = stateFacts
		}
		for _, c := range []struct {
			n    int
			want bool
		}{{e.n - 1, e.below}, {e.n, e.at}, {e.n + 1, e.above}} {
			t.Run(fmt.Sprintf("%s/%d", e.rule, c.n), func(t *testing.T) {
				obs := rs.Evaluate(facts(e.scope, c.n))
				got := slices.ContainsFunc(obs, func(o breach.Duty) bool { return o.RuleID == e.rule })
				if got != c.want {
					t.Errorf("%s with %d affected in %s: owed = %v, want %v (%s)", e.rule, c.n, e.scope, got, c.want, e.wording)
				}
			})
		}
	}
}

// TestEveryThresholdHasAnEdgeRow keeps the table complete: a rule gaining a
// count threshold must gain a row worked out from its statute's words.
func TestEveryThresholdHasAnEdgeRow(t *testing.T) {
	var rows []string
	for _, e := range thresholdEdges {
		rows = append(rows, e.rule)
	}
	for _, r := range defaultRules(t).Rules() {
		if hasThreshold(r.When) && !slices.Contains(rows, r.ID) {
			t.Errorf("rule %s has a count threshold but no row in thresholdEdges", r.ID)
		}
	}
}

func hasThreshold(c Condition) bool {
	if c.Threshold != nil {
		return true
	}
	return slices.ContainsFunc(c.AnyOf, hasThreshold)
}

// primaryHosts are the hosts whose pages are the law itself: official journals,
// the eCFR, regulators publishing their own rules, and each jurisdiction's
// legislature or code site. Commentary (law firms, Cornell LII, Justia) is
// secondary: it may follow, never lead.
var primaryHosts = []string{
	// EU, UK, Canada, Australia, Singapore, Brazil, India, China
	"eur-lex.europa.eu", "www.legislation.gov.uk", "legislation.gov.uk", "gazette.gc.ca", "laws-lois.justice.gc.ca",
	"www.legislation.gov.au", "sso.agc.gov.sg", "www.planalto.gov.br", "www.meity.gov.in", "www.cac.gov.cn",
	// US federal
	"www.ecfr.gov", "www.sec.gov", "www.dfs.ny.gov",
	// US states, DC and territories
	"leginfo.legislature.ca.gov", "statutes.capitol.texas.gov", "www.leg.state.fl.us", "app.leg.wa.gov",
	"alison.legislature.state.al.us", "www.akleg.gov", "www.azleg.gov", "www.cga.ct.gov", "delcode.delaware.gov",
	"code.dccouncil.gov", "www.capitol.hawaii.gov", "legislature.idaho.gov", "www.ilga.gov", "iga.in.gov",
	"www.legis.iowa.gov", "www.ksrevisor.org", "apps.legislature.ky.gov", "legis.la.gov", "legislature.maine.gov",
	"mgaleg.maryland.gov", "malegislature.gov", "www.legislature.mi.gov", "www.revisor.mn.gov", "revisor.mo.gov",
	"leg.mt.gov", "nebraskalegislature.gov", "www.leg.state.nv.us", "www.gencourt.state.nh.us", "lis.njleg.state.nj.us",
	"nmonesource.com", "www.nysenate.gov", "www.ncleg.gov", "www.ndlegis.gov", "codes.ohio.gov", "www.oscn.net",
	"www.oregonlegislature.gov", "www.legis.state.pa.us", "webserver.rilegislature.gov", "www.scstatehouse.gov",
	"sdlegislature.gov", "le.utah.gov", "legislature.vermont.gov", "law.lis.virginia.gov", "code.wvlegislature.gov",
	"docs.legis.wisconsin.gov", "wyoleg.gov", "bvirtualogp.pr.gov", "www.guamcourts.org",
}

// secondaryFirst are the rules that still lead with commentary, and why. The
// list may only shrink: an entry whose rule now leads with a primary host fails.
var secondaryFirst = map[string]string{
	"us-co-individuals":      "Colorado publishes its official code only through a commercial portal",
	"us-co-ag":               "Colorado publishes its official code only through a commercial portal",
	"us-co-cra":              "Colorado publishes its official code only through a commercial portal",
	"us-ar-residents":        "Arkansas publishes its official code only through a commercial portal",
	"us-ar-ag":               "Arkansas publishes its official code only through a commercial portal",
	"us-ga-residents":        "Georgia publishes its official code only through a commercial portal",
	"us-ga-cra":              "Georgia publishes its official code only through a commercial portal",
	"us-ms-residents":        "Mississippi publishes its official code only through a commercial portal",
	"us-tn-residents":        "Tennessee publishes its official code only through a commercial portal",
	"us-tn-cra":              "Tennessee publishes its official code only through a commercial portal",
	"us-vi-residents":        "the Virgin Islands Code is published officially only through a commercial portal",
	"cn-cac-report-cii":      "no stable cac.gov.cn link to the Measures' text was found yet",
	"cn-cac-report-operator": "no stable cac.gov.cn link to the Measures' text was found yet",
	"cn-cac-post-incident":   "no stable cac.gov.cn link to the Measures' text was found yet",
}

// TestFirstSourceIsPrimary: every rule's first source is the law itself, so a
// regulator or court can follow it; commentary may follow.
func TestFirstSourceIsPrimary(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range defaultRules(t).Rules() {
		u, err := url.Parse(r.Sources[0])
		if err != nil {
			t.Errorf("rule %s: first source %q: %v", r.ID, r.Sources[0], err)
			continue
		}
		primary := slices.Contains(primaryHosts, u.Host)
		_, excepted := secondaryFirst[r.ID]
		seen[r.ID] = true
		switch {
		case primary && excepted:
			t.Errorf("rule %s now leads with primary host %s; drop it from secondaryFirst", r.ID, u.Host)
		case !primary && !excepted:
			t.Errorf("rule %s: first source %s is not on a primary-source host", r.ID, r.Sources[0])
		}
	}
	for id := range secondaryFirst {
		if !seen[id] {
			t.Errorf("secondaryFirst names %s, which is not a rule", id)
		}
	}
}

func mustTime(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}
