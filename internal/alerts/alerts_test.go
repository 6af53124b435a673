package alerts

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/playbooks"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEachFormat(t *testing.T) {
	at := time.Date(2026, 11, 23, 2, 10, 0, 0, time.UTC)
	for _, tc := range []struct {
		format, file, title, severity, label string
		fp                                   string
	}{
		{FormatAlertmanager, "alertmanager.json", "DataExfiltration", "critical", "instance", "c5a1f0b2e3d4a5b6"},
		{FormatSplunk, "splunk.json", "CRM mass export", "high", "host", ""},
		{FormatGeneric, "generic.json", "DLP: customer list mailed to a personal address", "high", "system", ""},
	} {
		t.Run(tc.format, func(t *testing.T) {
			list, err := Parse(tc.format, read(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			a := list[0]
			if len(list) != 1 || a.Title != tc.title || a.Severity != tc.severity || a.Labels[tc.label] == "" ||
				!a.StartsAt.Equal(at) || a.Status != Firing || a.Fingerprint == "" || len(a.Raw) == 0 {
				t.Fatalf("alert = %+v", a)
			}
			if tc.fp != "" && a.Fingerprint != tc.fp {
				t.Fatalf("fingerprint %q, want the source's %q", a.Fingerprint, tc.fp)
			}
			again, _ := Parse(tc.format, read(t, tc.file))
			if again[0].Fingerprint != a.Fingerprint {
				t.Fatal("fingerprint not stable")
			}
		})
	}
	// Splunk rows that name a user stay out of the labels.
	list, _ := Parse(FormatSplunk, read(t, "splunk.json"))
	if _, ok := list[0].Labels["user"]; ok {
		t.Fatal("splunk result field user became a label")
	}
}

func TestFingerprintIgnoresLabelOrder(t *testing.T) {
	a, _ := Parse("", []byte(`{"title":"x","labels":{"a":"1","b":"2"}}`))
	b, _ := Parse("", []byte(`{"labels":{"b":"2","a":"1"},"title":"x"}`))
	c, _ := Parse("", []byte(`{"labels":{"b":"3","a":"1"},"title":"x"}`))
	if a[0].Fingerprint != b[0].Fingerprint || a[0].Fingerprint == c[0].Fingerprint {
		t.Fatalf("fingerprints %s %s %s", a[0].Fingerprint, b[0].Fingerprint, c[0].Fingerprint)
	}
}

func TestParseNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ format, body, want string }{
		{FormatGeneric, `{"severity":"high"}`, "title: required"},
		{FormatGeneric, `{"title":"x","colour":"red"}`, `unknown field "colour"`},
		{FormatGeneric, `{"title":"x","severity":"apocalyptic"}`, "severity"},
		{FormatGeneric, `{"title":"x","labels":{"a":1}}`, "labels: want string"},
		{FormatGeneric, `{"title":`, "invalid JSON"},
		{FormatGeneric, ``, "empty body"},
		{FormatGeneric, `{"title":"x","status":"burning"}`, "status"},
		{FormatAlertmanager, `{"version":"4"}`, "alerts: required"},
		{FormatAlertmanager, `{"alerts":[]}`, "alerts: empty"},
		{FormatAlertmanager, `{"alerts":[{"labels":{"severity":"high"}}]}`, "alerts[0].labels.alertname: required"},
		{FormatAlertmanager, `{"alerts":[{"labels":{"alertname":"A"},"startsAt":"yesterday"}]}`, "startsAt"},
		{FormatSplunk, `{"result":{}}`, "search_name: required"},
		{FormatSplunk, `{"search_name":"s"}`, "result: required"},
		{"nagios", `{}`, "unknown format"},
	} {
		_, err := Parse(tc.format, []byte(tc.body))
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want a FormatError naming %q", tc.format, tc.body, err, tc.want)
		}
	}
}

