package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
)

// outreachTask is one call an account manager makes. It carries the
// customer's name and email because the caller must reach that person:
// it is served only to responders and legal, and never logged.
type outreachTask struct {
	ID             int64      `json:"id"`
	SubjectID      int64      `json:"subject_id"`
	ExternalID     string     `json:"external_id,omitempty"`
	Name           string     `json:"name,omitempty"`
	Email          string     `json:"email,omitempty"`
	Locale         string     `json:"locale"`
	Jurisdiction   string     `json:"jurisdiction"`
	AccountManager string     `json:"account_manager"`
	Status         string     `json:"status"`
	Note           string     `json:"note,omitempty"`
	DoneBy         string     `json:"done_by,omitempty"`
	DoneAt         *time.Time `json:"done_at,omitempty"`
}

// listOutreach handles GET /v1/incidents/{id}/outreach[?status=open|done].
func (s *Server) listOutreach(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	status := c.Query("status")
	if status != "" && status != store.OutreachOpen && status != store.OutreachDone {
		problem(c, http.StatusBadRequest, "bad query", FieldError{Field: "status", Message: "open or done"})
		return
	}
	// The list names high-tier customers: two-person control.
	if _, ok := s.contactsGrant(c, id, "outreach call list"); !ok {
		return
	}
	ctx := c.Request.Context()
	tasks, err := s.store.ListOutreachTasks(ctx, id, status)
	if err != nil {
		s.internal(c, "list outreach", err)
		return
	}
	ids := make([]int64, 0, len(tasks))
	for _, t := range tasks {
		ids = append(ids, t.SubjectID)
	}
	recs, err := s.store.GetSubjects(ctx, ids)
	if err != nil {
		s.internal(c, "load outreach subjects", err)
		return
	}
	bySubject := map[int64]store.SubjectRecord{}
	for _, r := range recs {
		bySubject[r.ID] = r
	}
	out := make([]outreachTask, 0, len(tasks))
	for _, t := range tasks {
		v := outreachTask{ID: t.ID, SubjectID: t.SubjectID, AccountManager: t.AccountManager, Status: t.Status,
			Note: t.Note, DoneBy: t.DoneBy, DoneAt: t.DoneAt}
		if r, ok := bySubject[t.SubjectID]; ok {
			v.ExternalID, v.Locale, v.Jurisdiction = r.ExternalID, r.Locale, r.Country
			if r.Subdivision != "" {
				v.Jurisdiction = r.Subdivision
			}
			if s.keys != nil {
				if name, email, err := subjects.Open(r, s.keys); err == nil {
					v.Name, v.Email = name, email
				}
			}
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"tasks": out})
}

type outreachDoneRequest struct {
	Note string `json:"note"`
}

// outreachDone handles POST /v1/incidents/{id}/outreach/{task}/done. The
// last call done completes the outreach step, releasing the mass notice.
func (s *Server) outreachDone(c *gin.Context) {
	id := c.Param("id")
	task, err := strconv.ParseInt(c.Param("task"), 10, 64)
	if !incidentIDPattern.MatchString(id) || err != nil || task < 1 {
		problem(c, http.StatusNotFound, "no such outreach task")
		return
	}
	var req outreachDoneRequest
	if !decodeStrict(c, &req) {
		return
	}
	if len(req.Note) > 2000 {
		problem(c, http.StatusUnprocessableEntity, "note is limited to 2000 characters", FieldError{Field: "note", Message: "at most 2000 characters"})
		return
	}
	res, err := s.callOutreach(c, id, task, req.Note)
	var ue *updateFailure
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, fmt.Sprintf("incident %s has no outreach task %d", id, task))
		return
	case errors.As(err, &ue):
		s.updateError(c, id, ue.err)
		return
	case err != nil:
		s.internal(c, "outreach call", err)
		return
	}
	out := gin.H{"task": task, "open": res.Open, "done": res.Done, "step_completed": res.StepCompleted}
	if res.StepRefused != "" {
		out["step_refused"] = res.StepRefused
	}
	c.JSON(http.StatusOK, out)
}

// outreachCall is what one finished call did: the calls still open and
// done, and whether the last one completed the outreach step.
type outreachCall struct {
	Open, Done    int
	StepCompleted bool
	StepRefused   string // the workflow's refusal of completing the step
}

// updateFailure is a workflow Update's error, for the caller to answer.
type updateFailure struct{ err error }

func (e *updateFailure) Error() string { return e.err.Error() }
func (e *updateFailure) Unwrap() error { return e.err }

// callOutreach marks one outreach task done (REST and dashboard). The
// call goes into the audit chain first (the workflow judges the caller
// again); the note stays in the store, as it may name the customer. A
// repeat is answered by the same Update. The last call done completes the
// outreach step, releasing the mass notice. An unknown task is
// store.ErrNotFound; the workflow's refusal an *updateFailure.
func (s *Server) callOutreach(c *gin.Context, id string, task int64, note string) (*outreachCall, error) {
	ctx := c.Request.Context()
	who := caller(c)
	tasks, err := s.store.ListOutreachTasks(ctx, id, "")
	if err != nil {
		return nil, fmt.Errorf("list outreach: %w", err)
	}
	i := slices.IndexFunc(tasks, func(t store.OutreachTask) bool { return t.ID == task })
	if i < 0 {
		return nil, store.ErrNotFound
	}
	if tasks[i].Status != store.OutreachDone {
		if _, err := s.sendUpdate(ctx, id, workflows.UpdateOutreachDone, fmt.Sprintf("outreach-done-%d", task),
			breach.OutreachDone{Actor: actor(c), Task: task}); err != nil {
			return nil, &updateFailure{err}
		}
	}
	if err := s.store.CompleteOutreachTask(ctx, id, task, who.Name, note); err != nil {
		return nil, fmt.Errorf("complete outreach task: %w", err)
	}
	open, done, err := s.store.OutreachCounts(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("count outreach: %w", err)
	}
	out := &outreachCall{Open: open, Done: done}
	if open > 0 {
		return out, nil
	}
	st, err := s.queryStatus(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("query incident: %w", err)
	}
	for _, step := range st.Steps {
		if step.Kind != playbooks.KindOutreach || step.State != breach.StepReady {
			continue
		}
		_, err := s.sendUpdate(ctx, id, workflows.UpdateCompleteStep, fmt.Sprintf("outreach-%s-%d", step.ID, task),
			breach.CompleteStep{Actor: actor(c), Step: step.ID, Note: fmt.Sprintf("all %d personal calls made", done)})
		if err != nil {
			if r, ok := refusal(id, err); ok {
				out.StepRefused = r.Detail
				continue
			}
			return nil, fmt.Errorf("complete outreach step: %w", err)
		}
		out.StepCompleted = true
	}
	return out, nil
}
