package regulations

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// dueCase is one row of a deadline table: facts in, exact due times out.
type dueCase struct {
	name    string
	facts   breach.Facts
	due     map[string]string   // obligation id → RFC 3339 due ("" = present without DueAt)
	absent  []string            // obligation ids that must not be produced
	missing map[string][]string // obligation id → exact MissingFacts
}

func runDueCases(t *testing.T, cases []dueCase) {
	t.Helper()
	rs := defaultRules(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := rs.Evaluate(tc.facts)
			for id, due := range tc.due {
				wantDue(t, find(t, obs, id), due)
			}
			for _, id := range tc.absent {
				if has(obs, id) {
					t.Errorf("obligation %q produced, want none", id)
				}
			}
			for id, want := range tc.missing {
				if got := find(t, obs, id).MissingFacts; !slices.Equal(got, want) {
					t.Errorf("%s: MissingFacts = %v, want %v", id, got, want)
				}
			}
		})
	}
}

func TestGDPR(t *testing.T) {
	aware := at(t, "2026-10-23T10:00:00+02:00") // Friday, CEST; clocks go back Sunday 25 Oct
	runDueCases(t, []dueCase{
		{
			// GDPR Art. 33 (gdprlearninghub.com/article-33-gdpr; odo24.pl: 72 continuous hours).
			// Across the end of summer time the wall clock shows 09:00 CET, not 10:00.
			name:    "art33 72h across EU DST end",
			facts:   breach.Facts{AwareAt: aware, Jurisdictions: []string{"DE"}},
			due:     map[string]string{"gdpr-art33": "2026-10-26T09:00:00+01:00"},
			absent:  []string{"uk-gdpr-art33", "nis2-early-warning"},
			missing: map[string][]string{"gdpr-art33": nil},
		},
		{
			name:   "art33 applies for an EEA-only state (Norway)",
			facts:  breach.Facts{AwareAt: aware, Jurisdictions: []string{"NO"}, Risk: "risk"},
			due:    map[string]string{"gdpr-art33": "2026-10-26T08:00:00Z"},
			absent: []string{"nis2-early-warning"},
		},
		{
			name:   "art33 not when unlikely to result in a risk",
			facts:  breach.Facts{AwareAt: aware, Jurisdictions: []string{"FR"}, Risk: "none"},
			absent: []string{"gdpr-art33", "gdpr-art34"},
		},
		{
			// GDPR Art. 34 (overview.legal/laws/gdpr/art-34): high risk → subjects, no fixed limit.
			name:    "art34 high risk",
			facts:   breach.Facts{AwareAt: aware, AssessedAt: ptr(aware.Add(5 * time.Hour)), Jurisdictions: []string{"IT"}, Risk: "high"},
			due:     map[string]string{"gdpr-art34": "", "gdpr-art33": "2026-10-26T08:00:00Z"},
			missing: map[string][]string{"gdpr-art34": nil},
		},
		{
			name:    "art34 unassessed risk is shown as missing",
			facts:   breach.Facts{AwareAt: aware, Jurisdictions: []string{"IT"}},
			due:     map[string]string{"gdpr-art34": ""},
			missing: map[string][]string{"gdpr-art34": {"assessed_at", "risk"}},
		},
		{
			name:   "art34 not for ordinary risk",
			facts:  breach.Facts{AwareAt: aware, Jurisdictions: []string{"IT"}, Risk: "risk"},
			absent: []string{"gdpr-art34"},
		},
		{
			// UK GDPR Art. 33 (legislation.gov.uk/ukpga/2018/12/section/67): ICO, 72 h; BST ends the same Sunday.
			name:   "uk gdpr 72h",
			facts:  breach.Facts{AwareAt: aware, Jurisdictions: []string{"GB-SCT"}},
			due:    map[string]string{"uk-gdpr-art33": "2026-10-26T08:00:00Z"},
			absent: []string{"gdpr-art33", "uk-pecr-reg5a"},
		},
		{
			// PECR reg. 5A, 72 h per the ICO's Aug 2025 update [verify] (threatcluster.io guide).
			name:  "uk pecr 72h for service providers",
			facts: breach.Facts{AwareAt: aware, Jurisdictions: []string{"GB"}, Flags: []string{"pecr_service_provider"}},
			due:   map[string]string{"uk-pecr-reg5a": "2026-10-26T08:00:00Z"},
		},
	})
}

