package detect

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

func shipped(t *testing.T) *Config {
	t.Helper()
	c, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGeneratedLogYieldsThePlantedAnomalies feeds 100,000 ReportExport
// events with three planted anomalies and wants exactly those three.
func TestGeneratedLogYieldsThePlantedAnomalies(t *testing.T) {
	var buf bytes.Buffer
	planted, err := Generate(&buf, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := shipped(t).Run(FormatSalesforce, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 100_000 || rep.ProblemCount != 0 {
		t.Fatalf("events %d, problems %d %v", rep.Events, rep.ProblemCount, rep.Problems)
	}
	if len(rep.Findings) != len(planted) {
		t.Fatalf("%d findings, want %d: %+v", len(rep.Findings), len(planted), rep.Findings)
	}
	for i, p := range planted {
		f := rep.Findings[i]
		if f.Rule != p.Rule || f.User != p.User || f.Day != p.Day {
			t.Errorf("finding %d = %+v, want %+v", i, f, p)
		}
	}
	if f := rep.Findings[0]; f.Records != 3000 || f.Events != 3 {
		t.Errorf("after-hours finding counts %+v", f)
	}
	if f := rep.Findings[1]; f.Records < 100_000 || f.Baseline <= 0 {
		t.Errorf("spike finding %+v", f)
	}
}

func TestCalendarAndTimeZone(t *testing.T) {
	log := "EVENT_TYPE,TIMESTAMP,USER_ID,REPORT_ID,ROW_COUNT\n" +
		// 06:30 UTC is 07:30 in Berlin on a Monday: working hours.
		"ReportExport,20261123063000.000,U1,R1,5000\n" +
		// 19:30 UTC is 20:30 in Berlin: after hours.
		"ReportExport,20261123193000.000,U2,R1,5000\n" +
		// Christmas Day at noon: a holiday.
		"ReportExport,20261225110000.000,U3,R1,5000\n" +
		// Saturday noon.
		"ReportExport,20261128110000.000,U4,R1,5000\n"
	rep, err := shipped(t).Run(FormatSalesforce, strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, f := range rep.Findings {
		if f.Kind == KindAfterHours {
			users = append(users, f.User)
		}
	}
	if strings.Join(users, ",") != "U2,U4,U3" {
		t.Fatalf("after-hours users %v, want U2,U4,U3", users)
	}
}

func TestBadLinesAreReportedAndGoodOnesCounted(t *testing.T) {
	b, err := os.ReadFile("testdata/bad-salesforce.csv")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := shipped(t).Run(FormatSalesforce, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[int]string{}
	for _, p := range rep.Problems {
		lines[p.Line] = p.Message
	}
	for line, want := range map[int]string{3: "not UTF-8", 4: "TIMESTAMP", 5: "fields", 6: "out of order"} {
		if !strings.Contains(lines[line], want) {
			t.Errorf("line %d: %q, want it to say %q (all: %v)", line, lines[line], want, rep.Problems)
		}
	}
	if rep.Events != 2 || rep.ProblemCount != 4 {
		t.Fatalf("events %d problems %d, want 2 and 4", rep.Events, rep.ProblemCount)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].User != "U9" {
		t.Fatalf("findings %+v, want U9's after-hours export from the good lines", rep.Findings)
	}

	rep, _ = shipped(t).Run(FormatSalesforce, strings.NewReader("WHEN,WHO\n1,2\n"))
	if rep.Events != 0 || len(rep.Problems) != 1 || rep.Problems[0].Line != 1 || !strings.Contains(rep.Problems[0].Message, "wrong header: missing EVENT_TYPE") {
		t.Fatalf("wrong header report %+v", rep.Problems)
	}
}

func TestHubSpotAndJSONLines(t *testing.T) {
	hub := "Occurred At,Acting User,Category,Object ID,Record Count\n" +
		"2026-11-24T01:00:00Z,ann@example.com,Export,contacts,4000\n" +
		"2026-11-24T10:00:00Z,ann@example.com,Login,,\n"
	rep, err := shipped(t).Run(FormatHubSpot, strings.NewReader(hub))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || strings.Contains(rep.Findings[0].User, "@") || !strings.HasPrefix(rep.Findings[0].User, "user-") {
		t.Fatalf("hubspot findings %+v", rep.Findings)
	}
	a := rep.Findings[0].Alert(FormatHubSpot)
	if strings.Contains(a.Title+a.Text+string(a.Raw), "ann") {
		t.Fatalf("alert names the user's email: %+v", a)
	}
	jl := `{"user":"u1","time":"2026-11-24T10:00:00Z","action":"read","object":"acct-9","records":3,"tier":"high","owner":"u2"}
{"user":"u2","time":"2026-11-24T10:00:00Z","action":"read","object":"acct-9","records":3,"tier":"high","owner":"u2"}
{"user":"u3","time":"2026-11-24T10:00:00Z","action":"delete"}
`
	rep, _ = shipped(t).Run(FormatJSONLines, strings.NewReader(jl))
	if len(rep.Findings) != 1 || rep.Findings[0].User != "u1" || rep.Findings[0].Kind != KindNonOwner || len(rep.Problems) != 1 || rep.Problems[0].Line != 3 {
		t.Fatalf("jsonl findings %+v problems %+v", rep.Findings, rep.Problems)
	}
}

func TestConfigProblemsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"version: 1\ntimezone: Mars/Olympus\n", "c.yaml:2: timezone"},
		{"version: 1\ntimezone: UTC\nbusiness_hours: {start: \"08:00\", end: \"19:00\", weekdays: [mon]}\nrules:\n  - id: a\n    kind: magic\n", "c.yaml:6: rules.0.kind"},
		{"version: 1\ncolour: red\n", "line 2"},
	} {
		if _, err := ParseConfig("c.yaml", []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
}

// TestSampleLog reads the sample shipped for the docs: report exports,
// Bulk API jobs (whose count is in ROWS_PROCESSED) and API reads.
func TestSampleLog(t *testing.T) {
	f, err := os.Open("testdata/sample-salesforce.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := shipped(t).Run(FormatSalesforce, f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %s %d", x.Rule, x.User, x.Day, x.Records))
	}
	want := "after-hours-export 0055e000001U007 2026-11-24 1500|export-volume-spike 0055e000001U042 2026-11-25 60730|non-owner-high-tier 0055e000001U099 2026-11-26 40"
	if strings.Join(got, "|") != want || rep.ProblemCount != 0 {
		t.Fatalf("findings %v, problems %v", got, rep.Problems)
	}
}
