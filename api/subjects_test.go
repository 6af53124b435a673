package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/store"
)

// TestImportLocalDomains uploads through the API: the deployment's
// AllowLocalDomains decides whether an undeliverable domain is refused,
// and a semicolon export imports. No row has a country, so no fact
// changes and no workflow is needed.
func TestImportLocalDomains(t *testing.T) {
	csv := "Customer ID;E-Mail;Name\r\nK-1;hank@example;Hank\r\nK-2;ann@example.com;Ann\r\n"
	for _, allow := range []bool{false, true} {
		e := newDashEnvWith(t, func(d *Deps) {
			d.SubjectKey = []byte(strings.Repeat("k", 32))
			d.AllowLocalDomains = allow
		})
		inc, _, err := e.store.CreateIncident(context.Background(), store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: "high"})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/incidents/"+inc.ID+"/subjects", strings.NewReader(csv))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out struct {
			Report struct {
				Delimiter string `json:"delimiter"`
				Accepted  int    `json:"accepted"`
				Rejected  []struct {
					Line   int    `json:"line"`
					Reason string `json:"reason"`
				} `json:"rejected"`
			} `json:"report"`
			Inserted int `json:"inserted"`
		}
		if err := json.Unmarshal(body, &out); resp.StatusCode != 200 || err != nil {
			t.Fatalf("allow=%v: %d %v %s", allow, resp.StatusCode, err, body)
		}
		r := out.Report
		switch {
		case r.Delimiter != ";":
			t.Errorf("allow=%v: delimiter %q, want ;", allow, r.Delimiter)
		case !allow && (r.Accepted != 1 || out.Inserted != 1 || len(r.Rejected) != 1 || r.Rejected[0].Line != 2 ||
			!strings.Contains(r.Rejected[0].Reason, "no dot")):
			t.Errorf("local domains refused: %s", body)
		case allow && (r.Accepted != 2 || out.Inserted != 2 || len(r.Rejected) != 0):
			t.Errorf("local domains allowed: %s", body)
		}
	}
}
