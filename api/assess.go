package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// Assessments answer "what do we owe, to whom, by when?" from facts
// alone: the same facts a launch takes, read by the same code, judged by
// the same evaluator the Incident workflow runs. Nothing is started and
// nothing is stored.

// assessHorizon is how far after now an assessment's times may lie: legal
// asks about a breach it expects to learn of, or a filing it plans.
const assessHorizon = 10 * 365 * 24 * time.Hour

// Assessment is the answer of POST /v1/assessments.
type Assessment struct {
	AssessedAt  time.Time      `json:"assessed_at"`
	Facts       breach.Facts   `json:"facts"`
	Obligations []breach.Duty  `json:"obligations"`
	Missing     []MissingFact  `json:"missing_facts"`
	Sources     []SourceOfDuty `json:"sources"`
	// Launch is the body of a POST /v1/incidents that launches an
	// incident with exactly these facts (playbook and title to be added
	// when the assessment had none).
	Launch map[string]json.RawMessage `json:"launch"`
}

// MissingFact is a fact some duty still needs, with what it means and
// which duties wait for it.
type MissingFact struct {
	Fact        string   `json:"fact"`
	Doc         string   `json:"doc,omitempty"`
	Obligations []string `json:"obligations"`
}

// SourceOfDuty is one cited text and the duties that rest on it.
type SourceOfDuty struct {
	URL         string   `json:"url"`
	Obligations []string `json:"obligations"`
}

// readAssessment decodes and checks an assessment request: a launch body
// whose playbook and title may be left out and whose times may lie in
// the future. It writes the problem itself and reports success.
func (s *Server) readAssessment(c *gin.Context) (launchRequest, breach.Facts, bool) {
	var req launchRequest
	if !decodeStrict(c, &req) {
		return req, breach.Facts{}, false
	}
	now := s.now()
	f, errs := s.assessFacts(&req, now)
	if len(errs) > 0 {
		problem(c, http.StatusUnprocessableEntity, assessDetail(errs), errs...)
		return req, breach.Facts{}, false
	}
	return req, f, true
}

// assessFacts reads req's facts as a launch does, with future times
// allowed, and checks the incident's own fields that were given.
func (s *Server) assessFacts(req *launchRequest, now time.Time) (breach.Facts, []FieldError) {
	f, errs := req.facts(now, now.Add(assessHorizon))
	if req.Playbook != "" {
		if _, ok := s.playbooks.Get(req.Playbook); !ok {
			errs = append(errs, FieldError{Field: "playbook", Message: fmt.Sprintf("unknown playbook %q", req.Playbook), Accepted: s.playbookIDs()})
		}
	}
	if req.Severity != "" && !slices.Contains(breach.Severities, req.Severity) {
		errs = append(errs, FieldError{Field: "severity", Message: "one of " + strings.Join(breach.Severities, ", "), Accepted: breach.Severities})
	}
	return f, withAccepted(errs)
}

func (s *Server) playbookIDs() []string {
	var out []string
	for _, p := range s.playbooks.List() {
		out = append(out, p.ID)
	}
	return out
}

// withAccepted adds to each problem of a closed-set fact the values it
// accepts, so a caller can correct "flags[0]" without reading the docs.
func withAccepted(errs []FieldError) []FieldError {
	for i, e := range errs {
		name, _, _ := strings.Cut(e.Field, "[")
		name, _, _ = strings.Cut(name, ".")
		fact, ok := breach.LookupFact(name)
		switch {
		case !ok:
		case fact.Kind == breach.KindJurisdictions || fact.Kind == breach.KindCounts:
			errs[i].Accepted = breach.Jurisdictions()
		case len(fact.Values) > 0:
			errs[i].Accepted = slices.Clone(fact.Values)
		}
	}
	return errs
}

// assessDetail names the offending fields in the problem's detail.
func assessDetail(errs []FieldError) string {
	var parts []string
	for _, e := range errs {
		parts = append(parts, e.Field+": "+e.Message)
	}
	return "the assessment has invalid facts: " + strings.Join(parts, "; ")
}

