package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
)

const signSecret = "sign-secret-0000000001"

func newAlertEnv(t *testing.T) *dashEnv {
	t.Helper()
	srcs, err := alerts.ParseSources("siem:tok-siem-0000000000001:" + signSecret + ",plain:tok-plain-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := playbooks.Embedded()
	rules, err := alerts.LoadRules("", cat)
	if err != nil {
		t.Fatal(err)
	}
	det, _ := detect.DefaultConfig()
	return newDashEnvWith(t, func(d *Deps) {
		d.Alerts = &AlertDeps{Sources: srcs, Rules: rules, Rate: 0.5, Burst: 10, Detect: det}
	})
}

func (e *dashEnv) send(path, token string, body []byte, hdr ...string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (e *dashEnv) storedAlerts() int {
	e.t.Helper()
	list, err := e.store.ListAlerts(context.Background(), store.AlertFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// TestAlertRefusalsStoreNothing sends what a source must not get through:
// each is refused with its status and leaves the store as it was.
func TestAlertRefusalsStoreNothing(t *testing.T) {
	e := newAlertEnv(t)
	body := []byte(`{"title":"Disk almost full","labels":{"host":"db-1"}}`)
	for _, tc := range []struct {
		name  string
		path  string
		token string
		body  []byte
		hdr   []string
		want  int
	}{
		{"no token", "/v1/alerts", "", body, nil, http.StatusUnauthorized},
		{"unknown source", "/v1/alerts", "tok-nobody-0000000001", body, nil, http.StatusUnauthorized},
		{"an API token is not a source token", "/v1/alerts", e.admin, body, nil, http.StatusUnauthorized},
		{"unsigned", "/v1/alerts", "tok-siem-0000000000001", body, nil, http.StatusUnauthorized},
		{"bad signature", "/v1/alerts", "tok-siem-0000000000001", body, []string{alerts.SignatureHeader, alerts.SignatureValue([]byte("other-secret-000000"), body)}, http.StatusUnauthorized},
		{"signed for another body", "/v1/alerts", "tok-siem-0000000000001", body, []string{alerts.SignatureHeader, alerts.SignatureValue([]byte(signSecret), []byte("{}"))}, http.StatusUnauthorized},
		{"not the declared format", "/v1/alerts?format=alertmanager", "tok-plain-000000000001", body, nil, http.StatusBadRequest},
		{"unknown format", "/v1/alerts?format=nagios", "tok-plain-000000000001", body, nil, http.StatusBadRequest},
		{"10 MB", "/v1/alerts", "tok-plain-000000000001", bytes.Repeat([]byte(" "), 10<<20), nil, http.StatusRequestEntityTooLarge},
		{"unknown log format", "/v1/detect/excel", "tok-plain-000000000001", []byte("a,b\n"), nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := e.send(tc.path, tc.token, tc.body, tc.hdr...); resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if n := e.storedAlerts(); n != 0 {
				t.Fatalf("%d alerts stored", n)
			}
		})
	}
	signed := e.send("/v1/alerts", "tok-siem-0000000000001", body, alerts.SignatureHeader, alerts.SignatureValue([]byte(signSecret), body))
	if signed.StatusCode != http.StatusAccepted || e.storedAlerts() != 1 {
		t.Fatalf("signed alert: %d, %d stored", signed.StatusCode, e.storedAlerts())
	}
}

// TestAlertRateLimit spends a source's burst and wants 429 with
// Retry-After, while another source is unaffected.
func TestAlertRateLimit(t *testing.T) {
	e := newAlertEnv(t)
	for i := range 10 {
		body := fmt.Appendf(nil, `{"title":"Disk almost full","labels":{"host":"db-%d"}}`, i)
		if resp := e.send("/v1/alerts", "tok-plain-000000000001", body); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("call %d: %d", i, resp.StatusCode)
		}
	}
	resp := e.send("/v1/alerts", "tok-plain-000000000001", []byte(`{"title":"one too many"}`))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("over the limit: %d Retry-After %q, want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := e.storedAlerts(); n != 10 {
		t.Fatalf("%d stored, want 10", n)
	}
	body := []byte(`{"title":"other source"}`)
	if resp := e.send("/v1/alerts", "tok-siem-0000000000001", body, alerts.SignatureHeader, alerts.SignatureValue([]byte(signSecret), body)); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("another source: %d", resp.StatusCode)
	}
}

// TestTriageRolesAndSealing checks that the queue is for responders and
// that an alert's text is sealed at rest but shown to them.
func TestTriageRolesAndSealing(t *testing.T) {
	e := newAlertEnv(t)
	body := []byte(`{"title":"DLP: list mailed out","text":"sent by jane.doe@example.com","labels":{"alertname":"Other"}}`)
	if resp := e.send("/v1/alerts", "tok-plain-000000000001", body); resp.StatusCode != http.StatusAccepted {
		t.Fatal(resp.StatusCode)
	}
	var sealed []byte
	if err := e.store.(interface{ DB() *sql.DB }).DB().QueryRow(`SELECT sealed FROM alerts`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("jane.doe")) {
		t.Fatal("alert text stored in the clear")
	}
	get := func(token, path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := get(e.viewer, "/v1/alerts"); code != http.StatusForbidden {
		t.Fatalf("viewer listing alerts: %d", code)
	}
	code, list := get(e.admin, "/v1/alerts")
	if code != http.StatusOK || len(list["alerts"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, list)
	}
	code, one := get(e.admin, "/v1/alerts/1")
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(one["text"]), "jane.doe") || len(one["events"].([]any)) != 1 {
		t.Fatalf("show: %d %v", code, one)
	}
	if code, _ := get(e.admin, "/v1/alerts/99"); code != http.StatusNotFound {
		t.Fatalf("unknown alert: %d", code)
	}
}

// TestDashboardTriage works the triage page as a browser without
// JavaScript does: plain forms with the session's CSRF token.
func TestDashboardTriage(t *testing.T) {
	e := newAlertEnv(t)
	for _, host := range []string{"db-1", "db-2", "db-3"} {
		body := fmt.Appendf(nil, `{"title":"Disk almost full on %s","labels":{"host":"%s"}}`, host, host)
		if resp := e.send("/v1/alerts", "tok-plain-000000000001", body); resp.StatusCode != http.StatusAccepted {
			t.Fatal(resp.StatusCode)
		}
	}
	ctx := context.Background()
	inc, _, err := e.store.CreateIncident(ctx, store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: "high", CreatedBy: "ada-admin"})
	if err != nil {
		t.Fatal(err)
	}

	viewer := e.browser()
	e.signIn(viewer, e.viewer)
	if resp, _ := e.get(viewer, "/triage"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer on triage: %d", resp.StatusCode)
	}
	admin := e.browser()
	e.signIn(admin, e.admin)
	resp, page := e.get(admin, "/triage")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/triage"`) {
		t.Fatalf("triage page: %d\n%s", resp.StatusCode, page)
	}
	first, third := strings.Index(page, "db-1"), strings.Index(page, "db-3")
	if first < 0 || third < first || strings.Count(page, `data-action="dismiss"`) != 3 {
		t.Fatalf("triage page does not list the three alerts oldest first:\n%s", page)
	}
	csrf := csrfOf(t, page)

	if resp, _ := e.post(admin, "/triage/1/dismiss", url.Values{"reason": {"noise"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dismiss without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := e.post(admin, "/triage/1/dismiss", url.Values{"csrf": {csrf}, "reason": {" "}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss without reason: %d", resp.StatusCode)
	}
	if _, page := e.get(admin, "/triage"); !strings.Contains(page, "needs a reason") {
		t.Fatalf("no message for a dismissal without reason:\n%s", page)
	}
	if a, _ := e.store.GetAlert(ctx, 1); a.State != store.AlertOpen {
		t.Fatalf("a refused dismissal changed the alert: %+v", a)
	}
	e.post(admin, "/triage/1/dismiss", url.Values{"csrf": {csrf}, "reason": {"ops alert, not a breach"}})
	e.post(admin, "/triage/2/attach", url.Values{"csrf": {csrf}, "incident": {inc.ID}})
	e.post(admin, "/triage/3/attach", url.Values{"csrf": {csrf}, "incident": {"BR-ZZZZZZ"}})
	_, page = e.get(admin, "/triage")
	if !strings.Contains(page, "no such incident") {
		t.Fatalf("no message for an unknown incident:\n%s", page)
	}
	if strings.Count(page, `data-action="dismiss"`) != 1 {
		t.Fatalf("the queue still shows decided alerts:\n%s", page)
	}
	a1, _ := e.store.GetAlert(ctx, 1)
	a2, _ := e.store.GetAlert(ctx, 2)
	a3, _ := e.store.GetAlert(ctx, 3)
	if a1.State != store.AlertDismissed || a1.DecidedBy != "ada-admin" || a1.Reason != "ops alert, not a breach" ||
		a2.State != store.AlertAttached || a2.IncidentID != inc.ID || a3.State != store.AlertOpen {
		t.Fatalf("alerts after the decisions: %+v\n%+v\n%+v", a1, a2, a3)
	}
	audit, err := e.store.ListAudit(ctx, inc.ID)
	if err != nil || len(audit) != 1 || audit[0].Action != "alert.attached" || audit[0].Actor != "ada-admin" {
		t.Fatalf("audit = %+v, %v", audit, err)
	}
	// A second decision on a decided alert is refused on the page.
	e.post(admin, "/triage/1/attach", url.Values{"csrf": {csrf}, "incident": {inc.ID}})
	if _, page := e.get(admin, "/triage"); !strings.Contains(page, "no longer in triage") {
		t.Fatalf("no message for a decided alert:\n%s", page)
	}
}

// TestDetectReportsBadLines sends a log with a bad encoding, a bad time,
// a short line and a line out of order: the answer names those lines, and
// the good lines still make their finding, which becomes an alert.
func TestDetectReportsBadLines(t *testing.T) {
	dir := t.TempDir()
	// Replace the shipped rules with one that queues every finding, so no
	// launch (and no Temporal) is involved.
	if err := os.WriteFile(dir+"/examples.yaml", []byte("version: 1\nrules:\n  - id: hold\n    action: triage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, _ := playbooks.Embedded()
	rules, err := alerts.LoadRules(dir, cat)
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := alerts.ParseSources("crm:tok-crm-00000000000001")
	det, _ := detect.DefaultConfig()
	e := newDashEnvWith(t, func(d *Deps) { d.Alerts = &AlertDeps{Sources: srcs, Rules: rules, Rate: 10, Burst: 10, Detect: det} })
	log, err := os.ReadFile("../internal/detect/testdata/bad-salesforce.csv")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/detect/salesforce", bytes.NewReader(log))
	req.Header.Set("Authorization", "Bearer tok-crm-00000000000001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Report detect.Report    `json:"report"`
		Alerts []alerts.Outcome `json:"alerts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("detect: %d %v", resp.StatusCode, err)
	}
	var lines []int
	for _, p := range out.Report.Problems {
		lines = append(lines, p.Line)
	}
	if fmt.Sprint(lines) != "[3 4 5 6]" || out.Report.Events != 2 {
		t.Fatalf("problems on lines %v, %d events; want [3 4 5 6] and 2", lines, out.Report.Events)
	}
	if len(out.Alerts) != 1 || out.Alerts[0].State != store.AlertOpen || out.Alerts[0].Rule != "hold" {
		t.Fatalf("alerts %+v", out.Alerts)
	}
	a, err := e.store.GetAlert(context.Background(), out.Alerts[0].AlertID)
	if err != nil || a.Source != DetectorSource || a.Labels["submitted_by"] != "crm" || a.Labels["user"] != "U9" {
		t.Fatalf("finding alert %+v, %v", a, err)
	}
}

// TestAlertsOfRestrictedIncidentsHidden: an alert attached to a
// restricted incident is that incident's evidence, so a responder who is
// no member neither lists it nor reads it (404, as for no alert), while a
// member and an admin do.
func TestAlertsOfRestrictedIncidentsHidden(t *testing.T) {
	e := newAlertEnv(t)
	ctx := context.Background()
	member, _, err := e.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	outsider, _, err := e.store.CreateToken(ctx, "otto-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	inc, _, err := e.store.CreateIncident(ctx, store.Incident{PlaybookID: "insider-exfiltration", PlaybookVersion: 1,
		Severity: "high", CreatedBy: "rita-responder", Restricted: true, Members: []string{"rita-responder"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"DLP: payroll export mailed out", "Disk nearly full"} {
		body := []byte(`{"title":"` + title + `","labels":{"alertname":"Other"}}`)
		if resp := e.send("/v1/alerts", "tok-plain-000000000001", body); resp.StatusCode != http.StatusAccepted {
			t.Fatal(resp.StatusCode)
		}
	}
	if _, err := e.store.DecideAlert(ctx, store.AlertDecision{AlertID: 1, State: store.AlertAttached, IncidentID: inc.ID,
		Actor: "rita-responder", At: e.now}); err != nil {
		t.Fatal(err)
	}
	list := func(token string) string {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/alerts?state=any", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	show := func(token string) int {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/alerts/1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, who := range []struct {
		name, token string
		sees        bool
	}{{"member", member, true}, {"admin", e.admin, true}, {"non-member", outsider, false}} {
		got := list(who.token)
		if strings.Contains(got, "payroll") != who.sees || !strings.Contains(got, "Disk nearly full") {
			t.Errorf("%s lists %s", who.name, got)
		}
		if code, want := show(who.token), map[bool]int{true: 200, false: 404}[who.sees]; code != want {
			t.Errorf("%s reads the attached alert: %d, want %d", who.name, code, want)
		}
	}
}