func TestGDPRArt34EncryptionExemption(t *testing.T) {
	// Art. 34(3)(a) (overview.legal/laws/gdpr/art-34): kept for the record, marked exempt.
	rs := defaultRules(t)
	aware := at(t, "2026-03-02T09:00:00Z")
	obs := rs.Evaluate(breach.Facts{AwareAt: aware, AssessedAt: ptr(aware), Jurisdictions: []string{"ES"}, Risk: "high",
		Flags: []string{"data_encrypted"}})
	o := find(t, obs, "gdpr-art34")
	if !o.Exempt || o.DueAt != nil || !strings.Contains(o.Note, "34(3)(a)") {
		t.Errorf("gdpr-art34 = exempt %v due %v note %q; want exempt with 34(3)(a) note", o.Exempt, o.DueAt, o.Note)
	}
	if !slices.Contains(o.RestsOn, "flags") {
		t.Errorf("RestsOn %v lacks flags", o.RestsOn)
	}
	if find(t, obs, "gdpr-art33").Exempt {
		t.Error("encryption must not exempt the Art. 33 regulator notice")
	}
}

func TestGDPRArt33Fields(t *testing.T) {
	rs := defaultRules(t)
	aware := at(t, "2026-11-23T08:00:00Z")
	o := find(t, rs.Evaluate(breach.Facts{AwareAt: aware, Jurisdictions: []string{"DE", "US-CA"}}), "gdpr-art33")
	want := breach.Duty{ID: "gdpr-art33", RuleID: "gdpr-art33", Regime: "GDPR Art. 33", Jurisdiction: "EU",
		Recipient: "regulator", Anchor: "aware_at", Standard: "without undue delay", Deadline: "72 hours"}
	if o.ID != want.ID || o.RuleID != want.RuleID || o.Regime != want.Regime || o.Jurisdiction != want.Jurisdiction ||
		o.Recipient != want.Recipient || o.Anchor != want.Anchor || o.Standard != want.Standard || o.Deadline != want.Deadline {
		t.Errorf("got %+v", o)
	}
	if o.AnchorAt == nil || !o.AnchorAt.Equal(aware) {
		t.Errorf("AnchorAt = %v, want %v", o.AnchorAt, aware)
	}
	if !slices.Equal(o.RestsOn, []string{"aware_at", "jurisdictions", "risk"}) {
		t.Errorf("RestsOn = %v", o.RestsOn)
	}
	if !strings.Contains(o.Source, "https://gdprlearninghub.com/article-33-gdpr") {
		t.Errorf("Source = %q", o.Source)
	}
	if !slices.Contains(o.ContentFields, "delay_reasons") {
		t.Errorf("ContentFields = %v", o.ContentFields)
	}
}

func TestChina(t *testing.T) {
	disc := at(t, "2026-03-10T09:30:00+08:00")
	base := func(n int, flags ...string) breach.Facts {
		return breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Jurisdictions: []string{"CN"},
			Affected: map[string]int{"CN": n}, Flags: flags}
	}
	runDueCases(t, []dueCase{
		{
			// CAC measures (mayerbrown.com …/2025/12; tallwire.com): CII operator 1 h, 1M people or more = 较大.
			name:  "cac cii operator 1h above 1M",
			facts: base(1_000_001, "cii_operator"),
			due:   map[string]string{"cn-cac-report": "2026-03-10T02:30:00Z", "pipl-art57-regulator": ""},
		},
		{
			// morganlewis.com …/2025/09: other operators 4 h to the provincial CAC.
			name:  "cac other operator 4h",
			facts: base(2_000_000),
			due:   map[string]string{"cn-cac-report": "2026-03-10T05:30:00Z"},
		},
		{
			// 100万人以上: 以上 includes the number (Civil Code Art. 1259), so exactly 1M is 较大.
			name:  "cac at exactly 1M (较大 is 1M or more)",
			facts: base(1_000_000),
			due:   map[string]string{"cn-cac-report": "2026-03-10T05:30:00Z"},
		},
		{
			name:   "cac not one below 1M",
			facts:  base(999_999),
			absent: []string{"cn-cac-report", "cn-cac-post-incident"},
			due:    map[string]string{"pipl-art57-regulator": "", "pipl-art57-individuals": ""},
		},
		{
			name:    "cac count unknown kept with missing count",
			facts:   breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Jurisdictions: []string{"CN"}},
			due:     map[string]string{"cn-cac-report": "2026-03-10T05:30:00Z"},
			missing: map[string][]string{"cn-cac-report": {"affected.CN"}},
		},
		{
			// In force 1 Nov 2025: an incident known before then is not under the measures.
			name:   "cac not before 2025-11-01",
			facts:  breach.Facts{AwareAt: at(t, "2025-10-30T10:00:00+08:00"), DiscoveredAt: ptr(at(t, "2025-10-30T10:00:00+08:00")), Jurisdictions: []string{"CN"}, Affected: map[string]int{"CN": 5_000_000}},
			absent: []string{"cn-cac-report"},
			due:    map[string]string{"pipl-art57-regulator": ""},
		},
	})
	rs := defaultRules(t)
	o := find(t, rs.Evaluate(base(3_000_000)), "pipl-art57-regulator")
	if o.Standard != "immediately" {
		t.Errorf("PIPL Art. 57 standard = %q, want immediately", o.Standard)
	}
}

