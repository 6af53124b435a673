package subjects

import (
	"os"
	"strings"
	"testing"
)

// FuzzImport checks that any input yields either an error or a report that
// accounts for every row, and that accepted subjects are well formed.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"testdata/generic.csv", "testdata/salesforce.csv", "testdata/hubspot.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\uFEFFemail\na@example.com\n"))
	f.Add([]byte("email,name\na@example.com,M\xfcller\n"))
	f.Add([]byte("email,name\n\"a@example.com,\"unterminated\n"))
	f.Add([]byte("external_id,country,subdivision\n1,us,ca\n2,,US-NY\n3,DE,US-CA\n"))
	f.Add([]byte("email\n\n,\n=HYPERLINK(\"x\")@example.com\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lastLine := 0
		rep, err := Import(strings.NewReader(string(data)), Options{Now: now, MaxLineBytes: 4096}, func(s Subject) error {
			if s.ExternalID == "" && s.Email == "" {
				t.Errorf("line %d accepted without email or id", s.Line)
			}
			switch s.Tier {
			case TierHigh, TierMedium, TierLow:
			default:
				t.Errorf("line %d: tier %q", s.Line, s.Tier)
			}
			if s.Locale == "" || (s.Subdivision != "" && !strings.HasPrefix(s.Subdivision, s.Country+"-")) {
				t.Errorf("line %d: locale %q, country %q, subdivision %q", s.Line, s.Locale, s.Country, s.Subdivision)
			}
			if s.Line <= lastLine {
				t.Errorf("line %d after line %d", s.Line, lastLine)
			}
			lastLine = s.Line
			return nil
		})
		if err != nil {
			return
		}
		if rep.Accepted+len(rep.Rejected) != rep.Rows {
			t.Errorf("accepted %d + rejected %d != rows %d", rep.Accepted, len(rep.Rejected), rep.Rows)
		}
		n := 0
		for _, c := range rep.PerTier {
			n += c
		}
		if n != rep.Distinct() {
			t.Errorf("PerTier sums to %d, want %d distinct", n, rep.Distinct())
		}
	})
}
