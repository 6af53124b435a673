package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
)

// bearerPost posts a JSON body to path with the API token.
func (e *dashEnv) bearerPost(path, token, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// issueExample is the issue's question: 600 Californians and 40 Texans,
// health data, learned of on Tuesday 24 November 2026.
const issueExample = `{"aware_at":"2026-11-24T09:00:00Z","jurisdictions":["US-CA","US-TX"],
	"affected":{"US-CA":600,"US-TX":40},"data_categories":["health"]}`

func dutyByID(a Assessment, id string) *breach.Duty {
	for i := range a.Obligations {
		if a.Obligations[i].ID == id {
			return &a.Obligations[i]
		}
	}
	return nil
}

// TestAssessmentAnswersTheIssueExample: a viewer asks; California's
// 30-day individual notice is due at the end of 24 December in Los
// Angeles (discovery taken as awareness), its AG copy waits for the
// notices, Texas's 60 days wait for determined_at, and Texas's AG duty
// (250 or more Texans) does not arise for 40. Nothing is stored.
func TestAssessmentAnswersTheIssueExample(t *testing.T) {
	e := newDashEnv(t)
	code, body := e.bearerPost("/v1/assessments", e.viewer, issueExample)
	if code != http.StatusOK {
		t.Fatalf("assessment: %d %s", code, body)
	}
	var a Assessment
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	ca := dutyByID(a, "us-ca-residents")
	wantCA := time.Date(2026, 12, 25, 7, 59, 59, 0, time.UTC) // 23:59:59 PST on day 30
	if ca == nil || ca.DueAt == nil || !ca.DueAt.Equal(wantCA) || ca.Source == "" {
		t.Fatalf("us-ca-residents = %+v, want due %s with a source", ca, wantCA)
	}
	if ag := dutyByID(a, "us-ca-ag"); ag == nil || ag.DueAt != nil || !slices.Contains(ag.MissingFacts, "subjects_notified_at") {
		t.Errorf("us-ca-ag = %+v, want it waiting for subjects_notified_at", ag)
	}
	if tx := dutyByID(a, "us-tx-individuals"); tx == nil || tx.DueAt != nil || !slices.Contains(tx.MissingFacts, "determined_at") {
		t.Errorf("us-tx-individuals = %+v, want it waiting for determined_at", tx)
	}
	if dutyByID(a, "us-tx-ag") != nil {
		t.Error("us-tx-ag arose for 40 Texans; Texas's AG notice starts at 250")
	}
	var missing []string
	for _, m := range a.Missing {
		missing = append(missing, m.Fact)
		if m.Fact == "determined_at" && (!slices.Contains(m.Obligations, "us-tx-individuals") || m.Doc == "") {
			t.Errorf("missing determined_at = %+v, want it tied to us-tx-individuals with its meaning", m)
		}
	}
	if !slices.Contains(missing, "determined_at") || !slices.Contains(missing, "subjects_notified_at") {
		t.Errorf("missing facts %v, want determined_at and subjects_notified_at", missing)
	}
	cited := 0
	for _, s := range a.Sources {
		if strings.HasPrefix(s.URL, "http") && len(s.Obligations) > 0 {
			cited++
		}
	}
	if cited == 0 {
		t.Errorf("no sources: %+v", a.Sources)
	}
	if string(a.Launch["aware_at"]) != `"2026-11-24T09:00:00Z"` || !strings.Contains(string(a.Launch["affected"]), "600") {
		t.Errorf("launch body %s, want the assessed facts", mustJSON(a.Launch))
	}
	// A determination date next week (the future) starts Texas's clock.
	code, body = e.bearerPost("/v1/assessments", e.viewer, strings.Replace(issueExample, `"aware_at"`, `"determined_at":"2030-01-06T12:00:00Z","aware_at"`, 1))
	if code != http.StatusOK {
		t.Fatalf("assessment with a future determination: %d %s", code, body)
	}
	var later Assessment
	_ = json.Unmarshal([]byte(body), &later)
	if tx := dutyByID(later, "us-tx-individuals"); tx == nil || tx.DueAt == nil || !tx.DueAt.After(time.Date(2030, 3, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("us-tx-individuals with determined_at 2030-01-06 = %+v, want due 60 days later", tx)
	}
	if rows, err := e.store.ListDeadlines(t.Context(), store.DeadlineFilter{}); err != nil || len(rows) != 0 {
		t.Errorf("an assessment stored obligations: %v, %v", rows, err)
	}
}

// TestAssessmentRefusesUnknownValues: an unknown jurisdiction, flag or
// data category is a 422 naming the field and listing what it accepts.
func TestAssessmentRefusesUnknownValues(t *testing.T) {
	e := newDashEnv(t)
	for _, tc := range []struct {
		name, body, field, accepts string
	}{
		{"jurisdiction", `{"jurisdictions":["US-CA","US-ZZ"]}`, "jurisdictions[1]", "US-TX"},
		{"affected", `{"affected":{"XX":3}}`, "affected.XX", "DE"},
		{"flag", `{"flags":["hipaa_covered_entity","evil"]}`, "flags[1]", breach.FlagHIPAACoveredEntity},
		{"category", `{"data_categories":["gossip"]}`, "data_categories[0]", "health"},
		{"risk", `{"risk":"some"}`, "risk", "high"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.bearerPost("/v1/assessments", e.viewer, tc.body)
			var p Problem
			if err := json.Unmarshal([]byte(body), &p); err != nil || code != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s, want a 422 problem", code, body)
			}
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field || !slices.Contains(p.Errors[0].Accepted, tc.accepts) ||
				!strings.Contains(p.Detail, tc.field) {
				t.Fatalf("problem %+v, want one error on %s accepting %s, named in the detail", p, tc.field, tc.accepts)
			}
		})
	}
	if code, body := e.bearerPost("/v1/assessments", e.viewer, `{"vibes":1}`); code != http.StatusBadRequest || !strings.Contains(body, "vibes") {
		t.Errorf("an unknown field: %d %s, want 400 naming it", code, body)
	}
	if code, _ := e.bearerPost("/v1/assessments", "not-a-token", `{}`); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestWhatIfDiff: against an incident whose obligations the evaluator
// gave for the issue's facts, 300 Texans instead of 40 add Texas's AG
// notice; dropping Texas removes its duties (a filed one is kept on the
// record); a determination date moves Texas's individual notice.
func TestWhatIfDiff(t *testing.T) {
	var base Assessment
	e := newDashEnv(t)
	_, body := e.bearerPost("/v1/assessments", e.viewer, issueExample)
	if err := json.Unmarshal([]byte(body), &base); err != nil {
		t.Fatal(err)
	}
	st := &breach.Status{ID: "BR-7K3F9Q", Facts: base.Facts}
	for _, d := range base.Obligations {
		st.Obligations = append(st.Obligations, breach.Obligation{Duty: d, Status: breach.ObligationPending})
	}
	eval := func(patch string) WhatIf {
		t.Helper()
		var req patchRequest
		if err := json.Unmarshal([]byte(patch), &req); err != nil {
			t.Fatal(err)
		}
		f, set, errs := applyPatch(st.Facts, req.Facts, time.Now().Add(assessHorizon))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		duties, err := evaluateForTest(f)
		if err != nil {
			t.Fatal(err)
		}
		return diffDuties(st, f, set, duties, time.Now())
	}
	ids := func(ds []breach.Duty) (out []string) {
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	w := eval(`{"affected":{"US-CA":600,"US-TX":300}}`)
	if !slices.Equal(ids(w.Added), []string{"us-tx-ag"}) || len(w.Removed) != 0 || !slices.Equal(w.Changed, []string{"affected"}) {
		t.Fatalf("300 Texans: added %v removed %v changed %v", ids(w.Added), w.Removed, w.Changed)
	}
	st.Obligations[slices.IndexFunc(st.Obligations, func(o breach.Obligation) bool { return o.ID == "us-tx-individuals" })].Status = breach.ObligationFiled
	w = eval(`{"jurisdictions":["US-CA"],"affected":{"US-CA":600}}`)
	if len(w.Removed) != 1 || w.Removed[0].ID != "us-tx-individuals" || !strings.Contains(w.Removed[0].Note, "filed") || len(w.Added) != 0 {
		t.Fatalf("without Texas: removed %+v added %v", w.Removed, ids(w.Added))
	}
	w = eval(`{"determined_at":"2026-11-25T09:00:00Z"}`)
	if len(w.Moved) != 1 || w.Moved[0].ID != "us-tx-individuals" || w.Moved[0].DueAt != nil || w.Moved[0].NewDueAt == nil {
		t.Fatalf("with a determination: changed %+v", w.Moved)
	}
	if !slices.Contains(w.Unchanged, "us-ca-residents") {
		t.Errorf("unchanged %v, want us-ca-residents", w.Unchanged)
	}
}

// evaluateForTest is the workflow's evaluator, as the handlers call it.
func evaluateForTest(f breach.Facts) ([]breach.Duty, error) {
	return workflows.EvaluateObligations(context.Background(), f)
}