func TestHIPAA(t *testing.T) {
	// 164.404/164.406/164.408 (brickergraydon.com, getpocketlaw.com): 60 calendar days from discovery,
	// HHS with individuals when ≥500 in total, else the annual log; media above 500 residents of a state.
	disc := at(t, "2026-10-20T11:00:00-04:00") // EDT; due day is in EST
	hipaa := func(affected map[string]int, cats ...string) breach.Facts {
		return breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Flags: []string{"hipaa_covered_entity"},
			DataCategories: cats, Jurisdictions: []string{"US"}, Affected: affected}
	}
	const due60 = "2026-12-19T23:59:59-05:00"
	runDueCases(t, []dueCase{
		{
			name:   "media at 501 residents of California, not at 500 in Texas",
			facts:  hipaa(map[string]int{"US-CA": 501, "US-TX": 500}, "health"),
			due:    map[string]string{"hipaa-individuals": due60, "hipaa-hhs": due60, "hipaa-media-us-ca": due60},
			absent: []string{"hipaa-media-us-tx", "hipaa-media"},
		},
		{
			name:   "fewer than 500 in total: HHS annual log 60 days after year end",
			facts:  hipaa(map[string]int{"US-TX": 499}, "health"),
			due:    map[string]string{"hipaa-hhs": "2027-03-01T23:59:59-05:00"},
			absent: []string{"hipaa-media-us-tx"},
		},
		{
			name:  "exactly 500 in total goes to HHS with the individual notice",
			facts: hipaa(map[string]int{"US-TX": 250, "US-FL": 250}, "health"),
			due:   map[string]string{"hipaa-hhs": due60},
		},
		{
			name:    "unknown counts: HHS kept (not the annual log), media per state listed as missing",
			facts:   breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Flags: []string{"hipaa_covered_entity"}, DataCategories: []string{"health"}, Jurisdictions: []string{"US-NY"}},
			due:     map[string]string{"hipaa-hhs": due60, "hipaa-media-us-ny": due60},
			missing: map[string][]string{"hipaa-hhs": {"affected.US-NY"}, "hipaa-media-us-ny": {"affected.US-NY"}},
		},
		{
			name:   "no health data, no HIPAA",
			facts:  hipaa(map[string]int{"US-CA": 900}, "contact"),
			absent: []string{"hipaa-individuals", "hipaa-hhs", "hipaa-media-us-ca"},
		},
		{
			name:   "not a covered entity, no HIPAA",
			facts:  breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), DataCategories: []string{"health"}, Affected: map[string]int{"US-CA": 900}},
			absent: []string{"hipaa-individuals", "hipaa-hhs", "hipaa-media-us-ca"},
		},
		{
			name:    "discovery date missing",
			facts:   breach.Facts{AwareAt: disc, Flags: []string{"hipaa_covered_entity"}, DataCategories: []string{"health"}, Affected: map[string]int{"US-CA": 10}},
			due:     map[string]string{"hipaa-individuals": "", "hipaa-hhs": ""},
			missing: map[string][]string{"hipaa-individuals": {"discovered_at"}, "hipaa-hhs": {"discovered_at"}},
		},
	})
	rs := defaultRules(t)
	o := find(t, rs.Evaluate(hipaa(map[string]int{"US-TX": 10}, "health")), "hipaa-hhs")
	if o.RuleID != "hipaa-hhs-annual" {
		t.Errorf("hipaa-hhs from rule %q, want hipaa-hhs-annual", o.RuleID)
	}
	m := find(t, rs.Evaluate(hipaa(map[string]int{"US-CA": 501}, "health")), "hipaa-media-us-ca")
	if m.Jurisdiction != "US-CA" || m.Recipient != "media" || !strings.Contains(m.RecipientName, "US-CA") {
		t.Errorf("media obligation = %+v", m)
	}
}

