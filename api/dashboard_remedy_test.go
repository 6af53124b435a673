package api

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
)

// TestDashboardRemedyUploadIsTheAPIImport: the notice page's pool upload
// runs the import of POST /v1/incidents/{id}/remedy-codes. A refused file
// is refused on both surfaces with the same lines and reasons, neither
// shows a code, and nothing is stored; an accepted one is stored sealed
// and tells the incident; a form without its CSRF token first imports
// nothing.
func TestDashboardRemedyUploadIsTheAPIImport(t *testing.T) {
	e := newMatrixEnv(t)
	ctx := context.Background()
	id := e.incident[kindOpen]
	legal, b := e.secrets[breach.RoleLegal], e.browsers[breach.RoleLegal]
	path := "/incidents/" + id + "/remedy-codes"
	const head = "code,product,enrollment_url,enroll_by\n"
	rest := func(csv string) (int, Problem) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1"+path, strings.NewReader(csv))
		req.Header.Set("Authorization", "Bearer "+legal)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var p Problem
		_ = json.Unmarshal(raw, &p)
		return resp.StatusCode, p
	}
	dash := func(csv string) (int, string) {
		t.Helper()
		resp, body := e.upload(b, path, url.Values{csrfField: {e.csrf[breach.RoleLegal]}}, "pool.csv", csv)
		return resp.StatusCode, body
	}
	stored := func() int {
		t.Helper()
		n, err := e.store.RemedyCounts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return n.Total
	}
	// Both surfaces answer the refusal line by line, alike.
	sameRefusal := func(what, csv string) {
		t.Helper()
		code, p := rest(csv)
		dcode, page := dash(csv)
		if code != http.StatusUnprocessableEntity || dcode != code || len(p.Errors) == 0 {
			t.Fatalf("%s: API %d %+v, dashboard %d", what, code, p, dcode)
		}
		for _, fe := range p.Errors {
			line, field, _ := strings.Cut(strings.TrimPrefix(fe.Field, "line "), ": ")
			row := `<tr data-line="` + line + `"><td>` + line + `</td><td>` + strings.ReplaceAll(field, "_", " ") + `</td><td>` + html.EscapeString(fe.Message) + `</td></tr>`
			if !strings.Contains(page, row) {
				t.Errorf("%s: the API refuses %s (%s); the dashboard's report lacks %s", what, fe.Field, fe.Message, row)
			}
		}
		if !strings.Contains(page, html.EscapeString(p.Detail)) {
			t.Errorf("%s: the dashboard does not say %q", what, p.Detail)
		}
		if strings.Contains(page, "SECRET-") {
			t.Errorf("%s: the report shows a code", what)
		}
	}
	sameRefusal("a bad file", head+
		"SECRET-1,credit-monitoring,https://enroll.example.com/,2099-01-01\n"+
		"SECRET-1,credit-monitoring,https://enroll.example.com/,2099-01-01\n"+
		"SECRET-2,credit-monitoring,https://enroll.example.com/,2001-01-01\n"+
		",credit-monitoring,https://enroll.example.com/,2099-01-01\n")
	if n := stored(); n != 0 {
		t.Fatalf("a refused file stored %d codes", n)
	}

	// Accepted: stored, counted on the page, the incident told.
	before := e.temporal.updateCount()
	code, page := dash(head + "SECRET-3,credit-monitoring,https://enroll.example.com/,2099-01-01\n" +
		"SECRET-4,credit-monitoring,https://enroll.example.com/,2099-01-01\n")
	if code != http.StatusOK || !strings.Contains(page, `<b id="remedy-accepted">2</b>`) || strings.Contains(page, "SECRET-") {
		t.Fatalf("accepted upload: %d\n%s", code, page)
	}
	if n := stored(); n != 2 {
		t.Fatalf("%d codes stored, want 2", n)
	}
	if e.temporal.updateCount() != before+1 || !strings.HasPrefix(e.temporal.updates[before], workflows.UpdateRemedyPoolChanged+" ") {
		t.Errorf("the incident was not told of the top-up: %v", e.temporal.updates[before:])
	}
	if !strings.Contains(page, `<tr data-product="credit-monitoring"><th scope="row">credit-monitoring</th><td data-label="Total">2</td>`) {
		t.Errorf("the report does not count the pool per product:\n%s", page)
	}
	sameRefusal("codes already in the pool", head+"SECRET-4,credit-monitoring,https://enroll.example.com/,2099-01-01\n")

	// No CSRF token, or the file before it: refused, nothing imported.
	fresh := head + "SECRET-5,credit-monitoring,https://enroll.example.com/,2099-01-01\n"
	if resp, body := e.upload(b, path, nil, "pool.csv", fresh); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Form refused") {
		t.Errorf("upload without a CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := e.upload(b, path, url.Values{csrfField: {"wrong"}}, "pool.csv", fresh); resp.StatusCode != http.StatusForbidden {
		t.Errorf("upload with another token: %d", resp.StatusCode)
	}
	if code, page := dash(""); code != http.StatusUnprocessableEntity || !strings.Contains(page, "the file is empty") {
		t.Errorf("an empty file: %d", code)
	}
	if n := stored(); n != 2 {
		t.Errorf("refused uploads changed the pool to %d codes", n)
	}
	if resp, body := e.upload(b, path, url.Values{csrfField: {e.csrf[breach.RoleLegal]}}, "", ""); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Choose the provider&#39;s CSV file") {
		t.Errorf("no file chosen: %d", resp.StatusCode)
	}
}
