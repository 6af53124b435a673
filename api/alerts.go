package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// maxAlertBody caps one alert webhook call; Alertmanager groups and
// Splunk rows are a few kilobytes.
const maxAlertBody = 1 << 20

// AlertDeps switch on alert intake (POST /v1/alerts, /v1/detect) and the
// triage queue.
type AlertDeps struct {
	Sources *alerts.Sources
	Rules   *alerts.Rules
	// Rate and Burst limit each source's calls (per second; burst calls).
	Rate  float64
	Burst int
	// Detect is the CRM log detector's configuration; nil leaves
	// /v1/detect answering 404.
	Detect *detect.Config
}

const sourceKey = "breachflow.alert-source"
const bodyKey = "breachflow.alert-body"

// alertIntake holds the per-source rate limiters.
type alertIntake struct {
	deps     AlertDeps
	intake   *alerts.Intake
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func (a *alertIntake) limiter(source string) *rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.limiters[source]
	if !ok {
		l = rate.NewLimiter(rate.Limit(a.deps.Rate), max(a.deps.Burst, 1))
		a.limiters[source] = l
	}
	return l
}

// alertSource authenticates an alert source by its token, then applies
// its rate limit, then reads the body (size-limited) and checks its
// signature. Whatever it refuses, nothing has been stored.
func (s *Server) alertSource(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, secret, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="breachflow-alerts"`)
			problem(c, http.StatusUnauthorized, "missing source token: send Authorization: Bearer <source token>")
			return
		}
		src, ok := s.alerts.deps.Sources.Authenticate(strings.TrimSpace(secret))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="breachflow-alerts", error="invalid_token"`)
			problem(c, http.StatusUnauthorized, "unknown alert source token")
			return
		}
		if s.keys == nil {
			// Alert bodies are sealed at rest; without keys nothing is taken in.
			problem(c, http.StatusServiceUnavailable, "alert intake needs BREACHFLOW_ENCRYPTION_KEYS to seal alert bodies")
			return
		}
		res := s.alerts.limiter(src.Name).Reserve()
		if d := res.Delay(); d > 0 {
			res.Cancel()
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			problem(c, http.StatusTooManyRequests, fmt.Sprintf("source %s is over its rate limit; retry after %s", src.Name, d.Round(time.Millisecond)))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
			return
		case err != nil:
			problem(c, http.StatusBadRequest, "could not read the request body")
			return
		}
		if !src.Verify(body, c.GetHeader(alerts.SignatureHeader)) {
			problem(c, http.StatusUnauthorized, "bad or missing body signature: send "+alerts.SignatureHeader+": sha256=<hex HMAC-SHA256 of the body>")
			return
		}
		c.Set(sourceKey, src.Name)
		c.Set(bodyKey, body)
		c.Next()
	}
}