func TestSEC8K(t *testing.T) {
	// SEC 8-K Item 1.05 (cooleypubco.com/2023/12/14/corp-fin-cdis-8-ks-cybersecurity):
	// 4 business days after the materiality determination; US federal holidays skipped.
	pub := []string{"public_company"}
	runDueCases(t, []dueCase{
		{
			// Wed 25 Nov 2026; Thu 26 Thanksgiving; Fri 27 (1), Mon 30 (2), Tue 1 Dec (3), Wed 2 Dec (4).
			name:  "across Thanksgiving",
			facts: breach.Facts{AwareAt: at(t, "2026-11-20T10:00:00Z"), MaterialityAt: ptr(at(t, "2026-11-25T15:00:00-05:00")), Flags: pub},
			due:   map[string]string{"sec-8k-item105": "2026-12-02T23:59:59-05:00"},
		},
		{
			// Thu 3 Sep 2026; Fri 4 (1); Sat, Sun, Mon 7 Labor Day skipped; Tue 8 (2), Wed 9 (3), Thu 10 (4).
			name:  "across the Labor Day weekend",
			facts: breach.Facts{AwareAt: at(t, "2026-09-01T10:00:00Z"), MaterialityAt: ptr(at(t, "2026-09-03T09:00:00-04:00")), Flags: pub},
			due:   map[string]string{"sec-8k-item105": "2026-09-10T23:59:59-04:00"},
		},
		{
			// Determined late on Friday New York time (already Saturday UTC): the New York day counts.
			name:  "anchor day read in New York",
			facts: breach.Facts{AwareAt: at(t, "2026-06-01T10:00:00Z"), MaterialityAt: ptr(at(t, "2026-06-05T22:30:00-04:00")), Flags: pub},
			due:   map[string]string{"sec-8k-item105": "2026-06-11T23:59:59-04:00"},
		},
		{
			name:    "materiality not yet determined",
			facts:   breach.Facts{AwareAt: at(t, "2026-11-20T10:00:00Z"), Flags: pub},
			due:     map[string]string{"sec-8k-item105": ""},
			missing: map[string][]string{"sec-8k-item105": {"materiality_at"}},
		},
		{
			name:   "private company",
			facts:  breach.Facts{AwareAt: at(t, "2026-11-20T10:00:00Z"), MaterialityAt: ptr(at(t, "2026-11-25T15:00:00Z"))},
			absent: []string{"sec-8k-item105"},
		},
	})
}

func TestNYDFS(t *testing.T) {
	// 23 NYCRR 500.17 (law.cornell.edu; jonesday.com 2023/11): 72 h; extortion payment 24 h, explanation 30 days.
	det := at(t, "2026-03-06T12:00:00Z") // US DST starts Sunday 8 March: hours stay continuous
	paid := at(t, "2026-03-07T10:00:00Z")
	runDueCases(t, []dueCase{
		{
			name:   "72 hours from determination",
			facts:  breach.Facts{AwareAt: det, DeterminedAt: ptr(det), Flags: []string{"nydfs_regulated"}},
			due:    map[string]string{"nydfs-500-17": "2026-03-09T12:00:00Z"},
			absent: []string{"nydfs-extortion", "nydfs-extortion-explanation"},
		},
		{
			name: "extortion payment 24 hours, explanation 30 days",
			facts: breach.Facts{AwareAt: det, DeterminedAt: ptr(det), ExtortionPaidAt: ptr(paid),
				Flags: []string{"nydfs_regulated", "extortion_payment"}},
			due: map[string]string{"nydfs-extortion": "2026-03-08T10:00:00Z",
				"nydfs-extortion-explanation": "2026-04-06T23:59:59-04:00"},
		},
		{
			name:    "payment flagged but time unknown",
			facts:   breach.Facts{AwareAt: det, DeterminedAt: ptr(det), Flags: []string{"nydfs_regulated", "extortion_payment"}},
			due:     map[string]string{"nydfs-extortion": ""},
			missing: map[string][]string{"nydfs-extortion": {"extortion_paid_at"}},
		},
		{
			name:   "not regulated by DFS",
			facts:  breach.Facts{AwareAt: det, DeterminedAt: ptr(det), Jurisdictions: []string{"US-NY"}},
			absent: []string{"nydfs-500-17"},
		},
	})
}