// assess handles POST /v1/assessments.
func (s *Server) assess(c *gin.Context) {
	req, f, ok := s.readAssessment(c)
	if !ok {
		return
	}
	a, err := s.assessment(c.Request.Context(), req, f)
	if err != nil {
		s.internal(c, "assess", err)
		return
	}
	c.JSON(http.StatusOK, a)
}

// assessment evaluates f with the workflow's own evaluator.
func (s *Server) assessment(ctx context.Context, req launchRequest, f breach.Facts) (*Assessment, error) {
	duties, err := workflows.EvaluateObligations(ctx, f)
	if err != nil {
		return nil, err
	}
	if duties == nil {
		duties = []breach.Duty{}
	}
	a := &Assessment{AssessedAt: s.now().UTC(), Facts: f, Obligations: duties,
		Missing: missingFacts(duties), Sources: sourcesOf(duties), Launch: launchBody(req, f)}
	return a, nil
}

// launchBody is the launch request that starts an incident with the
// assessed facts: what was sent, with aware_at fixed to the value the
// assessment used (a launch later would otherwise take its own now).
func launchBody(req launchRequest, f breach.Facts) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range req.Facts {
		out[k] = v
	}
	raw, _ := json.Marshal(f.AwareAt.UTC().Format(time.RFC3339))
	out["aware_at"] = raw
	for k, v := range map[string]string{"playbook": req.Playbook, "title": req.Title, "summary": req.Summary,
		"severity": req.Severity, "external_ref": req.ExternalRef} {
		if v != "" {
			raw, _ := json.Marshal(v)
			out[k] = raw
		}
	}
	return out
}

// missingFacts gathers what the duties still need, fact by fact.
func missingFacts(duties []breach.Duty) []MissingFact {
	out := []MissingFact{}
	index := map[string]int{}
	for _, d := range duties {
		for _, m := range d.MissingFacts {
			i, ok := index[m]
			if !ok {
				name, _, _ := strings.Cut(m, ".")
				mf := MissingFact{Fact: m}
				if fact, ok := breach.LookupFact(name); ok {
					mf.Doc = fact.Doc
				}
				i = len(out)
				index[m] = i
				out = append(out, mf)
			}
			if !slices.Contains(out[i].Obligations, d.ID) {
				out[i].Obligations = append(out[i].Obligations, d.ID)
			}
		}
	}
	return out
}

// sourcesOf lists each cited text once, with the duties citing it.
func sourcesOf(duties []breach.Duty) []SourceOfDuty {
	out := []SourceOfDuty{}
	index := map[string]int{}
	for _, d := range duties {
		for _, u := range strings.Fields(d.Source) {
			i, ok := index[u]
			if !ok {
				i = len(out)
				index[u] = i
				out = append(out, SourceOfDuty{URL: u})
			}
			out[i].Obligations = append(out[i].Obligations, d.ID)
		}
	}
	return out
}

// WhatIf is the answer of POST /v1/incidents/{id}/assessments: how the
// incident's duties would change if its facts changed so.
type WhatIf struct {
	Incident    string         `json:"incident"`
	AssessedAt  time.Time      `json:"assessed_at"`
	Changed     []string       `json:"changed_facts"`
	Facts       breach.Facts   `json:"facts"`
	Added       []breach.Duty  `json:"added"`
	Removed     []DutyChange   `json:"removed"`
	Moved       []DutyChange   `json:"changed"`
	Unchanged   []string       `json:"unchanged"`
	Obligations []breach.Duty  `json:"obligations"`
	Sources     []SourceOfDuty `json:"sources"`
}