// receiveAlerts handles POST /v1/alerts.
func (s *Server) receiveAlerts(c *gin.Context) {
	list, err := alerts.Parse(c.Query("format"), c.MustGet(bodyKey).([]byte))
	if err != nil {
		problem(c, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.alerts.intake.Receive(c.Request.Context(), c.GetString(sourceKey), list)
	if err != nil {
		s.internal(c, "receive alerts", err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"alerts": out})
}

// LaunchFromAlert launches the incident a routing rule asks for, through
// the launch path of POST /v1/incidents (validation, idempotency key,
// Update-with-Start). aware_at is left to the launch's own default.
func (s *Server) LaunchFromAlert(ctx context.Context, r alerts.LaunchRequest) (string, error) {
	req := launchRequest{Playbook: r.Playbook, Title: r.Title, Severity: r.Severity, ExternalRef: r.ExternalRef,
		Restricted: r.Restricted, Members: r.Members}
	if len(r.Jurisdictions) > 0 {
		req.setFact("jurisdictions", r.Jurisdictions)
	}
	if len(r.DataCategories) > 0 {
		req.setFact("data_categories", r.DataCategories)
	}
	for name, t := range r.Times {
		req.setFact(name, t.UTC().Format(time.RFC3339))
	}
	for name, v := range r.Labels {
		// A label carries one value; list facts get a list of one. A value
		// the fact refuses fails the launch, and the alert waits in triage
		// with the reason.
		if f, ok := breach.LookupFact(name); ok && f.Kind == breach.KindChoice {
			req.setFact(name, v)
		} else {
			if name == "jurisdictions" {
				v = strings.ToUpper(v)
			}
			req.setFact(name, []string{v})
		}
	}
	// A rule launches as a responder would; a restricted rule launch makes
	// the rule a member, so a storm's repeat launch finds its incident.
	st, _, lerr := s.launchIncident(ctx, req, r.IdempotencyKey, breach.Actor{Name: r.By, Role: breach.RoleResponder})
	if lerr != nil {
		if lerr.Err != nil {
			return "", fmt.Errorf("%s: %w", lerr.Op, lerr.Err)
		}
		var b strings.Builder
		b.WriteString(lerr.Detail)
		for _, f := range lerr.Fields {
			fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
		}
		return "", errors.New(b.String())
	}
	return st.ID, nil
}

// AlertView is an alert as the API shows it.
type AlertView struct {
	ID          int64             `json:"id"`
	Source      string            `json:"source"`
	Fingerprint string            `json:"fingerprint"`
	Title       string            `json:"title"`
	Severity    string            `json:"severity,omitempty"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	StartsAt    *time.Time        `json:"starts_at,omitempty"`
	State       string            `json:"state"`
	Rule        string            `json:"rule,omitempty"`
	IncidentID  string            `json:"incident_id,omitempty"`
	Count       int64             `json:"count"`
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	DecidedBy   string            `json:"decided_by,omitempty"`
	DecidedAt   *time.Time        `json:"decided_at,omitempty"`
	Reason      string            `json:"reason,omitempty"`
}

func alertView(a store.AlertRecord) AlertView {
	return AlertView{ID: a.ID, Source: a.Source, Fingerprint: a.Fingerprint, Title: a.Title, Severity: a.Severity,
		Status: a.SrcStatus, Labels: a.Labels, StartsAt: a.StartsAt, State: a.State, Rule: a.RuleID,
		IncidentID: a.IncidentID, Count: a.Count, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen,
		DecidedBy: a.DecidedBy, DecidedAt: a.DecidedAt, Reason: a.Reason}
}

var alertStates = []string{store.AlertOpen, store.AlertLaunched, store.AlertAttached, store.AlertDismissed, "any"}

// listAlerts handles GET /v1/alerts: the triage queue (open alerts,
// oldest first) unless state says otherwise.
func (s *Server) listAlerts(c *gin.Context) {
	f := store.AlertFilter{State: c.DefaultQuery("state", store.AlertOpen), Limit: 100}
	var errs []FieldError
	if !contains(alertStates, f.State) {
		errs = append(errs, FieldError{Field: "state", Message: "one of " + strings.Join(alertStates, ", ")})
	}
	if f.State == "any" {
		f.State = ""
	}
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			errs = append(errs, FieldError{Field: "after", Message: "an alert id"})
		}
		f.AfterID = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, FieldError{Field: "limit", Message: "a number from 1 to 1000"})
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		problem(c, http.StatusBadRequest, "bad query parameters", errs...)
		return
	}
	rows, err := s.store.ListAlerts(c.Request.Context(), f)
	if err != nil {
		s.internal(c, "list alerts", err)
		return
	}
	// An alert launched into or attached to a restricted incident is
	// evidence of that incident: only those who may see it see the alert.
	hidden, err := s.hidden(c.Request.Context(), actor(c))
	if err != nil {
		s.internal(c, "authorize", err)
		return
	}
	out := make([]AlertView, 0, len(rows))
	for _, a := range rows {
		if !hidden[a.IncidentID] {
			out = append(out, alertView(a))
		}
	}
	c.JSON(http.StatusOK, gin.H{"alerts": out})
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// loadAlert reads the alert named in the path, answering 404 itself.
func (s *Server) loadAlert(c *gin.Context) (store.AlertRecord, bool) {
	id, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err != nil || id <= 0 {
		problem(c, http.StatusNotFound, "no alert "+strconv.Quote(c.Param("aid")))
		return store.AlertRecord{}, false
	}
	a, err := s.store.GetAlert(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no alert "+strconv.FormatInt(id, 10))
		return a, false
	}
	if err != nil {
		s.internal(c, "get alert", err)
		return a, false
	}
	if a.IncidentID != "" {
		// As in listAlerts: an alert of a restricted incident the caller
		// may not see reads as no alert at all.
		hidden, err := s.hidden(c.Request.Context(), actor(c))
		if err != nil {
			s.internal(c, "authorize", err)
			return a, false
		}
		if hidden[a.IncidentID] {
			problem(c, http.StatusNotFound, "no alert "+strconv.FormatInt(id, 10))
			return a, false
		}
	}
	return a, true
}

// getAlert handles GET /v1/alerts/{id}: the alert, its text opened from
// the seal, and every decision about it.
func (s *Server) getAlert(c *gin.Context) {
	a, ok := s.loadAlert(c)
	if !ok {
		return
	}
	text, _, err := alerts.Open(s.keys, a)
	if err != nil {
		s.internal(c, "open alert", err)
		return
	}
	events, err := s.store.ListAlertEvents(c.Request.Context(), a.ID)
	if err != nil {
		s.internal(c, "alert events", err)
		return
	}
	type eventView struct {
		At         time.Time `json:"at"`
		Actor      string    `json:"actor"`
		Action     string    `json:"action"`
		IncidentID string    `json:"incident_id,omitempty"`
		Reason     string    `json:"reason,omitempty"`
	}
	evs := make([]eventView, 0, len(events))
	for _, e := range events {
		evs = append(evs, eventView{e.At, e.Actor, e.Action, e.IncidentID, e.Reason})
	}
	c.JSON(http.StatusOK, struct {
		AlertView
		Text   string      `json:"text,omitempty"`
		Events []eventView `json:"events"`
	}{alertView(a), text, evs})
}

// decided answers a store refusal of a decision, or reports success.
func (s *Server) decided(c *gin.Context, err error) bool {
	var denied deniedError
	switch {
	case err == nil:
		return true
	case errors.As(err, &denied):
		problem(c, denied.Status, denied.Detail)
	case errors.Is(err, store.ErrAlertDecided):
		problem(c, http.StatusConflict, "the alert is no longer in triage: "+strings.TrimPrefix(err.Error(), "store: decide alert: "))
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, "no such incident", FieldError{Field: "incident", Message: "no such incident"})
	case errors.Is(err, store.ErrInvalid):
		problem(c, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "store: decide alert: store: invalid input: "))
	default:
		s.internal(c, "decide alert", err)
	}
	return false
}

// launchAlert handles POST /v1/alerts/{id}/launch: a person accepts the
// alert and launches a playbook for it. The body is a launch request
// (POST /v1/incidents) whose title and severity default to the alert's
// and whose discovered_at defaults to the alert's start; aware_at is the
// acceptance (now) unless the body states it, and is recorded with who.
func (s *Server) launchAlert(c *gin.Context) {
	a, ok := s.loadAlert(c)
	if !ok {
		return
	}
	var req launchRequest
	if !decodeStrict(c, &req) {
		return
	}
	st, created, got, lerr := s.acceptAlert(c.Request.Context(), a, req, actor(c))
	if lerr != nil {
		if lerr.Err != nil {
			s.internal(c, lerr.Op, lerr.Err)
			return
		}
		problem(c, lerr.Status, lerr.Detail, lerr.Fields...)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.Header("Location", "/v1/incidents/"+st.ID)
	c.JSON(status, gin.H{"alert": alertView(got), "incident": st})
}

// acceptAlert launches an incident for an alert in triage on behalf of
// who, through the launch path of POST /v1/incidents, and records the
// decision on the alert and the incident's audit trail. Every surface
// (REST, dashboard) accepts through it.
func (s *Server) acceptAlert(ctx context.Context, a store.AlertRecord, req launchRequest, by breach.Actor) (*breach.Status, bool, store.AlertRecord, *launchError) {
	who := by.Name
	if a.State != store.AlertOpen {
		return nil, false, a, &launchError{Status: http.StatusConflict, Detail: fmt.Sprintf("alert %d is %s, not in triage", a.ID, a.State)}
	}
	if strings.TrimSpace(req.Title) == "" {
		req.Title = a.Title
	}
	if req.Severity == "" {
		req.Severity = a.Severity
	}
	if _, ok := req.Facts["discovered_at"]; !ok && a.StartsAt != nil && !a.StartsAt.After(s.now()) {
		req.setFact("discovered_at", a.StartsAt.UTC().Format(time.RFC3339))
	}
	st, created, lerr := s.launchIncident(ctx, req, "alert-accept:"+strconv.FormatInt(a.ID, 10), by)
	if lerr != nil {
		return nil, false, a, lerr
	}
	now := s.now().UTC()
	got, err := s.store.DecideAlert(ctx, store.AlertDecision{AlertID: a.ID, State: store.AlertLaunched,
		IncidentID: st.ID, Actor: who, At: now,
		Reason: fmt.Sprintf("accepted by %s; aware_at %s", who, st.Facts.AwareAt.UTC().Format(time.RFC3339))})
	if errors.Is(err, store.ErrAlertDecided) {
		return nil, false, a, &launchError{Status: http.StatusConflict, Detail: "the alert is no longer in triage"}
	}
	if err != nil {
		return nil, false, a, &launchError{Op: "decide alert", Err: err}
	}
	if err := alerts.AuditOnIncident(ctx, s.store, got, who, now); err != nil {
		return nil, false, a, &launchError{Op: "audit alert", Err: err}
	}
	s.refreshAlertCard(ctx, got)
	return st, created, got, nil
}

// deniedError is may's refusal of an action a handler decides itself,
// such as attaching an alert to the incident named in a body.
type deniedError struct{ *Denial }

func (e deniedError) Error() string { return e.Detail }

// attachAlertTo attaches an alert in triage to an incident for by, who
// must be allowed to act on that incident (a restricted incident's member,
// an open incident): attaching is evidence added to it.
func (s *Server) attachAlertTo(ctx context.Context, a store.AlertRecord, incident string, by breach.Actor) (store.AlertRecord, error) {
	if a.State != store.AlertOpen {
		// Said first: whether the incident may be touched is moot.
		return a, fmt.Errorf("%w: alert %d is %s", store.ErrAlertDecided, a.ID, a.State)
	}
	d, err := s.may(ctx, by, RouteRule{Roles: []string{breach.RoleResponder}, Scope: ScopeAct}, incident)
	if err != nil {
		return a, err
	}
	if d != nil {
		return a, deniedError{d}
	}
	who := by.Name
	now := s.now().UTC()
	got, err := s.store.DecideAlert(ctx, store.AlertDecision{AlertID: a.ID, State: store.AlertAttached,
		IncidentID: incident, Actor: who, At: now})
	if err != nil {
		return got, err
	}
	if err := alerts.AuditOnIncident(ctx, s.store, got, who, now); err != nil {
		return got, err
	}
	s.refreshAlertCard(ctx, got)
	return got, nil
}

// dismissAlertWith dismisses an alert in triage for who.
func (s *Server) dismissAlertWith(ctx context.Context, a store.AlertRecord, reason, who string) (store.AlertRecord, error) {
	got, err := s.store.DecideAlert(ctx, store.AlertDecision{AlertID: a.ID, State: store.AlertDismissed,
		Actor: who, Reason: reason, At: s.now().UTC()})
	if err == nil {
		s.refreshAlertCard(ctx, got)
	}
	return got, err
}

// attachAlert handles POST /v1/alerts/{id}/attach {"incident": "BR-…"}.
func (s *Server) attachAlert(c *gin.Context) {
	a, ok := s.loadAlert(c)
	if !ok {
		return
	}
	var body struct {
		Incident string `json:"incident"`
	}
	if !decodeStrict(c, &body) {
		return
	}
	if !incidentIDPattern.MatchString(body.Incident) {
		problem(c, http.StatusUnprocessableEntity, "incident: want an incident id such as BR-7K3F9Q",
			FieldError{Field: "incident", Message: "an incident id"})
		return
	}
	got, err := s.attachAlertTo(c.Request.Context(), a, body.Incident, actor(c))
	if !s.decided(c, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"alert": alertView(got)})
}

// dismissAlert handles POST /v1/alerts/{id}/dismiss {"reason": "…"}.
func (s *Server) dismissAlert(c *gin.Context) {
	a, ok := s.loadAlert(c)
	if !ok {
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if !decodeStrict(c, &body) {
		return
	}
	body.Reason = strings.TrimSpace(body.Reason)
	if body.Reason == "" || len(body.Reason) > 1000 {
		problem(c, http.StatusUnprocessableEntity, "reason: required, at most 1000 characters",
			FieldError{Field: "reason", Message: "required, at most 1000 characters"})
		return
	}
	got, err := s.dismissAlertWith(c.Request.Context(), a, body.Reason, caller(c).Name)
	if !s.decided(c, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"alert": alertView(got)})
}

// incidentAlerts lists the alerts launched into or attached to an
// incident, for its status.
func (s *Server) incidentAlerts(ctx context.Context, id string) ([]AlertView, error) {
	rows, err := s.store.ListAlerts(ctx, store.AlertFilter{IncidentID: id, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var out []AlertView
	for _, a := range rows {
		out = append(out, alertView(a))
	}
	return out, nil
}

// maxDetectBody caps one CRM log upload; a day of Event Monitoring for a
// large org is tens of megabytes.
const maxDetectBody = 256 << 20

// DetectorSource is the source every finding's alert is recorded under,
// whoever sent the log: routing rules match it.
const DetectorSource = "detector"

// detect handles POST /v1/detect/{format}: the log is read, the rules
// applied, and each finding goes through the alert intake. The answer is
// the report (lines that could not be used, findings) and the outcome of
// each finding's alert.
func (s *Server) detect(c *gin.Context) {
	if s.alerts.deps.Detect == nil {
		problem(c, http.StatusNotFound, "the detector is not configured")
		return
	}
	format := c.Param("format")
	if !contains(detect.Formats, format) {
		problem(c, http.StatusNotFound, "no log format "+strconv.Quote(format)+"; use one of "+strings.Join(detect.Formats, ", "))
		return
	}
	rep, err := s.alerts.deps.Detect.Run(format, bytes.NewReader(c.MustGet(bodyKey).([]byte)))
	if err != nil {
		s.internal(c, "detect", err)
		return
	}
	list := make([]alerts.Alert, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		a := f.Alert(format)
		a.Labels["submitted_by"] = c.GetString(sourceKey)
		list = append(list, a)
	}
	out, err := s.alerts.intake.Receive(c.Request.Context(), DetectorSource, list)
	if err != nil {
		s.internal(c, "receive findings", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"report": rep, "alerts": out})
}

// withAlertTimeline adds the incident's alerts to its timeline as the
// evidence of how it was first seen: one entry per alert at its first
// sighting, saying source, rule, count and last seen, and who took it in.
// The alerts live in the store, not the workflow, so they are merged here.
func withAlertTimeline(st *breach.Status, list []AlertView) {
	if len(list) == 0 {
		return
	}
	for _, a := range list {
		note := fmt.Sprintf("%s from %s", a.Title, a.Source)
		if a.Rule != "" {
			note += ", rule " + a.Rule
		}
		note += fmt.Sprintf("; seen %d× from %s to %s", a.Count, a.FirstSeen.UTC().Format(time.RFC3339), a.LastSeen.UTC().Format(time.RFC3339))
		if a.State == store.AlertLaunched && strings.HasPrefix(a.DecidedBy, "rule:") {
			// No person accepted it: the clock's start is the machine's.
			note += "; aware_at was set to the launch time by the rule, not by a person: state when the organisation became aware with PATCH aware_at"
		}
		st.Timeline = append(st.Timeline, breach.TimelineEntry{At: a.FirstSeen, Actor: a.DecidedBy,
			Action: "alert." + a.State, Target: fmt.Sprintf("alert:%d", a.ID), Note: note})
	}
	slices.SortStableFunc(st.Timeline, func(x, y breach.TimelineEntry) int { return x.At.Compare(y.At) })
}