func TestCalifornia(t *testing.T) {
	// Cal. Civ. Code 1798.82 as amended by SB 446 (dataprotectionreport.com 2025/11; lexace.ai):
	// residents within 30 calendar days from 2026; AG sample within 15 days after residents are notified, >500.
	disc := at(t, "2026-10-20T10:00:00-07:00") // PDT; day 30 falls after the 1 Nov change to PST
	notified := at(t, "2026-11-10T18:00:00-08:00")
	ca := func(n int, notifiedAt *time.Time) breach.Facts {
		return breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Jurisdictions: []string{"US-CA"},
			Affected: map[string]int{"US-CA": n}, SubjectsNotifiedAt: notifiedAt}
	}
	runDueCases(t, []dueCase{
		{
			name:  "residents 30 calendar days across the November DST change",
			facts: ca(10, nil),
			due:   map[string]string{"us-ca-residents": "2026-11-19T23:59:59-08:00"},
		},
		{
			name:   "AG not at 500 residents",
			facts:  ca(500, ptr(notified)),
			absent: []string{"us-ca-ag"},
		},
		{
			name:    "AG at 501 waits for the residents' notice",
			facts:   ca(501, nil),
			due:     map[string]string{"us-ca-ag": ""},
			missing: map[string][]string{"us-ca-ag": {"subjects_notified_at"}},
		},
		{
			name:    "AG 15 days after residents notified",
			facts:   ca(501, ptr(notified)),
			due:     map[string]string{"us-ca-ag": "2026-11-25T23:59:59-08:00"},
			missing: map[string][]string{"us-ca-ag": nil},
		},
		{
			name:    "AG with unknown count is kept",
			facts:   breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Jurisdictions: []string{"US-CA"}},
			due:     map[string]string{"us-ca-ag": ""},
			missing: map[string][]string{"us-ca-ag": {"subjects_notified_at", "affected.US-CA"}},
		},
	})
	rs := defaultRules(t)
	ag := find(t, rs.Evaluate(ca(501, nil)), "us-ca-ag")
	if ag.After != "us-ca-residents" || ag.Anchor != "subjects_notified_at" {
		t.Errorf("us-ca-ag chains after %q on %q", ag.After, ag.Anchor)
	}
	// Before SB 446 (aware in 2025) there is no fixed day limit.
	old := at(t, "2025-12-15T10:00:00-08:00")
	o := find(t, rs.Evaluate(breach.Facts{AwareAt: old, DiscoveredAt: ptr(old), Jurisdictions: []string{"US-CA"}}), "us-ca-residents")
	if o.RuleID != "us-ca-residents-2025" || o.DueAt != nil || o.Standard == "" {
		t.Errorf("2025 CA residents = rule %q due %v standard %q", o.RuleID, o.DueAt, o.Standard)
	}
}

func TestUSStateThresholds(t *testing.T) {
	det := at(t, "2026-02-02T09:00:00-06:00")
	state := func(code string, n int) breach.Facts {
		return breach.Facts{AwareAt: det, DeterminedAt: ptr(det), DiscoveredAt: ptr(det), Jurisdictions: []string{code},
			Affected: map[string]int{code: n}}
	}
	runDueCases(t, []dueCase{
		// Texas 521.053 (dwt.com 2023/06; complianceiq.site/…/texas): AG ≥250 within 30 days, CRAs >10,000.
		{name: "TX 249: no AG", facts: state("US-TX", 249), absent: []string{"us-tx-ag", "us-tx-cra"},
			due: map[string]string{"us-tx-individuals": "2026-04-03T23:59:59-05:00"}},
		{name: "TX 250: AG 30 days", facts: state("US-TX", 250), due: map[string]string{"us-tx-ag": "2026-03-04T23:59:59-06:00"}},
		{name: "TX 10000: no CRAs", facts: state("US-TX", 10000), absent: []string{"us-tx-cra"}},
		{name: "TX 10001: CRAs", facts: state("US-TX", 10001), due: map[string]string{"us-tx-cra": ""}},
		{name: "TX unknown count kept", facts: breach.Facts{AwareAt: det, DeterminedAt: ptr(det), Jurisdictions: []string{"US-TX"}},
			due:     map[string]string{"us-tx-ag": "2026-03-04T23:59:59-06:00"},
			missing: map[string][]string{"us-tx-ag": {"affected.US-TX"}}},
		{name: "TX determination missing", facts: breach.Facts{AwareAt: det, Jurisdictions: []string{"US-TX"}, Affected: map[string]int{"US-TX": 300}},
			due:     map[string]string{"us-tx-ag": ""},
			missing: map[string][]string{"us-tx-ag": {"determined_at"}}},
		// Florida 501.171 (dwt.com/gcp/states/florida; swlaw.com …/fl): Department ≥500, CRAs >1,000, 30 days.
		{name: "FL 499", facts: state("US-FL", 499), absent: []string{"us-fl-dept", "us-fl-cra"},
			due: map[string]string{"us-fl-individuals": "2026-03-04T23:59:59-05:00"}},
		{name: "FL 500", facts: state("US-FL", 500), due: map[string]string{"us-fl-dept": "2026-03-04T23:59:59-05:00"}, absent: []string{"us-fl-cra"}},
		{name: "FL 1000", facts: state("US-FL", 1000), due: map[string]string{"us-fl-dept": "2026-03-04T23:59:59-05:00"}, absent: []string{"us-fl-cra"}},
		{name: "FL 1001", facts: state("US-FL", 1001), due: map[string]string{"us-fl-dept": "2026-03-04T23:59:59-05:00", "us-fl-cra": ""}},
		// Colorado 6-1-716 (complianceiq.site/…/colorado): AG ≥500, 30 days, Mountain time.
		{name: "CO 499", facts: state("US-CO", 499), absent: []string{"us-co-ag"}},
		{name: "CO 500", facts: state("US-CO", 500), due: map[string]string{"us-co-ag": "2026-03-04T23:59:59-07:00", "us-co-individuals": "2026-03-04T23:59:59-07:00"}},
		// Washington 19.255.010 (complianceiq.site/…/washington): AG >500, 30 calendar days from discovery.
		{name: "WA 500", facts: state("US-WA", 500), absent: []string{"us-wa-ag"}},
		{name: "WA 501", facts: state("US-WA", 501), due: map[string]string{"us-wa-ag": "2026-03-04T23:59:59-08:00"}},
	})
}

