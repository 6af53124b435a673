package regulations

import (
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// TestOtherStatesDeadlines checks the clocks of the states added beyond the
// reference, each due time worked out by hand from the statute's period.
func TestOtherStatesDeadlines(t *testing.T) {
	det := at(t, "2026-02-02T09:00:00-06:00") // Monday; US summer time starts 8 March
	notified := at(t, "2026-02-06T12:00:00-06:00")
	state := func(code string, n int) breach.Facts {
		return breach.Facts{AwareAt: det, DeterminedAt: ptr(det), DiscoveredAt: ptr(det), Jurisdictions: []string{code},
			Affected: map[string]int{code: n}}
	}
	iowa := state("US-IA", 501)
	iowa.SubjectsNotifiedAt = ptr(notified)
	nyHealth := state("US-NY", 40)
	nyHealth.Flags, nyHealth.DataCategories = []string{breach.FlagHIPAACoveredEntity}, []string{"health"}
	nyHealthFiled := state("US-NY", 40)
	nyHealthFiled.Flags, nyHealthFiled.DataCategories = nyHealth.Flags, nyHealth.DataCategories
	nyHealthFiled.Filed = map[string]time.Time{"hipaa-hhs": at(t, "2026-02-06T15:00:00-05:00")}
	old := at(t, "2025-06-02T09:00:00-05:00")
	oklahoma2025 := breach.Facts{AwareAt: old, DiscoveredAt: ptr(old), Jurisdictions: []string{"US-OK"}, Affected: map[string]int{"US-OK": 600}}
	runDueCases(t, []dueCase{
		// Ala. Code 8-38-5: 45 days after determination; the 45th day falls in CDT.
		{name: "AL 45 days", facts: state("US-AL", 10), due: map[string]string{"us-al-residents": "2026-03-19T23:59:59-05:00"},
			absent: []string{"us-al-ag", "us-al-cra"}},
		// N.Y. GBL 899-aa(2): 30 days after discovery; AG etc. with the residents' notice; CRAs above 5,000.
		{name: "NY 30 days", facts: state("US-NY", 5001),
			due:     map[string]string{"us-ny-residents": "2026-03-04T23:59:59-05:00", "us-ny-ag": "", "us-ny-cra": ""},
			missing: map[string][]string{"us-ny-ag": {"subjects_notified_at"}}},
		// N.Y. GBL 899-aa(9): a HIPAA covered entity copies its HHS notice to the AG within 5 business days of it.
		{name: "NY HIPAA AG waits for the HHS filing", facts: nyHealth, due: map[string]string{"us-ny-hipaa-ag": ""},
			missing: map[string][]string{"us-ny-hipaa-ag": {"filed.hipaa-hhs"}}},
		{name: "NY HIPAA AG 5 business days after HHS", facts: nyHealthFiled, due: map[string]string{"us-ny-hipaa-ag": "2026-02-13T23:59:59-05:00"}},
		{name: "NY without HIPAA", facts: state("US-NY", 40), absent: []string{"us-ny-hipaa-ag"}},
		// Iowa 715C.2(8): 5 business days after the consumers' notice (Fri 6 Feb → Fri 13 Feb).
		{name: "IA AG 5 business days after notice", facts: iowa, due: map[string]string{"us-ia-ag": "2026-02-13T23:59:59-06:00"}},
		// 9 V.S.A. 2435(b)(3): 14 business days from discovery, skipping Presidents' Day (16 Feb).
		{name: "VT AG 14 business days", facts: state("US-VT", 1), due: map[string]string{"us-vt-ag": "2026-02-23T23:59:59-05:00", "us-vt-residents": "2026-03-19T23:59:59-04:00"}},
		// Minn. Stat. 325E.61(2): CRAs within 48 hours when more than 500.
		{name: "MN CRA 48 hours", facts: state("US-MN", 501), due: map[string]string{"us-mn-cra": "2026-02-04T09:00:00-06:00"}},
		// SDCL 22-40-23: CRAs for every breach requiring notice.
		{name: "SD CRA without count", facts: state("US-SD", 1), due: map[string]string{"us-sd-cra": "", "us-sd-residents": "2026-04-03T23:59:59-05:00"},
			absent: []string{"us-sd-ag"}},
		// Act 111-2005: DACO within 10 days; Puerto Rico recorded by its ISO 3166-1 code.
		{name: "PR by country code", facts: state("PR", 3), due: map[string]string{"us-pr-residents": "", "us-pr-ag": "2026-02-12T23:59:59-04:00"}},
		{name: "GU by subdivision", facts: state("US-GU", 3), due: map[string]string{"us-gu-residents": ""}},
		// Oklahoma's AG duty (SB 626) starts with incidents from 1 January 2026.
		{name: "OK AG not before 2026", facts: oklahoma2025, absent: []string{"us-ok-ag"}, due: map[string]string{"us-ok-residents": ""}},
		// Conn. Gen. Stat. 36a-701b: AG for any resident, no later than the residents' notice; 60 days.
		{name: "CT AG any resident", facts: state("US-CT", 1), due: map[string]string{"us-ct-ag": "", "us-ct-residents": "2026-04-03T23:59:59-04:00"}},
	})
}

// TestStatesStayInTheirState: an incident in California, Texas and Germany owes
// nothing under another state's law, so adding states changed no such incident.
func TestStatesStayInTheirState(t *testing.T) {
	aware := at(t, "2026-02-02T09:00:00-06:00")
	obs := defaultRules(t).Evaluate(breach.Facts{AwareAt: aware, DiscoveredAt: ptr(aware), DeterminedAt: ptr(aware),
		Jurisdictions: []string{"US-CA", "US-TX", "DE"}, Affected: map[string]int{"US-CA": 600, "US-TX": 40, "DE": 100000}})
	var got []string
	for _, o := range obs {
		if !slices.Contains([]string{"US-CA", "US-TX", "EU"}, o.Jurisdiction) {
			t.Errorf("obligation %s of %s for an incident in CA, TX and DE", o.ID, o.Jurisdiction)
		}
		got = append(got, o.ID)
	}
	slices.Sort(got)
	want := []string{"gdpr-art33", "gdpr-art34", "us-ca-ag", "us-ca-residents", "us-tx-individuals"}
	if !slices.Equal(got, want) {
		t.Errorf("obligations = %v, want %v", got, want)
	}
}
