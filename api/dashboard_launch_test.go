package api

import (
	"bytes"
	"database/sql"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/gin-gonic/gin"
)

// upload posts a multipart form as a browser sends the upload form:
// fields first, then the file.
func (e *dashEnv) upload(c *http.Client, path string, fields url.Values, name, content string) (*http.Response, string) {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	}) {
		_ = w.WriteField(k, fields.Get(k))
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = io.WriteString(fw, content)
	}
	_ = w.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestFactFormRoundTrip: what the incident page's facts form shows for
// the known facts (times in the viewer's zone) reads back as no change,
// and a changed input becomes exactly its fact in the PATCH body, in UTC;
// an emptied input clears, an emptied required one is refused.
func TestFactFormRoundTrip(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	aware := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	occurred := aware.Add(-9 * time.Hour)
	yes := true
	cur := breach.Facts{AwareAt: aware, OccurredAt: &occurred, Jurisdictions: []string{"DE", "US-CA"},
		Affected: map[string]int{"DE": 3, "US-CA": 600}, DataCategories: []string{"financial", "contact"},
		Risk: breach.RiskUnassessed, Significant: &yes}
	facts := formFacts(breach.RoleLegal)
	known := knownFacts(cur, facts, berlin)
	if known["aware_at"] != "2026-11-23T09:00" || known["affected"] != "DE=3, US-CA=600" ||
		known["data_categories"] != "contact,financial" || known["significant"] != "true" || known["risk"] != "unassessed" {
		t.Fatalf("known facts in Berlin: %v", known)
	}
	if body, errs := patchFactsBody(facts, known, known, berlin); len(body) != 0 || len(errs) != 0 {
		t.Fatalf("an unchanged form patches %v %v", body, errs)
	}
	posted := map[string]string{}
	for k, v := range known {
		posted[k] = v
	}
	posted["risk"] = "high"
	posted["determined_at"] = "2026-11-24T10:30"
	posted["occurred_at"] = ""
	body, errs := patchFactsBody(facts, posted, known, berlin)
	if len(errs) != 0 || len(body) != 3 || string(body["risk"]) != `"high"` ||
		string(body["determined_at"]) != `"2026-11-24T09:30:00Z"` || string(body["occurred_at"]) != "null" {
		t.Fatalf("patch %s %v", body, errs)
	}
	posted["aware_at"] = ""
	if _, errs := patchFactsBody(facts, posted, known, berlin); len(errs) != 1 || errs[0].Field != "aware_at" {
		t.Fatalf("clearing aware_at: %v", errs)
	}
	// A responder's form leaves legal's decision out.
	for _, f := range formFacts(breach.RoleResponder) {
		if f.Name == "risk" {
			t.Fatal("a responder's form offers risk")
		}
	}
	// The zone comes from the form, else UTC.
	for _, tc := range []struct{ tz, want string }{{"Asia/Tokyo", "Asia/Tokyo"}, {"", "UTC"}, {"Mars/Olympus", "UTC"}} {
		c, _ := gin.CreateTestContext(nil)
		c.Request, _ = http.NewRequest("POST", "/", bytes.NewBufferString(url.Values{"tz": {tc.tz}}.Encode()))
		c.Request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if got := viewerZone(c).String(); got != tc.want {
			t.Errorf("tz %q: zone %s, want %s", tc.tz, got, tc.want)
		}
	}
}

// TestDashboardUploadRefusals: the customer upload is the one multipart
// form, and nothing of the file is read before its CSRF token: a file
// without the token, or before it, a URL-encoded post, a form without a
// file and a file the import refuses all store nothing; a good file
// answers the report page without the customers' contacts.
func TestDashboardUploadRefusals(t *testing.T) {
	e := newMatrixEnv(t)
	b, csrf := e.browsers[breach.RoleResponder], e.csrf[breach.RoleResponder]
	id := e.incident[kindOpen]
	path := "/incidents/" + id + "/subjects"
	good := "external_id,email,country,tier\nK-1,ann@example.com,DE,high\n"
	count := func() int {
		var n int
		if err := e.store.(interface{ DB() *sql.DB }).DB().QueryRow("SELECT count(*) FROM subjects WHERE incident_id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	fileFirst := func() (*http.Response, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		fw, _ := w.CreateFormFile("file", "customers.csv")
		_, _ = io.WriteString(fw, good)
		_ = w.WriteField(csrfField, csrf)
		_ = w.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+path, &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, string(raw)
	}
	for _, tc := range []struct {
		name string
		send func() (*http.Response, string)
		code int
		says string
	}{
		{"no token", func() (*http.Response, string) { return e.upload(b, path, nil, "customers.csv", good) }, 403, "security token"},
		{"file before the token", fileFirst, 403, "security token"},
		{"url-encoded", func() (*http.Response, string) { return e.post(b, path, url.Values{csrfField: {csrf}}) }, 415, "multipart/form-data"},
		{"no file", func() (*http.Response, string) { return e.upload(b, path, url.Values{csrfField: {csrf}}, "", "") }, 422, "Choose a CSV file"},
		{"bad header", func() (*http.Response, string) {
			return e.upload(b, path, url.Values{csrfField: {csrf}}, "customers.csv", "who,what\nann,x\n")
		}, 422, "nothing was imported"},
	} {
		resp, page := tc.send()
		if resp.StatusCode != tc.code || !strings.Contains(page, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%.600s", tc.name, resp.StatusCode, tc.code, tc.says, page)
		}
		if n := count(); n != 0 {
			t.Fatalf("%s stored %d subjects", tc.name, n)
		}
	}
	resp, page := e.upload(b, path, url.Values{csrfField: {csrf}}, "customers.csv", good)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="import-accepted">1<`) || count() != 1 {
		t.Fatalf("good upload: %d, %d stored\n%s", resp.StatusCode, count(), page)
	}
	if strings.Contains(page, "ann@example.com") {
		t.Error("the report shows a customer's email")
	}
}