func TestCanadaAustraliaSingapore(t *testing.T) {
	aware := at(t, "2026-03-20T13:00:00+11:00") // Sydney AEDT; AEST from 5 April
	assessed := at(t, "2026-05-04T10:00:00+08:00")
	sg := func(n int, risk string) breach.Facts {
		return breach.Facts{AwareAt: assessed.Add(-48 * time.Hour), AssessedAt: ptr(assessed), Jurisdictions: []string{"SG"},
			Affected: map[string]int{"SG": n}, Risk: risk}
	}
	runDueCases(t, []dueCase{
		// PIPEDA 10.1 (gazette.gc.ca SOR/2018-64; thinsky.com): as soon as feasible, real risk of significant harm.
		{name: "PIPEDA high risk", facts: breach.Facts{AwareAt: aware, DeterminedAt: ptr(aware), Jurisdictions: []string{"CA-ON"}, Risk: "high"},
			due: map[string]string{"pipeda-opc": "", "pipeda-individuals": "", "pipeda-organisations": ""}},
		{name: "California is not Canada", facts: breach.Facts{AwareAt: aware, Jurisdictions: []string{"US-CA"}, Risk: "high"},
			absent: []string{"pipeda-opc", "pipeda-individuals"}},
		{name: "PIPEDA no risk", facts: breach.Facts{AwareAt: aware, Jurisdictions: []string{"CA"}, Risk: "none"},
			absent: []string{"pipeda-opc", "pipeda-individuals"}},
		{name: "PIPEDA unassessed", facts: breach.Facts{AwareAt: aware, Jurisdictions: []string{"CA"}},
			due: map[string]string{"pipeda-opc": ""}, missing: map[string][]string{"pipeda-opc": {"determined_at", "risk"}}},
		// Australia s.26WH (zoelaw.ai): 30-day assessment, Sydney time, across the end of AEDT.
		{name: "AU assessment 30 days", facts: breach.Facts{AwareAt: aware, Jurisdictions: []string{"AU"}, Risk: "none"},
			due: map[string]string{"au-ndb-assessment": "2026-04-19T23:59:59+10:00"}, absent: []string{"au-ndb-oaic"}},
		{name: "AU serious harm", facts: breach.Facts{AwareAt: aware, AssessedAt: ptr(aware), Jurisdictions: []string{"AU-NSW"}, Risk: "risk"},
			due: map[string]string{"au-ndb-oaic": "", "au-ndb-individuals": ""}},
		// Singapore PDPA 26D (laws.sg; legal-wires.com): PDPC within 3 calendar days; ≥500 people or significant harm.
		{name: "SG 499 ordinary risk", facts: sg(499, "risk"), absent: []string{"sg-pdpc", "sg-individuals"},
			due: map[string]string{"sg-pdpc-assessment": "2026-06-01T23:59:59+08:00"}},
		{name: "SG 500", facts: sg(500, "risk"), due: map[string]string{"sg-pdpc": "2026-05-07T23:59:59+08:00"}, absent: []string{"sg-individuals"}},
		{name: "SG 499 significant harm", facts: sg(499, "high"), due: map[string]string{"sg-pdpc": "2026-05-07T23:59:59+08:00", "sg-individuals": ""}},
		{name: "SG unassessed below 500", facts: sg(10, ""), due: map[string]string{"sg-pdpc": "2026-05-07T23:59:59+08:00"},
			missing: map[string][]string{"sg-pdpc": {"risk"}}},
	})
}

