package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/spf13/pflag"
)

const (
	promToken     = "tok-prometheus-0000000001"
	siemToken     = "tok-siem-00000000000000001"
	detectorToken = "tok-detector-000000000001"
)

// startAlertDev starts a dev stack with alert intake on.
func startAlertDev(t *testing.T) *devStack {
	t.Helper()
	env := map[string]string{
		"BREACHFLOW_DATA_DIR":          t.TempDir(),
		"BREACHFLOW_HTTP_ADDR":         "127.0.0.1:0",
		"BREACHFLOW_DEV_TEMPORAL_PORT": "0",
		"BREACHFLOW_DEV_UI_PORT":       "0",
		"BREACHFLOW_DEV_SMTP_ADDR":     "127.0.0.1:0",
		"BREACHFLOW_ALERT_SOURCES":     "prometheus:" + promToken + ",siem:" + siemToken + ",crm-logs:" + detectorToken,
		"BREACHFLOW_ALERT_RATE":        "100000",
		"BREACHFLOW_ALERT_BURST":       "100000",
	}
	cfg, err := config.Flags(pflag.NewFlagSet("t", pflag.ContinueOnError), func(k string) string { return env[k] })()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := startDev(ctx, cfg, devOptions{Out: io.Discard, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// postAlert sends one alert body as a source.
func postAlert(t *testing.T, base, token, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST %s: %v", path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func amBody(name, severity, instance string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "4", "status": "firing", "receiver": "breachflow",
		"alerts": []map[string]any{{
			"status": "firing", "startsAt": "2026-11-23T02:10:00Z",
			"labels":      map[string]string{"alertname": name, "severity": severity, "instance": instance},
			"annotations": map[string]string{"summary": name + " on " + instance},
		}},
	})
	return b
}

func genericBody(title, alertname, key, severity string) []byte {
	b, _ := json.Marshal(map[string]any{"title": title, "severity": severity,
		"labels": map[string]string{"alertname": alertname, "key": key}, "occurred_at": "2026-11-23T02:00:00Z"})
	return b
}

func outcome(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	list, _ := out["alerts"].([]any)
	if len(list) != 1 {
		t.Fatalf("answer %v, want one alert outcome", out)
	}
	return list[0].(map[string]any)
}

// TestAlertIntakeEndToEnd drives the dev stack as sources and a
// responder do: 1,000 copies of one Alertmanager alert and 50 distinct
// alerts, triage decisions, and a CRM log through the detector.
func TestAlertIntakeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	stack := startAlertDev(t)
	base := "http://" + stack.httpAddr
	api := apiClient{t: t, base: base}
	admin := stack.token
	openAlerts := func() []any {
		_, out := api.do("GET", "/v1/alerts?state=open&limit=1000", admin, nil, nil)
		list, _ := out["alerts"].([]any)
		return list
	}

	// 1,000 copies of one alert, from 8 senders at once.
	copyBody := amBody("DataExfiltration", "critical", "crm-db-1")
	var (
		mu       sync.Mutex
		fresh    int
		alertIDs = map[float64]bool{}
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				code, out := postAlert(t, base, promToken, "/v1/alerts?format=alertmanager", copyBody)
				if code != http.StatusAccepted {
					t.Errorf("copy: %d %v", code, out)
					continue
				}
				o := outcome(t, out)
				mu.Lock()
				alertIDs[o["alert_id"].(float64)] = true
				if o["duplicate"] == false {
					fresh++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 1000 {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(alertIDs) != 1 || fresh != 1 {
		t.Fatalf("1,000 copies made %d alerts, %d routed; want 1 and 1", len(alertIDs), fresh)
	}
	var copyID float64
	for id := range alertIDs {
		copyID = id
	}
	_, copyAlert := api.do("GET", fmt.Sprintf("/v1/alerts/%d", int(copyID)), admin, nil, nil)
	if copyAlert["count"] != float64(1000) || copyAlert["state"] != "launched" || copyAlert["rule"] != "data-exfiltration" ||
		!strings.Contains(fmt.Sprint(copyAlert["reason"]), "aware_at is the launch time") {
		t.Fatalf("the copied alert: %v", copyAlert)
	}
	copyIncident := copyAlert["incident_id"].(string)
	if !strings.Contains(fmt.Sprint(copyAlert["text"]), "DataExfiltration on crm-db-1") {
		t.Fatalf("alert text not kept: %v", copyAlert["text"])
	}

	// 50 distinct alerts: 10 in a credential-stuffing burst (one
	// incident), 5 data-exfiltration alerts (5 incidents), 35 no rule
	// launches (triage).
	launched := map[string]bool{copyIncident: true}
	var burst []string
	for i := range 10 {
		code, out := postAlert(t, base, siemToken, "/v1/alerts", genericBody("Credential stuffing", "CredentialStuffing", fmt.Sprint("ip-", i), "medium"))
		o := outcome(t, out)
		if code != http.StatusAccepted || o["incident_id"] == nil || o["rule"] != "credential-stuffing" {
			t.Fatalf("burst alert %d: %d %v", i, code, o)
		}
		burst = append(burst, o["incident_id"].(string))
		launched[o["incident_id"].(string)] = true
	}
	for i := range 5 {
		body, _ := json.Marshal(map[string]any{"title": fmt.Sprint("DLP violation ", i), "severity": "high",
			"labels": map[string]string{"alertname": "DLPViolation", "key": fmt.Sprint("mail-", i), "country": "fr"}})
		_, out := postAlert(t, base, siemToken, "/v1/alerts", body)
		o := outcome(t, out)
		if o["state"] != "launched" || o["incident_id"] == nil {
			t.Fatalf("DLP alert %d: %v", i, o)
		}
		launched[o["incident_id"].(string)] = true
		if i == 0 {
			_, inc := api.do("GET", "/v1/incidents/"+o["incident_id"].(string), admin, nil, nil)
			if js := fmt.Sprint(inc["facts"].(map[string]any)["jurisdictions"]); js != "[FR]" {
				t.Fatalf("jurisdictions from the country label: %s", js)
			}
		}
	}
	for i := range 35 {
		code, out := postAlert(t, base, promToken, "/v1/alerts?format=alertmanager", amBody("DiskAlmostFull", "warning", fmt.Sprint("node-", i)))
		if o := outcome(t, out); code != http.StatusAccepted || o["state"] != "open" {
			t.Fatalf("triage alert %d: %d %v", i, code, o)
		}
	}
	for _, id := range burst[1:] {
		if id != burst[0] {
			t.Fatalf("the burst launched %v, want one incident", burst)
		}
	}
	if len(launched) != 1+1+5 {
		t.Fatalf("%d incidents launched, want 7: %v", len(launched), launched)
	}
	_, burstInc := api.do("GET", "/v1/incidents/"+burst[0], admin, nil, nil)
	if al, _ := burstInc["alerts"].([]any); len(al) != 10 {
		t.Fatalf("burst incident lists %d alerts, want 10", len(al))
	}
	_, copyInc := api.do("GET", "/v1/incidents/"+copyIncident, admin, nil, nil)
	al, _ := copyInc["alerts"].([]any)
	if len(al) != 1 || al[0].(map[string]any)["count"] != float64(1000) || al[0].(map[string]any)["source"] != "prometheus" {
		t.Fatalf("incident alerts %v", al)
	}
	if tl := fmt.Sprint(copyInc["timeline"]); !strings.Contains(tl, "alert.launched") || !strings.Contains(tl, "seen 1000×") ||
		!strings.Contains(tl, "aware_at was set to the launch time by the rule, not by a person") {
		t.Fatalf("the timeline lacks the alert: %s", tl)
	}
	if facts, _ := copyInc["facts"].(map[string]any); facts["discovered_at"] != "2026-11-23T02:10:00Z" || facts["aware_at"] == "2026-11-23T02:10:00Z" {
		t.Fatalf("facts %v: want discovered_at from the alert, aware_at not", facts)
	}

	queue := openAlerts()
	if len(queue) != 35 {
		t.Fatalf("%d alerts in triage, want 35", len(queue))
	}
	first := queue[0].(map[string]any)
	if !strings.Contains(fmt.Sprint(first["labels"]), "node-0") {
		t.Fatalf("triage is not oldest first: %v", first)
	}

	// Dismiss one; it fires again within the window and stays dismissed.
	dismissID := int(first["id"].(float64))
	if code, out := api.do("POST", fmt.Sprintf("/v1/alerts/%d/dismiss", dismissID), admin, map[string]string{}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("dismiss without reason: %d %v", code, out)
	}
	if code, out := api.do("POST", fmt.Sprintf("/v1/alerts/%d/dismiss", dismissID), admin, map[string]string{"reason": "disk alerts are ops, not breaches"}, nil); code != http.StatusOK {
		t.Fatalf("dismiss: %d %v", code, out)
	}
	_, out := postAlert(t, base, promToken, "/v1/alerts?format=alertmanager", amBody("DiskAlmostFull", "warning", "node-0"))
	if o := outcome(t, out); o["duplicate"] != true || o["state"] != "dismissed" || o["count"] != float64(2) {
		t.Fatalf("dismissed alert fired again: %v", o)
	}
	if n := len(openAlerts()); n != 34 {
		t.Fatalf("%d in triage after a dismissal and a repeat, want 34", n)
	}

	// A responder accepts an alert: launch; aware_at is the acceptance.
	acceptID := int(queue[1].(map[string]any)["id"].(float64))
	before := time.Now().UTC().Add(-2 * time.Second)
	code, acc := api.do("POST", fmt.Sprintf("/v1/alerts/%d/launch", acceptID), admin,
		map[string]any{"playbook": "customer-data-breach", "jurisdictions": []string{"DE"}}, nil)
	if code != http.StatusCreated {
		t.Fatalf("launch from triage: %d %v", code, acc)
	}
	accAlert := acc["alert"].(map[string]any)
	inc := acc["incident"].(map[string]any)
	aware, _ := time.Parse(time.RFC3339, inc["facts"].(map[string]any)["aware_at"].(string))
	if accAlert["state"] != "launched" || accAlert["decided_by"] != "admin" || aware.Before(before.Truncate(time.Second)) ||
		!strings.Contains(fmt.Sprint(accAlert["reason"]), "accepted by admin; aware_at") {
		t.Fatalf("accepted alert %v, aware_at %v", accAlert, aware)
	}
	if code, _ := api.do("POST", fmt.Sprintf("/v1/alerts/%d/launch", acceptID), admin, map[string]any{"playbook": "customer-data-breach"}, nil); code != http.StatusConflict {
		t.Fatalf("second launch of one alert: %d, want 409", code)
	}
	// Attach another to that incident.
	attachID := int(queue[2].(map[string]any)["id"].(float64))
	if code, out := api.do("POST", fmt.Sprintf("/v1/alerts/%d/attach", attachID), admin, map[string]string{"incident": "BR-ZZZZZZ"}, nil); code != http.StatusNotFound {
		t.Fatalf("attach to unknown incident: %d %v", code, out)
	}
	if code, out := api.do("POST", fmt.Sprintf("/v1/alerts/%d/attach", attachID), admin, map[string]string{"incident": inc["id"].(string)}, nil); code != http.StatusOK {
		t.Fatalf("attach: %d %v", code, out)
	}
	_, accInc := api.do("GET", "/v1/incidents/"+inc["id"].(string), admin, nil, nil)
	if al, _ := accInc["alerts"].([]any); len(al) != 2 {
		t.Fatalf("accepted incident lists %d alerts, want 2", len(al))
	}
	_, audit := api.do("GET", "/v1/incidents/"+inc["id"].(string)+"/audit", admin, nil, nil)
	if s := fmt.Sprint(audit); !strings.Contains(s, "alert.launched") || !strings.Contains(s, "alert.attached") {
		t.Fatalf("audit lacks the alert decisions: %s", s)
	}
	if n := len(openAlerts()); n != 32 {
		t.Fatalf("%d in triage after launch and attach, want 32", n)
	}

	// Bad input: nothing stored.
	if code, _ := postAlert(t, base, "tok-unknown-000000000000", "/v1/alerts", genericBody("x", "DLPViolation", "k", "high")); code != http.StatusUnauthorized {
		t.Fatalf("unknown source: %d", code)
	}
	if code, out := postAlert(t, base, siemToken, "/v1/alerts", []byte(`{"severity":"high"}`)); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["detail"]), "title: required") {
		t.Fatalf("no title: %d %v", code, out)
	}
	if code, _ := postAlert(t, base, siemToken, "/v1/alerts", bytes.Repeat([]byte("x"), 10<<20)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("10 MB body: %d", code)
	}
	_, all := api.do("GET", "/v1/alerts?state=any&limit=1000", admin, nil, nil)
	if n := len(all["alerts"].([]any)); n != 1+50 {
		t.Fatalf("%d alerts stored, want 51", n)
	}

	// The detector: a generated ReportExport log of 100,000 events.
	var log bytes.Buffer
	planted, err := detect.Generate(&log, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	code, det := postAlert(t, base, detectorToken, "/v1/detect/salesforce", log.Bytes())
	if code != http.StatusOK {
		t.Fatalf("detect: %d %v", code, det)
	}
	outs, _ := det["alerts"].([]any)
	if len(outs) != 3 {
		t.Fatalf("detect made %d alerts, want 3: %v", len(outs), det["report"])
	}
	for i, o := range outs {
		o := o.(map[string]any)
		_, a := api.do("GET", fmt.Sprintf("/v1/alerts/%d", int(o["alert_id"].(float64))), admin, nil, nil)
		labels := a["labels"].(map[string]any)
		if a["source"] != "detector" || labels["detect_rule"] != planted[i].Rule || labels["user"] != planted[i].User || labels["day"] != planted[i].Day {
			t.Fatalf("finding alert %d = %v, want %+v", i, a, planted[i])
		}
		if i == 0 {
			if a["state"] != "launched" || a["rule"] != "crm-after-hours-export" {
				t.Fatalf("the after-hours finding was not launched: %v", a)
			}
			_, di := api.do("GET", "/v1/incidents/"+a["incident_id"].(string), admin, nil, nil)
			if di["playbook_id"] != "insider-exfiltration" && di["playbook"] != "insider-exfiltration" {
				t.Fatalf("launched incident %v", di)
			}
		} else if a["state"] != "open" {
			t.Fatalf("finding %d not in triage: %v", i, a)
		}
	}
	// The same log again: the findings de-duplicate.
	_, again := postAlert(t, base, detectorToken, "/v1/detect/salesforce", log.Bytes())
	for _, o := range again["alerts"].([]any) {
		if o.(map[string]any)["duplicate"] != true {
			t.Fatalf("a resent log made a new alert: %v", o)
		}
	}
}
