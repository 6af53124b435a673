package detect

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzRun checks that any log in any format yields a report (never an
// error for bad input) whose findings name no email address and whose
// problems name lines.
func FuzzRun(f *testing.F) {
	for _, name := range []string{"testdata/sample-salesforce.csv", "testdata/bad-salesforce.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(FormatSalesforce, b)
	}
	f.Add(FormatHubSpot, []byte("Occurred At,Acting User,Category,Object ID,Record Count\n2026-11-24T01:00:00Z,ann@example.com,Export,contacts,4000\n"))
	f.Add(FormatJSONLines, []byte(`{"user":"u1","time":"2026-11-24T10:00:00Z","action":"read","object":"a","records":3,"tier":"high","owner":"u2"}`+"\n"))
	cfg, err := DefaultConfig()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		if format != FormatSalesforce && format != FormatHubSpot && format != FormatJSONLines {
			return
		}
		rep, err := cfg.Run(format, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("bad input answered with an error: %v", err)
		}
		for _, x := range rep.Findings {
			if strings.Contains(x.User, "@") {
				t.Fatalf("a finding names an email: %+v", x)
			}
		}
		for _, p := range rep.Problems {
			if p.Line < 1 {
				t.Fatalf("a problem names no line: %+v", p)
			}
		}
		if rep.ProblemCount < len(rep.Problems) {
			t.Fatalf("problem count %d below the %d listed", rep.ProblemCount, len(rep.Problems))
		}
	})
}