func catalog(t *testing.T) *playbooks.Catalog {
	t.Helper()
	c, err := playbooks.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestShippedRulesLoadAndRoute(t *testing.T) {
	rs, err := LoadRules("", catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if rs.DedupWindow != 24*time.Hour || len(rs.Rules) < 4 {
		t.Fatalf("rules = %+v", rs)
	}
	am, _ := Parse(FormatAlertmanager, read(t, "alertmanager.json"))
	if r := rs.Route("prometheus", am[0]); r == nil || r.ID != "data-exfiltration" || r.Line == 0 {
		t.Fatalf("alertmanager alert routed to %+v", r)
	}
	low := am[0]
	low.Severity = "low"
	if r := rs.Route("prometheus", low); r != nil {
		t.Fatalf("a low-severity alert routed to %s", r.ID)
	}
	finding := Alert{Title: "x", Labels: map[string]string{"finding": "after_hours_export"}}
	if r := rs.Route("detector", finding); r == nil || r.ID != "crm-after-hours-export" {
		t.Fatalf("finding routed to %+v", r)
	}
	if r := rs.Route("siem", finding); r != nil {
		t.Fatalf("finding from another source routed to %s", r.ID)
	}
}

func TestRuleFileProblemsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown playbook", "version: 1\nrules:\n  - id: a\n    action: launch\n    launch:\n      playbook: nope\n",
			`r.yaml:6: rules[0].launch.playbook: unknown playbook "nope"`},
		{"unknown field", "version: 1\nrules:\n  - id: a\n    action: triage\n    colour: red\n",
			"r.yaml:5: field colour is not a known field of"},
		{"aware_at", "version: 1\nrules:\n  - id: a\n    action: launch\n    launch:\n      playbook: customer-data-breach\n      facts: {aware_at: starts_at}\n",
			"r.yaml:7: rules[0].launch.facts.aware_at: aware_at starts the legal clock"},
		{"label to a time fact", "version: 1\nrules:\n  - id: a\n    action: launch\n    launch:\n      playbook: customer-data-breach\n      facts: {occurred_at: labels.when}\n",
			"r.yaml:7: rules[0].launch.facts.occurred_at: a time fact takes starts_at"},
		{"starts_at to a list fact", "version: 1\nrules:\n  - id: a\n    action: launch\n    launch:\n      playbook: customer-data-breach\n      facts: {jurisdictions: starts_at}\n",
			"r.yaml:7: rules[0].launch.facts.jurisdictions: a jurisdictions fact takes labels.<name>"},
		{"a decision fact", "version: 1\nrules:\n  - id: a\n    action: launch\n    launch:\n      playbook: customer-data-breach\n      facts: {risk: labels.risk}\n",
			"r.yaml:7: rules[0].launch.facts.risk: risk is legal's decision"},
		{"bad action", "version: 1\nrules:\n  - id: a\n    action: panic\n", "r.yaml:4: rules[0].action"},
		{"bad regexp", "version: 1\nrules:\n  - id: a\n    action: triage\n    match:\n      text: \"(\"\n", "r.yaml:6: rules[0].match.text"},
		{"duplicate id", "version: 1\nrules:\n  - id: a\n    action: triage\n  - id: a\n    action: triage\n", "r.yaml:5: rules[1].id"},
		{"version", "version: 2\nrules: []\n", "r.yaml:1: version"},
		{"storm on triage", "version: 1\nrules:\n  - id: a\n    action: triage\n    storm: {window: 5m}\n", "r.yaml:5: rules[0].storm"},
		{"bad window", "version: 1\nrules:\n  - id: a\n    action: launch\n    launch: {playbook: customer-data-breach}\n    storm: {window: soon}\n", "r.yaml:6:"},
		{"syntax", "version: 1\nrules: [\n", "r.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules("r.yaml", []byte(tc.body), catalog(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRulesDirReplacesAndAdds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(dir+"/"+name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("examples.yaml", "version: 1\ndedup_window: 1h\nrules:\n  - id: only\n    action: triage\n")
	write("more.yml", "version: 1\nrules:\n  - id: extra\n    match: {source: [siem]}\n    action: launch\n    launch: {playbook: ransomware-extortion}\n")
	rs, err := LoadRules(dir, catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) != 2 || rs.Rules[0].ID != "extra" && rs.Rules[1].ID != "extra" || rs.DedupWindow != time.Hour {
		t.Fatalf("rules = %+v window %s", rs.Rules, rs.DedupWindow)
	}
	write("bad.yaml", "version: 1\nrules:\n  - id: only\n    action: triage\n")
	if _, err := LoadRules(dir, catalog(t)); err == nil || !strings.Contains(err.Error(), "also defined") {
		t.Fatalf("duplicate across files: %v", err)
	}
}

func TestSourcesAuthenticateAndVerify(t *testing.T) {
	srcs, err := ParseSources("prometheus:tok-prometheus-0123456789, splunk:tok-splunk-0123456789:secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := srcs.Authenticate("tok-prometheus-0123456789"); !ok || s.Name != "prometheus" || s.Signed() {
		t.Fatalf("prometheus: %+v %v", s, ok)
	}
	if _, ok := srcs.Authenticate("tok-nope-0123456789"); ok {
		t.Fatal("unknown token accepted")
	}
	s, _ := srcs.Authenticate("tok-splunk-0123456789")
	body := []byte(`{"search_name":"x","result":{}}`)
	good := SignatureValue([]byte("secret-0123456789abcdef"), body)
	if !s.Signed() || !s.Verify(body, good) || s.Verify(append(body, ' '), good) || s.Verify(body, "") || s.Verify(body, "sha256=zz") {
		t.Fatal("signature check wrong")
	}
	for _, bad := range []string{"x", "UPPER:tok-0123456789abcdef", "a:short", "a:tok-0123456789abcdef:short", "a:tok-0123456789abcdef,a:tok-0123456789abcdeg"} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "tok-0123456789abcdef") {
			t.Errorf("error prints the token: %v", err)
		}
	}
}
