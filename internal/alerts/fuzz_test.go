package alerts

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/playbooks"
)

// FuzzParse checks that any body in any format yields either a
// FormatError or alerts that keep the limits and have a fingerprint.
func FuzzParse(f *testing.F) {
	for _, tc := range []struct{ format, file string }{
		{FormatAlertmanager, "testdata/alertmanager.json"}, {FormatSplunk, "testdata/splunk.json"}, {FormatGeneric, "testdata/generic.json"},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tc.format, b)
	}
	f.Add(FormatAlertmanager, []byte(`{"alerts":[{"labels":{"alertname":""}}]}`))
	f.Add(FormatGeneric, []byte(`{"title":"x"} {"title":"y"}`))
	f.Fuzz(func(t *testing.T, format string, body []byte) {
		list, err := Parse(format, body)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FormatError", err)
			}
			return
		}
		if len(list) == 0 || len(list) > MaxAlertsPerBody {
			t.Fatalf("%d alerts", len(list))
		}
		for _, a := range list {
			if a.Fingerprint == "" || strings.TrimSpace(a.Title) == "" || len(a.Title) > MaxTitle || len(a.Labels) > MaxLabels ||
				(a.Status != Firing && a.Status != Resolved) {
				t.Fatalf("alert breaks the limits: %+v", a)
			}
		}
	})
}

// FuzzParseRules checks that any rule file yields either a validation
// error naming a line or rules whose launches name a known playbook.
func FuzzParseRules(f *testing.F) {
	b, err := os.ReadFile("rules/examples.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("version: 1\nrules:\n  - id: a\n    action: launch\n    launch: {playbook: nope}\n"))
	f.Add([]byte("version: 1\nrules: &a [*a]\n"))
	cat, err := playbooks.Embedded()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules("f.yaml", data, cat)
		if err != nil {
			var ve *playbooks.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		for _, r := range rs.Rules {
			if r.Action == ActionLaunch {
				if _, ok := cat.Get(r.Launch.Playbook); !ok {
					t.Fatalf("rule %s launches unknown %q", r.ID, r.Launch.Playbook)
				}
				if _, ok := r.Launch.Facts["aware_at"]; ok {
					t.Fatalf("rule %s sets aware_at", r.ID)
				}
			}
		}
	})
}
