package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// launchRequest is the body of POST /v1/incidents: the incident's own
// fields, and its facts by name as breach.FactTable describes them.
type launchRequest struct {
	Playbook    string   `json:"playbook"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary"`
	Severity    string   `json:"severity"`
	ExternalRef string   `json:"external_ref"`
	Restricted  bool     `json:"restricted"`
	Members     []string `json:"members"`
	// Facts holds the body's other fields, each a fact's JSON value.
	Facts map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the incident's fields strictly and every other
// field as a fact; a name that is neither is refused.
func (r *launchRequest) UnmarshalJSON(b []byte) error {
	type own launchRequest
	return decodeWithFacts(b, (*own)(r), &r.Facts)
}

// setFact puts a fact's value into the request, as a body would carry it.
func (r *launchRequest) setFact(name string, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with plain values
	}
	if r.Facts == nil {
		r.Facts = map[string]json.RawMessage{}
	}
	r.Facts[name] = raw
}

// Incident ids and external references.
var (
	externalRefPattern = regexp.MustCompile(`^[A-Za-z0-9._:/#-]{1,100}$`)
	incidentIDPattern  = regexp.MustCompile(`^BR-[0-9A-HJKMNP-TV-Z]{6}$`)
)

// validate checks the request, filling facts; it returns every problem.
func (r *launchRequest) validate(now time.Time, pbs Playbooks) (breach.Facts, int, []FieldError) {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	version := 0
	if r.Playbook == "" {
		bad("playbook", "required")
	} else if pb, ok := pbs.Get(r.Playbook); !ok {
		bad("playbook", fmt.Sprintf("unknown playbook %q (GET /v1/playbooks lists them)", r.Playbook))
	} else {
		version = pb.Version
	}
	r.Title = strings.TrimSpace(r.Title)
	switch {
	case r.Title == "":
		bad("title", "required")
	case len(r.Title) > 200:
		bad("title", "at most 200 characters")
	}
	if len(r.Summary) > 4000 {
		bad("summary", "at most 4000 characters")
	}
	if r.Severity == "" {
		r.Severity = "medium"
	}
	if len(r.Members) > 50 {
		bad("members", "at most 50 principals")
	}
	for i, m := range r.Members {
		if m == "" || len(m) > store.MaxPrincipalLen || strings.IndexFunc(m, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			bad(fmt.Sprintf("members[%d]", i), fmt.Sprintf("a principal of 1–%d characters without spaces: a token name, slack:<user id> or a staff email", store.MaxPrincipalLen))
		}
	}
	if len(r.Members) > 0 && !r.Restricted {
		bad("members", "only a restricted incident has members; set restricted: true")
	}
	if !slices.Contains(breach.Severities, r.Severity) {
		bad("severity", "one of "+strings.Join(breach.Severities, ", "))
	}
	if r.ExternalRef != "" && !externalRefPattern.MatchString(r.ExternalRef) {
		bad("external_ref", "1–100 characters of letters, digits and . _ : / # -")
	}
	f, ferrs := r.facts(now, now)
	return f, version, append(errs, ferrs...)
}

// facts reads the request's facts as a launch takes them: aware_at
// defaults to now, and no time may be after latest (a launch passes now;
// an assessment, which may ask about the future, a later bound).
func (r *launchRequest) facts(now, latest time.Time) (breach.Facts, []FieldError) {
	var errs []FieldError
	f := breach.Facts{AwareAt: now.UTC().Truncate(time.Second), Risk: breach.RiskUnassessed}
	for _, p := range decodeFacts(&f, r.Facts, latest) {
		errs = append(errs, FieldError{Field: p.Field, Message: p.Message})
	}
	if f.OccurredAt != nil && f.OccurredAt.After(f.AwareAt) {
		errs = append(errs, FieldError{Field: "occurred_at", Message: "is after aware_at"})
	}
	// A clock that starts at discovery (California's 30 days) would wait
	// on a fact most launches never send; take discovery as awareness,
	// marked assumed, until someone states it.
	f.Assume()
	return f, errs
}

