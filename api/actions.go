package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/actorsig"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

func actor(c *gin.Context) breach.Actor {
	t := caller(c)
	return breach.Actor{Name: t.Name, Role: t.Role}
}

// update sends a human action to the incident's workflow as an Update and
// answers with the incident's new status. The Idempotency-Key header is
// the Update id, so a retried request is answered, not applied twice.
func (s *Server) update(c *gin.Context, name string, arg any, okStatus int) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	key, ok := updateKey(c)
	if !ok {
		return
	}
	st, err := s.sendUpdate(c.Request.Context(), id, name, key, arg)
	if err != nil {
		s.updateError(c, id, err)
		return
	}
	c.JSON(okStatus, st)
}

// updateKey is the request's Update id: its Idempotency-Key (at most 200
// characters; longer is answered 400), else a fresh UUID.
func updateKey(c *gin.Context) (string, bool) {
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 200 {
		problem(c, http.StatusBadRequest, "Idempotency-Key is longer than 200 characters")
		return "", false
	}
	if key == "" {
		key = uuid.NewString()
	}
	return key, true
}

// sendUpdate sends one Update and waits for its answer. Every surface
// (REST, dashboard, Slack) acts through it, so the workflow's validators
// judge every human action the same way.
func (s *Server) sendUpdate(ctx context.Context, id, name, key string, arg any) (*breach.Status, error) {
	if err := s.temporalReachable(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts := client.UpdateWorkflowOptions{
		WorkflowID:   workflows.IncidentWorkflowID(id),
		UpdateName:   name,
		UpdateID:     name + ":" + key,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if s.actorKey != nil {
		// The worker checks the signature against its own wall clock, so
		// it is dated by the real clock, not s.now.
		signed, err := actorsig.SignInput(s.actorKey, arg,
			actorsig.Bind{WorkflowID: opts.WorkflowID, Update: opts.UpdateName, UpdateID: opts.UpdateID}, time.Now())
		if err != nil {
			return nil, fmt.Errorf("sign actor: %w", err)
		}
		opts.Args = []any{signed}
	}
	h, err := s.temporal.UpdateWorkflow(ctx, opts)
	return updateStatus(ctx, h, err)
}

// updateStatus waits for an Update's answer, the incident's status; err
// is the error of sending it.
func updateStatus(ctx context.Context, h client.WorkflowUpdateHandle, err error) (*breach.Status, error) {
	if err != nil {
		return nil, err
	}
	var st breach.Status
	if err := h.Get(ctx, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Refusal is why the workflow (or Temporal) refused an Update, as an
// HTTP status and a message a person can act on.
type Refusal struct {
	Status   int
	Detail   string
	Blockers []string // what keeps an incident from closing
	// Unavailable: Temporal could not be reached; a 503 carries Retry-After.
	Unavailable bool
}

// refusal classifies an Update's error; ok is false for an internal
// failure, which must be logged and answered without detail.
func refusal(id string, err error) (r Refusal, ok bool) {
	var app *temporal.ApplicationError
	var nf *serviceerror.NotFound
	var wait *client.WorkflowUpdateServiceTimeoutOrCanceledError
	switch {
	case temporalUnavailable(err):
		return Refusal{Status: http.StatusServiceUnavailable, Detail: errTemporalDown.Error(), Unavailable: true}, true
	case errors.As(err, &wait) && errors.Is(err, context.DeadlineExceeded):
		// Temporal took the Update but no worker answered it in time:
		// the workers are stopped, overloaded, or fail the incident's
		// workflow task (a build that cannot replay it). The Update id is
		// the request's Idempotency-Key, so a repeat is answered once.
		return Refusal{Status: http.StatusServiceUnavailable, Unavailable: true, Detail: "incident " + id +
			"'s workflow did not answer in time: its workers may be stopped, overloaded or failing; repeat the request with the same Idempotency-Key"}, true
	case errors.As(err, &app):
		switch app.Type() {
		case breach.ErrForbidden:
			return Refusal{Status: http.StatusForbidden, Detail: app.Message()}, true
		case breach.ErrNotFound:
			return Refusal{Status: http.StatusNotFound, Detail: app.Message()}, true
		case breach.ErrConflict:
			return Refusal{Status: http.StatusConflict, Detail: app.Message()}, true
		case breach.ErrInvalid:
			return Refusal{Status: http.StatusUnprocessableEntity, Detail: app.Message()}, true
		case breach.ErrBlocked:
			var blockers []string
			_ = app.Details(&blockers)
			if blockers == nil {
				blockers = []string{}
			}
			return Refusal{Status: http.StatusConflict, Detail: "the incident cannot close yet: " + app.Message(), Blockers: blockers}, true
		}
	case strings.Contains(err.Error(), "workflow execution already completed"),
		strings.Contains(err.Error(), "workflow update was aborted by closing workflow"):
		// Temporal answers NotFound once a closed incident's workflow has
		// ended or while it ends; the incident exists, it is closed.
		return Refusal{Status: http.StatusConflict, Detail: "incident " + id + " is closed"}, true
	case errors.As(err, &nf):
		return Refusal{Status: http.StatusNotFound, Detail: "no incident " + id}, true
	}
	return Refusal{}, false
}

// updateError turns a refused Update into the matching problem.
func (s *Server) updateError(c *gin.Context, id string, err error) {
	r, ok := refusal(id, err)
	switch {
	case !ok:
		s.internal(c, "update", err)
	case r.Unavailable:
		unavailable(c, r.Detail)
	case r.Blockers != nil:
		writeProblem(c, Problem{Type: "about:blank", Title: "Conflict", Status: r.Status, Detail: r.Detail, Blockers: r.Blockers})
	default:
		problem(c, r.Status, r.Detail)
	}
}

type completeRequest struct {
	Note     string   `json:"note"`
	Evidence []string `json:"evidence"`
}

func (s *Server) completeStep(c *gin.Context) {
	var req completeRequest
	if !decodeStrict(c, &req) {
		return
	}
	s.update(c, workflows.UpdateCompleteStep, breach.CompleteStep{Actor: actor(c), Step: c.Param("step"),
		Note: req.Note, Evidence: req.Evidence}, http.StatusOK)
}

type decideRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func (s *Server) decideStep(c *gin.Context) {
	var req decideRequest
	if !decodeStrict(c, &req) {
		return
	}
	if req.Decision != "approve" && req.Decision != "reject" {
		problem(c, http.StatusUnprocessableEntity, "decision must be approve or reject",
			FieldError{Field: "decision", Message: "approve or reject"})
		return
	}
	s.update(c, workflows.UpdateDecide, breach.Decide{Actor: actor(c), Step: c.Param("step"),
		Decision: req.Decision, Reason: req.Reason}, http.StatusOK)
}

// patchRequest is the body of PATCH /v1/incidents/{id}: the severity
// and any facts, by name as breach.FactTable describes them; a fact sent
// as null (or a time as "") is cleared.
type patchRequest struct {
	Severity *string `json:"severity"`
	// Facts holds the body's other fields, each a fact's JSON value.
	Facts map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the severity and every other field as a fact; a
// name that is neither is refused.
func (r *patchRequest) UnmarshalJSON(b []byte) error {
	type own patchRequest
	return decodeWithFacts(b, (*own)(r), &r.Facts)
}

func (s *Server) patchIncident(c *gin.Context) {
	var req patchRequest
	if !decodeStrict(c, &req) {
		return
	}
	out, status, detail, errs := s.patchOf(req, actor(c))
	if status != 0 {
		problem(c, status, detail, errs...)
		return
	}
	s.update(c, workflows.UpdatePatchFacts, out, http.StatusOK)
}

// patchOf reads a PATCH body into the Update it asks for, as who may
// send it; a refusal is its status, detail and field errors. Every
// surface that changes facts (REST, the dashboard's facts form) reads
// its change through here.
func (s *Server) patchOf(req patchRequest, who breach.Actor) (breach.PatchFacts, int, string, []FieldError) {
	var errs []FieldError
	out := breach.PatchFacts{Actor: who}
	if req.Severity != nil {
		out.Set = append(out.Set, "severity")
		out.Severity = *req.Severity
		if !slices.Contains(breach.Severities, *req.Severity) {
			errs = append(errs, FieldError{Field: "severity", Message: "one of " + strings.Join(breach.Severities, ", ")})
		}
	}
	for _, p := range decodeFacts(&out.Facts, req.Facts, s.now()) {
		errs = append(errs, FieldError{Field: p.Field, Message: p.Message})
	}
	for _, fact := range breach.FactTable() {
		if _, ok := req.Facts[fact.Name]; ok {
			out.Set = append(out.Set, fact.Name)
		}
	}
	if len(errs) > 0 {
		return out, http.StatusUnprocessableEntity, "the change has invalid fields", errs
	}
	if len(out.Set) == 0 {
		return out, http.StatusUnprocessableEntity, "nothing to change: send at least one fact", nil
	}
	for _, name := range out.Set {
		if fact, ok := breach.LookupFact(name); ok && fact.Role != "" && !breach.RoleSatisfies(who.Role, fact.Role) {
			return out, http.StatusForbidden, fmt.Sprintf("%s is %s's decision: it needs the %s role", name, fact.Role, fact.Role), nil
		}
	}
	return out, 0, "", nil
}

func parseTime(v string, now time.Time) (time.Time, string) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, "not an RFC 3339 time such as 2026-11-23T08:00:00Z"
	}
	if t.After(now.Add(breach.ClockSkew)) {
		return time.Time{}, "is in the future"
	}
	return t.UTC(), ""
}

type remediationRequest struct {
	Title string `json:"title"`
	Owner string `json:"owner"`
	DueAt string `json:"due_at"`
}

func (s *Server) addRemediation(c *gin.Context) {
	var req remediationRequest
	if !decodeStrict(c, &req) {
		return
	}
	in := breach.AddRemediation{Actor: actor(c), Title: req.Title, Owner: req.Owner}
	if strings.TrimSpace(req.Title) == "" {
		problem(c, http.StatusUnprocessableEntity, "title is required", FieldError{Field: "title", Message: "required"})
		return
	}
	if req.DueAt != "" {
		t, err := time.Parse(time.RFC3339, req.DueAt)
		if err != nil {
			problem(c, http.StatusUnprocessableEntity, "bad due_at", FieldError{Field: "due_at", Message: "not an RFC 3339 time"})
			return
		}
		t = t.UTC()
		in.DueAt = &t
	}
	s.update(c, workflows.UpdateAddRemediation, in, http.StatusCreated)
}

type remediationDoneRequest struct {
	Evidence string `json:"evidence"`
}

func (s *Server) completeRemediation(c *gin.Context) {
	var req remediationDoneRequest
	if !decodeStrict(c, &req) {
		return
	}
	s.update(c, workflows.UpdateCompleteRemediation, breach.CompleteRemediation{Actor: actor(c), ID: c.Param("rid"), Evidence: req.Evidence}, http.StatusOK)
}

type fileRequest struct {
	FiledAt     string `json:"filed_at"`
	Reference   string `json:"reference"`
	Note        string `json:"note"`
	DelayReason string `json:"delay_reason"`
	Supplement  bool   `json:"supplement"`
}

func (s *Server) fileObligation(c *gin.Context) {
	var req fileRequest
	if !decodeStrict(c, &req) {
		return
	}
	at := s.now().UTC()
	if req.FiledAt != "" {
		t, msg := parseTime(req.FiledAt, s.now())
		if msg != "" {
			problem(c, http.StatusUnprocessableEntity, "bad filed_at", FieldError{Field: "filed_at", Message: msg})
			return
		}
		at = t
	}
	if len(req.Reference) > 200 || len(req.Note) > 4000 || len(req.DelayReason) > 4000 {
		problem(c, http.StatusUnprocessableEntity, "reference is limited to 200 characters, note and delay_reason to 4000")
		return
	}
	s.update(c, workflows.UpdateFileObligation, breach.FileObligation{Actor: actor(c), Obligation: c.Param("ob"),
		FiledAt: at, Reference: req.Reference, Note: req.Note, DelayReason: req.DelayReason, Supplement: req.Supplement}, http.StatusOK)
}

type waiveRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) waiveObligation(c *gin.Context) {
	var req waiveRequest
	if !decodeStrict(c, &req) {
		return
	}
	if strings.TrimSpace(req.Reason) == "" {
		problem(c, http.StatusUnprocessableEntity, "a waiver needs a reason", FieldError{Field: "reason", Message: "required"})
		return
	}
	s.update(c, workflows.UpdateWaiveObligation, breach.WaiveObligation{Actor: actor(c), Obligation: c.Param("ob"), Reason: req.Reason}, http.StatusOK)
}

type closeRequest struct {
	Note string `json:"note"`
	// PurgeSubjects closes and then deletes the incident's customer data
	// (admin only); refused, before anything changes, under legal hold.
	PurgeSubjects bool `json:"purge_subjects"`
}

func (s *Server) closeIncident(c *gin.Context) {
	var req closeRequest
	if !decodeStrict(c, &req) {
		return
	}
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	key, ok := updateKey(c)
	if !ok {
		return
	}
	if req.PurgeSubjects {
		if !breach.RoleSatisfies(caller(c).Role, breach.RoleAdmin) {
			problem(c, http.StatusForbidden, "closing with purge_subjects deletes customer data: it needs the admin role",
				FieldError{Field: "purge_subjects", Message: "admin only"})
			return
		}
		switch held, err := s.held(c, id); {
		case err != nil:
			s.internal(c, "read hold", err)
			return
		case held:
			problem(c, http.StatusConflict, "incident "+id+" is under legal hold: it cannot be closed with its customer data deleted until the hold is lifted; nothing was changed",
				FieldError{Field: "purge_subjects", Message: "refused under legal hold"})
			return
		}
	}
	ctx := c.Request.Context()
	st, err := s.sendUpdate(ctx, id, workflows.UpdateClose, key, breach.CloseIncident{Actor: actor(c), Note: req.Note})
	if err != nil {
		closed, ok := s.closedAnyway(ctx, id, err)
		if !ok {
			s.updateError(c, id, err)
			return
		}
		st = closed
	}
	if !req.PurgeSubjects {
		c.JSON(http.StatusOK, st)
		return
	}
	// The workflow mirrors its closing into the store in an activity that
	// may not have run yet; the purge needs it now.
	if err := s.store.SetIncidentStatus(ctx, id, breach.StatusClosed); err != nil {
		s.internal(c, "mark closed", err)
		return
	}
	reason := strings.TrimSpace(req.Note)
	if reason == "" {
		reason = "closed with purge_subjects"
	}
	s.purge(c, id, reason, http.StatusOK, st)
}

// closedAnyway reports whether a close Update failed only because the
// workflow finished before the Update's answer went out: the close took
// effect, and the workflow's status (queried) says so.
func (s *Server) closedAnyway(ctx context.Context, id string, err error) (*breach.Status, bool) {
	// Temporal's server reports it as a failure of this type.
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != "AcceptedUpdateCompletedWorkflow" {
		return nil, false
	}
	st, qerr := s.queryStatus(ctx, id)
	if qerr != nil || st.Status != breach.StatusClosed {
		return nil, false
	}
	return st, true
}