func TestBrazil(t *testing.T) {
	// LGPD Art. 48 + ANPD Res. 15/2024 (lhlaw.com.br/?p=10881; bastilhocoelho.com.br/?p=5679):
	// 3 business days; Brazilian national holidays skipped (rickar/cal/v2/br).
	br := func(aware string, risk string) breach.Facts {
		return breach.Facts{AwareAt: at(t, aware), Jurisdictions: []string{"BR-SP"}, Risk: risk}
	}
	runDueCases(t, []dueCase{
		// Fri 17 Apr 2026; Mon 20 (1); Tue 21 Tiradentes skipped; Wed 22 (2); Thu 23 (3).
		{name: "across Tiradentes", facts: br("2026-04-17T14:00:00-03:00", "risk"),
			due: map[string]string{"br-anpd": "2026-04-23T23:59:59-03:00", "br-subjects": "2026-04-23T23:59:59-03:00"}},
		// Wed 23 Dec 2026; Thu 24 (1); Fri 25 Natal skipped; Mon 28 (2); Tue 29 (3).
		{name: "across Christmas", facts: br("2026-12-23T10:00:00-03:00", "high"),
			due: map[string]string{"br-anpd": "2026-12-29T23:59:59-03:00"}},
		// Thu 19 Nov 2026; Fri 20 Consciência Negra (Lei 14.759/2023) skipped; Mon 23, Tue 24, Wed 25.
		{name: "across Consciência Negra", facts: br("2026-11-19T10:00:00-03:00", "high"),
			due: map[string]string{"br-anpd": "2026-11-25T23:59:59-03:00"}},
		{name: "no relevant risk", facts: br("2026-04-17T14:00:00-03:00", "none"), absent: []string{"br-anpd", "br-subjects"}},
		{name: "supplement waits for the filing", facts: br("2026-04-17T14:00:00-03:00", "high"),
			due: map[string]string{"br-anpd-supplement": ""}, missing: map[string][]string{"br-anpd-supplement": {"filed.br-anpd"}}},
	})
}

func TestIndiaDPDP(t *testing.T) {
	// DPDP Rule 7 (dpdpaedu.org): Board report within 72 h; enforceable 13 May 2027 [verify].
	rs := defaultRules(t)
	for _, tc := range []struct {
		aware    string
		wantNote bool
	}{
		{"2026-06-01T10:00:00+05:30", true},
		{"2027-06-01T10:00:00+05:30", false},
	} {
		aware := at(t, tc.aware)
		obs := rs.Evaluate(breach.Facts{AwareAt: aware, Jurisdictions: []string{"IN"}, Risk: "none"})
		o := find(t, obs, "in-dpdp-board-report")
		wantDue(t, o, aware.Add(72*time.Hour).Format(time.RFC3339))
		if got := strings.Contains(o.Note, "Not enforceable before 2027-05-13"); got != tc.wantNote {
			t.Errorf("aware %s: not-yet-enforceable note = %v, want %v (%q)", tc.aware, got, tc.wantNote, o.Note)
		}
		if !o.NeedsLegalConfirmation {
			t.Error("DPDP must need legal confirmation")
		}
		find(t, obs, "in-dpdp-individuals")
		find(t, obs, "in-dpdp-board-intimation")
	}
}