// digest fingerprints the request as validate left it (defaults filled,
// title trimmed) with each fact's JSON as sent: key order and white space
// do not count, any changed value does.
func (r launchRequest) digest() string {
	type own launchRequest
	b, err := json.Marshal(struct {
		own
		Facts map[string]json.RawMessage `json:"facts"`
	}{own(r), r.Facts})
	if err != nil {
		return "" // cannot happen for decoded JSON; no digest accepts any repeat
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// decodeFacts sets each fact of raw in f, in the table's order, and lists
// the problems; a null value is left out at launch and clears at PATCH.
func decodeFacts(f *breach.Facts, raw map[string]json.RawMessage, now time.Time) []breach.FactProblem {
	var out []breach.FactProblem
	for _, fact := range breach.FactTable() {
		v, ok := raw[fact.Name]
		if !ok {
			continue
		}
		if err := fact.Decode(f, v, now, breach.ClockSkew); err != nil {
			out = append(out, fact.Explain(err)...)
		}
	}
	return out
}

// decodeWithFacts decodes a JSON object: the fields own declares into own,
// strictly, and every other field that names a fact into facts. Any other
// field is refused as unknown, as decodeStrict reports it.
func decodeWithFacts(b []byte, own any, facts *map[string]json.RawMessage) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	names := jsonFieldNames(own)
	mine := map[string]json.RawMessage{}
	*facts = map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		fact, isFact := breach.LookupFact(k)
		switch {
		case names[k]:
			mine[k] = all[k]
		case isFact && fact.Name == k && !fact.System:
			(*facts)[k] = all[k]
		default:
			return fmt.Errorf("json: unknown field %q", k)
		}
	}
	raw, err := json.Marshal(mine)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, own)
}