// DutyChange is one current obligation that would go away or whose due
// time (or the facts it waits for) would change.
type DutyChange struct {
	ID           string     `json:"id"`
	Regime       string     `json:"regime"`
	Jurisdiction string     `json:"jurisdiction"`
	Status       string     `json:"status"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	NewDueAt     *time.Time `json:"new_due_at,omitempty"`
	MissingFacts []string   `json:"missing_facts,omitempty"`
	NowMissing   []string   `json:"new_missing_facts,omitempty"`
	Note         string     `json:"note,omitempty"`
}

// whatIf handles POST /v1/incidents/{id}/assessments: a facts patch, as
// PATCH takes it, applied to a copy of the incident's facts. The
// incident is not changed.
func (s *Server) whatIf(c *gin.Context) {
	var req patchRequest
	if !decodeStrict(c, &req) {
		return
	}
	if len(req.Facts) == 0 {
		problem(c, http.StatusUnprocessableEntity, "send at least one fact to change")
		return
	}
	if req.Severity != nil {
		problem(c, http.StatusUnprocessableEntity, "severity does not change any duty; send facts",
			FieldError{Field: "severity", Message: "not a fact"})
		return
	}
	latest := s.now().Add(assessHorizon)
	if _, _, errs := applyPatch(breach.Facts{}, req.Facts, latest); len(errs) > 0 {
		errs = withAccepted(errs)
		problem(c, http.StatusUnprocessableEntity, assessDetail(errs), errs...)
		return
	}
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	w, err := s.whatIfOf(c.Request.Context(), st, req.Facts, latest)
	if err != nil {
		s.internal(c, "what-if", err)
		return
	}
	c.JSON(http.StatusOK, w)
}

// whatIfOf is how st's duties would change under a facts patch whose
// values have been checked against latest.
func (s *Server) whatIfOf(ctx context.Context, st *breach.Status, raw map[string]json.RawMessage, latest time.Time) (WhatIf, error) {
	f, set, _ := applyPatch(st.Facts, raw, latest)
	duties, err := workflows.EvaluateObligations(ctx, f)
	if err != nil {
		return WhatIf{}, err
	}
	return diffDuties(st, f, set, duties, s.now().UTC()), nil
}

// applyPatch applies a facts patch, as PATCH takes it, to a copy of cur:
// the same decoding, and the same Copy the workflow's patch applies.
func applyPatch(cur breach.Facts, raw map[string]json.RawMessage, latest time.Time) (breach.Facts, []string, []FieldError) {
	var patch breach.Facts
	var errs []FieldError
	for _, p := range decodeFacts(&patch, raw, latest) {
		errs = append(errs, FieldError{Field: p.Field, Message: p.Message})
	}
	f := cur
	f.Jurisdictions = slices.Clone(cur.Jurisdictions)
	f.DataCategories = slices.Clone(cur.DataCategories)
	f.Flags = slices.Clone(cur.Flags)
	f.Assumed = slices.Clone(cur.Assumed)
	var set []string
	for _, fact := range breach.FactTable() {
		if _, ok := raw[fact.Name]; ok {
			fact.Copy(&f, patch)
			set = append(set, fact.Name)
		}
	}
	return f, set, errs
}

// diffDuties compares the incident's current obligations with duties.
func diffDuties(st *breach.Status, f breach.Facts, set []string, duties []breach.Duty, now time.Time) WhatIf {
	w := WhatIf{Incident: st.ID, AssessedAt: now, Changed: set, Facts: f, Added: []breach.Duty{},
		Removed: []DutyChange{}, Moved: []DutyChange{}, Unchanged: []string{}, Obligations: duties, Sources: sourcesOf(duties)}
	if w.Obligations == nil {
		w.Obligations = []breach.Duty{}
	}
	next := map[string]breach.Duty{}
	for _, d := range duties {
		next[d.ID] = d
	}
	have := map[string]bool{}
	for _, o := range st.Obligations {
		have[o.ID] = true
		ch := DutyChange{ID: o.ID, Regime: o.Regime, Jurisdiction: o.Jurisdiction, Status: o.Status, DueAt: o.DueAt, MissingFacts: o.MissingFacts}
		d, ok := next[o.ID]
		switch {
		case !ok:
			if o.Status == breach.ObligationFiled || o.Status == breach.ObligationWaived {
				ch.Note = "already " + o.Status + "; the record stays"
			}
			w.Removed = append(w.Removed, ch)
		case !sameTime(o.DueAt, d.DueAt) || !slices.Equal(o.MissingFacts, d.MissingFacts):
			ch.NewDueAt, ch.NowMissing = d.DueAt, d.MissingFacts
			w.Moved = append(w.Moved, ch)
		default:
			w.Unchanged = append(w.Unchanged, o.ID)
		}
	}
	for _, d := range duties {
		if !have[d.ID] {
			w.Added = append(w.Added, d)
		}
	}
	return w
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