func TestNIS2AndDORA(t *testing.T) {
	aware := at(t, "2026-06-01T08:00:00Z")
	significant := true
	nis2 := breach.Facts{AwareAt: aware, Jurisdictions: []string{"DE"}, Flags: []string{"essential_entity"}, Significant: &significant}
	filed := nis2
	filed.Filed = map[string]time.Time{"nis2-notification": at(t, "2026-01-31T10:00:00Z")}
	dora := func(classified *time.Time) breach.Facts {
		return breach.Facts{AwareAt: aware, ClassifiedAt: classified, Jurisdictions: []string{"FR"}, Flags: []string{"financial_entity"}}
	}
	runDueCases(t, []dueCase{
		// NIS2 Art. 23 (powerquant.eu/nis2-incident-report-template): 24 h, 72 h, final 1 month after the notification.
		{name: "NIS2 early warning and notification", facts: nis2,
			due:     map[string]string{"nis2-early-warning": "2026-06-02T08:00:00Z", "nis2-notification": "2026-06-04T08:00:00Z", "nis2-final": ""},
			missing: map[string][]string{"nis2-final": {"filed.nis2-notification"}}},
		// One month after 31 Jan is the end of 28 Feb (Brussels time).
		{name: "NIS2 final one month after filing, clamped to month end", facts: filed,
			due: map[string]string{"nis2-final": "2026-02-28T23:59:59+01:00"}},
		{name: "NIS2 only for essential entities", facts: breach.Facts{AwareAt: aware, Jurisdictions: []string{"DE"}},
			absent: []string{"nis2-early-warning", "dora-initial"}},
		// DORA Art. 19 / RTS 2025/301 (dora-info.eu/rts-mir/article-6/): 4 h after classification, ≤24 h after awareness.
		{name: "DORA needs classification", facts: dora(nil), due: map[string]string{"dora-initial": ""},
			missing: map[string][]string{"dora-initial": {"classified_at"}}},
		{name: "DORA 4h after classification", facts: dora(ptr(at(t, "2026-06-01T10:00:00Z"))),
			due: map[string]string{"dora-initial": "2026-06-01T14:00:00Z", "dora-intermediate": ""}},
		{name: "DORA capped at 24h after awareness", facts: dora(ptr(at(t, "2026-06-02T06:00:00Z"))),
			due: map[string]string{"dora-initial": "2026-06-02T08:00:00Z"}},
	})
}

func TestEvaluateOrder(t *testing.T) {
	rs := defaultRules(t)
	aware := at(t, "2026-11-23T08:00:00Z")
	obs := rs.Evaluate(breach.Facts{AwareAt: aware, DiscoveredAt: ptr(aware), Jurisdictions: []string{"DE", "US-CA", "CN", "BR"},
		Affected: map[string]int{"DE": 1200, "US-CA": 700, "CN": 2_000_000, "BR": 40}, Risk: "high",
		Flags: []string{"essential_entity"}})
	seenNil := false
	for i, o := range obs {
		if o.DueAt == nil {
			seenNil = true
			if i > 0 && obs[i-1].DueAt == nil && obs[i-1].ID >= o.ID {
				t.Errorf("nil-due obligations not by id: %s before %s", obs[i-1].ID, o.ID)
			}
			continue
		}
		if seenNil {
			t.Errorf("%s has a due time after an obligation without one", o.ID)
		}
		if i > 0 && obs[i-1].DueAt != nil && obs[i-1].DueAt.After(*o.DueAt) {
			t.Errorf("%s (%s) after %s (%s)", o.ID, o.DueAt, obs[i-1].ID, obs[i-1].DueAt)
		}
	}
	wantFirst := []string{"cn-cac-report", "nis2-early-warning", "gdpr-art33", "nis2-notification"}
	if got := ids(obs)[:len(wantFirst)]; !slices.Equal(got, wantFirst) {
		t.Errorf("first obligations = %v, want %v", got, wantFirst)
	}
	// Same facts, same answer: deterministic.
	again := rs.Evaluate(breach.Facts{AwareAt: aware, DiscoveredAt: ptr(aware), Jurisdictions: []string{"BR", "CN", "US-CA", "DE"},
		Affected: map[string]int{"DE": 1200, "US-CA": 700, "CN": 2_000_000, "BR": 40}, Risk: "high",
		Flags: []string{"essential_entity"}})
	if !slices.Equal(ids(obs), ids(again)) {
		t.Errorf("order depends on input order: %v vs %v", ids(obs), ids(again))
	}
}

func TestRecomputeOnFactChange(t *testing.T) {
	// The issue: duties are recomputed when facts change. Texas AG appears when the count crosses 250.
	rs := defaultRules(t)
	det := at(t, "2026-02-02T09:00:00-06:00")
	f := breach.Facts{AwareAt: det, DeterminedAt: ptr(det), Jurisdictions: []string{"US-TX"}, Affected: map[string]int{"US-TX": 100}}
	if has(rs.Evaluate(f), "us-tx-ag") {
		t.Fatal("us-tx-ag at 100 residents")
	}
	f.Affected = map[string]int{"US-TX": 400}
	wantDue(t, find(t, rs.Evaluate(f), "us-tx-ag"), "2026-03-04T23:59:59-06:00")
}