// jsonFieldNames are the JSON names of the struct v points to.
func jsonFieldNames(v any) map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// launch handles POST /v1/incidents.
func (s *Server) launch(c *gin.Context) {
	var req launchRequest
	if !decodeStrict(c, &req) {
		return
	}
	idem := c.GetHeader("Idempotency-Key")
	if len(idem) > 200 {
		problem(c, http.StatusBadRequest, "Idempotency-Key is longer than 200 characters",
			FieldError{Field: "Idempotency-Key", Message: "at most 200 characters"})
		return
	}
	st, created, lerr := s.launchIncident(c.Request.Context(), req, idem, actor(c))
	if lerr != nil {
		if lerr.Err != nil {
			s.internal(c, lerr.Op, lerr.Err)
			return
		}
		if lerr.Status == http.StatusServiceUnavailable {
			c.Header("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		}
		problem(c, lerr.Status, lerr.Detail, lerr.Fields...)
		return
	}
	c.Header("Location", "/v1/incidents/"+st.ID)
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, st)
}

// launchError is why a launch failed: a refusal to show the caller
// (Status, Detail, Fields) or an internal failure (Err, to be logged).
type launchError struct {
	Status int
	Detail string
	Fields []FieldError
	Op     string
	Err    error
}

// launchIncident validates and launches an incident for who; every
// surface (REST, Slack's declare modal) launches through it, so the same
// rules apply. created is false for a repeat (same idempotency key or
// external_ref), which answers with the existing incident.
func (s *Server) launchIncident(ctx context.Context, req launchRequest, idem string, by breach.Actor) (*breach.Status, bool, *launchError) {
	who := by.Name
	now := s.now()
	facts, version, errs := req.validate(now, s.playbooks)
	pb, _ := s.playbooks.Get(req.Playbook)
	if len(errs) > 0 {
		return nil, false, &launchError{Status: http.StatusUnprocessableEntity, Detail: "the launch request has invalid fields", Fields: errs}
	}
	// Refused before anything is recorded when Temporal is down, rather
	// than a record whose workflow waits for the client's retry.
	if err := s.temporalReachable(ctx); err != nil {
		return nil, false, &launchError{Status: http.StatusServiceUnavailable, Detail: errTemporalDown.Error()}
	}
	digest := req.digest()
	id, err := store.NewIncidentID()
	if err != nil {
		return nil, false, &launchError{Op: "new incident id", Err: err}
	}
	// The launcher of a restricted incident is always one of its members.
	var members []string
	if req.Restricted {
		for _, m := range req.Members {
			if m = principalName(m); !slices.Contains(members, m) {
				members = append(members, m)
			}
		}
		if !slices.Contains(members, who) {
			members = append(members, who)
		}
	}
	rec, created, err := s.store.CreateIncident(ctx, store.Incident{
		ID: id, PlaybookID: req.Playbook, PlaybookVersion: version, Severity: req.Severity,
		Status: breach.StatusActive, ExternalRef: req.ExternalRef, IdempotencyKey: idem,
		RequestDigest: digest, CreatedBy: who, CreatedAt: now.UTC(),
		Restricted: req.Restricted, Members: members, Title: req.Title,
	})
	if err != nil {
		return nil, false, &launchError{Op: "create incident", Err: err}
	}
	in := &workflows.IncidentInput{
		ID: rec.ID, Title: req.Title, Summary: req.Summary, Severity: rec.Severity,
		PlaybookID: rec.PlaybookID, PlaybookVersion: rec.PlaybookVersion, ExternalRef: rec.ExternalRef,
		Facts: facts, LaunchedBy: rec.CreatedBy, LaunchedAt: rec.CreatedAt,
		Playbook: pb, Restricted: req.Restricted, Members: members, Room: s.room,
	}
	if !created && idem != "" && rec.IdempotencyKey == idem && rec.RequestDigest != "" && rec.RequestDigest != digest {
		// The key matched, the request did not: a client bug or two
		// requests sharing a key. Answering with the first incident would
		// hide that this launch never happened (IETF idempotency-key draft).
		return nil, false, &launchError{Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("Idempotency-Key %q was already used with a different launch request; send a new key for a new incident, or repeat the first request exactly", idem),
			Fields: []FieldError{{Field: "Idempotency-Key", Message: "already used with a different request body"}}}
	}
	if !created {
		// A repeat must not show a restricted incident to a non-member
		// who happens to send its external_ref or idempotency key.
		if d, err := s.may(ctx, by, RouteRule{Roles: []string{breach.RoleViewer}, Scope: ScopeRead}, rec.ID); err != nil {
			return nil, false, &launchError{Op: "authorize repeat", Err: err}
		} else if d != nil {
			return nil, false, &launchError{Status: http.StatusConflict,
				Detail: "external_ref or Idempotency-Key is already used by an incident you may not see; send other values"}
		}
		// A repeat: answer with the existing incident. If an earlier launch
		// stored the record but never reached Temporal, start it now.
		if st, err := s.queryStatus(ctx, rec.ID); err == nil {
			return st, false, nil
		}
	}
	st, err := s.startIncident(ctx, in)
	if err != nil {
		s.log.ErrorContext(ctx, "start incident workflow", "incident", rec.ID, "error", err)
		return nil, false, &launchError{Status: http.StatusServiceUnavailable,
			Detail: "the incident is recorded but its workflow could not start; repeat the request with the same Idempotency-Key or external_ref"}
	}
	return st, created, nil
}

// startIncident starts the incident's workflow and, in the same request
// (Update-with-Start), asks it for its first settled status: the answer
// to a launch is the workflow's own, with its obligations computed. A
// workflow already running (a repeated launch) answers the same way.
func (s *Server) startIncident(ctx context.Context, in *workflows.IncidentInput) (*breach.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.IncidentWorkflowID(in.ID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Memo:                     map[string]any{"title": in.Title},
	}, "Incident", in)
	h, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     "launch",
			UpdateName:   workflows.UpdateLaunch,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	return updateStatus(ctx, h, err)
}

func (s *Server) queryStatus(ctx context.Context, id string) (*breach.Status, error) {
	if err := s.temporalReachable(ctx); err != nil {
		return nil, err
	}
	v, err := s.temporal.QueryWorkflow(ctx, workflows.IncidentWorkflowID(id), "", workflows.QueryStatus)
	if err != nil {
		return nil, err
	}
	var st breach.Status
	if err := v.Get(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// getIncident handles GET /v1/incidents/{id}.
// The status carries the customer-notice delivery counts from the store.
func (s *Server) getIncident(c *gin.Context) {
	st, ok := s.loadStatus(c)
	if !ok {
		return
	}
	d, err := s.delivery(c, st.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internal(c, "delivery counts", err)
		return
	}
	// The alerts launched into or attached to the incident are its
	// evidence of how it was first seen.
	al, err := s.incidentAlerts(c.Request.Context(), st.ID)
	if err != nil {
		s.internal(c, "incident alerts", err)
		return
	}
	withAlertTimeline(st, al)
	c.JSON(http.StatusOK, struct {
		*breach.Status
		Delivery *Delivery   `json:"delivery,omitempty"`
		Alerts   []AlertView `json:"alerts,omitempty"`
	}{st, d, al})
}

// incidentParam is the incident id in the path; a malformed one is
// answered 404 here, before it reaches Temporal or the store.
func incidentParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !incidentIDPattern.MatchString(id) {
		problem(c, http.StatusNotFound, "no incident "+strconv.Quote(id))
		return "", false
	}
	return id, true
}

// loadStatus queries the status of the incident named in the path,
// answering 404 itself when there is none.
func (s *Server) loadStatus(c *gin.Context) (*breach.Status, bool) {
	id, ok := incidentParam(c)
	if !ok {
		return nil, false
	}
	st, err := s.queryStatus(c.Request.Context(), id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return nil, false
	}
	if temporalUnavailable(err) {
		unavailable(c, errTemporalDown.Error())
		return nil, false
	}
	if err != nil {
		s.internal(c, "query incident", err)
		return nil, false
	}
	return st, true
}

// IncidentSummary is one row of GET /v1/incidents.
type IncidentSummary struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Severity string `json:"severity"`
	Playbook string `json:"playbook"`
	// Phase is the first ready step's id, "awaiting-close" or "closed", as
	// the workflow last wrote it to the store; empty until it has.
	Phase        string     `json:"phase,omitempty"`
	NextDeadline *time.Time `json:"next_deadline,omitempty"`
	LaunchedAt   time.Time  `json:"launched_at"`
}

// incidentQuery selects incidents from the store's index.
type incidentQuery struct {
	Status, Severity, Playbook string
	PageSize                   int
	After                      *store.IncidentCursor // from page_token
}

// pageCursor is what a page token holds: the last incident of a page.
type pageCursor struct {
	At time.Time `json:"t"`
	ID string    `json:"id"`
}

// parseIncidentQuery reads the list filters through get (a query-string
// lookup), checking each against its closed vocabulary.
func (s *Server) parseIncidentQuery(get func(string) string) (incidentQuery, []FieldError) {
	q := incidentQuery{PageSize: 50}
	var errs []FieldError
	if v := get("status"); v != "" {
		if v != breach.StatusActive && v != breach.StatusClosed {
			errs = append(errs, FieldError{Field: "status", Message: "active or closed"})
		}
		q.Status = v
	}
	if v := get("severity"); v != "" {
		if !slices.Contains(breach.Severities, v) {
			errs = append(errs, FieldError{Field: "severity", Message: "one of " + strings.Join(breach.Severities, ", ")})
		}
		q.Severity = v
	}
	if v := get("playbook"); v != "" {
		if _, ok := s.playbooks.Get(v); !ok {
			errs = append(errs, FieldError{Field: "playbook", Message: "unknown playbook"})
		}
		q.Playbook = v
	}
	if v := get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxIncidentLimit {
			errs = append(errs, FieldError{Field: "page_size", Message: "a number from 1 to 500"})
		}
		q.PageSize = n
	}
	if v := get("page_token"); v != "" {
		var c pageCursor
		raw, err := decodePageToken(v)
		if err == nil {
			err = json.Unmarshal(raw, &c)
		}
		if err != nil || c.ID == "" || c.At.IsZero() {
			errs = append(errs, FieldError{Field: "page_token", Message: "not a token this API issued"})
		}
		q.After = &store.IncidentCursor{CreatedAt: c.At, ID: c.ID}
	}
	return q, errs
}

// findIncidents lists the incidents who may see from the store's index,
// newest first, with the next page's token when the page is full:
// restricted incidents who is no member of are left out by the store's
// query, so a page holds PageSize rows whenever that many remain. No
// workflow is asked, except for the title of an incident launched before
// the store kept titles.
func (s *Server) findIncidents(ctx context.Context, who breach.Actor, in incidentQuery) ([]IncidentSummary, []byte, error) {
	f := store.IncidentFilter{Status: in.Status, Severity: in.Severity, PlaybookID: in.Playbook, After: in.After, Limit: in.PageSize}
	if who.Role != breach.RoleAdmin {
		f.VisibleTo = who.Name
		if f.VisibleTo == "" {
			return nil, nil, errors.New("incidents: no principal to filter for")
		}
	}
	rows, err := s.store.ListIncidents(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	items := make([]IncidentSummary, 0, len(rows))
	for _, r := range rows {
		row := IncidentSummary{ID: r.ID, Title: r.Title, Status: r.Status, Severity: r.Severity, Playbook: r.PlaybookID,
			Phase: r.Phase, NextDeadline: r.NextDeadline, LaunchedAt: r.CreatedAt}
		if row.Title == "" {
			row.Title = s.memoTitle(ctx, r.ID)
		}
		items = append(items, row)
	}
	var next []byte
	if len(rows) == in.PageSize && len(rows) > 0 {
		last := rows[len(rows)-1]
		next, _ = json.Marshal(pageCursor{At: last.CreatedAt, ID: last.ID})
	}
	return items, next, nil
}

// memoTitle reads an incident's title from its workflow's memo (sealed by
// the codec), for incidents launched before the store kept titles; "" when
// the workflow cannot say.
func (s *Server) memoTitle(ctx context.Context, id string) string {
	resp, err := s.temporal.DescribeWorkflowExecution(ctx, workflows.IncidentWorkflowID(id), "")
	if err != nil {
		return ""
	}
	var title string
	if p := resp.GetWorkflowExecutionInfo().GetMemo().GetFields()["title"]; p != nil {
		_ = s.converter.FromPayload(p, &title)
	}
	return title
}

// listIncidents handles GET /v1/incidents from the store's index.
func (s *Server) listIncidents(c *gin.Context) {
	q, errs := s.parseIncidentQuery(c.Query)
	if len(errs) > 0 {
		problem(c, http.StatusBadRequest, "bad query parameters", errs...)
		return
	}
	items, next, err := s.findIncidents(c.Request.Context(), actor(c), q)
	if err != nil {
		s.internal(c, "list incidents", err)
		return
	}
	out := gin.H{"incidents": items}
	if len(next) > 0 {
		out["next_page_token"] = encodePageToken(next)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) listPlaybooks(c *gin.Context) {
	type row struct {
		ID          string `json:"id"`
		Version     int    `json:"version"`
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
		Steps       int    `json:"steps"`
	}
	var out []row
	for _, p := range s.playbooks.List() {
		out = append(out, row{ID: p.ID, Version: p.Version, Title: p.Title, Description: p.Description, Steps: len(p.Steps)})
	}
	c.JSON(http.StatusOK, gin.H{"playbooks": out})
}

func (s *Server) getPlaybook(c *gin.Context) {
	p, ok := s.playbooks.Get(c.Param("id"))
	if !ok {
		problem(c, http.StatusNotFound, "no playbook "+strconv.Quote(c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, p)
}
