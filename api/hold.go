package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
)

// Legal hold: while it stands, an incident's customer data cannot be
// purged and the incident cannot be closed with its data deleted. The
// hold lives in the store, not the workflow, because it matters most
// after the incident closes and its workflow has ended.

// HoldView is one legal hold as the API shows it.
type HoldView struct {
	ID         int64      `json:"id"`
	PlacedBy   string     `json:"placed_by"`
	PlacedAt   time.Time  `json:"placed_at"`
	Reason     string     `json:"reason"`
	LiftedBy   string     `json:"lifted_by,omitempty"`
	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`
}

func holdView(h store.Hold) HoldView {
	v := HoldView{ID: h.ID, PlacedBy: h.PlacedBy, PlacedAt: h.PlacedAt, Reason: h.Reason, LiftedBy: h.LiftedBy, LiftReason: h.LiftReason}
	if !h.Active() {
		t := h.LiftedAt
		v.LiftedAt = &t
	}
	return v
}

// HoldState is the answer of the hold routes: whether the incident is
// held, the standing hold, and every hold it has had.
type HoldState struct {
	Incident string     `json:"incident"`
	Held     bool       `json:"held"`
	Hold     *HoldView  `json:"hold,omitempty"`
	History  []HoldView `json:"history"`
}

// holdState reads the incident's holds; ok is false once a problem has
// been written.
func (s *Server) holdState(c *gin.Context, id string) (HoldState, bool) {
	holds, err := s.store.ListHolds(c.Request.Context(), id)
	if err != nil {
		s.internal(c, "list holds", err)
		return HoldState{}, false
	}
	out := HoldState{Incident: id, History: []HoldView{}}
	for _, h := range holds {
		v := holdView(h)
		out.History = append(out.History, v)
		if h.Active() {
			out.Held, out.Hold = true, &v
		}
	}
	return out, true
}

// storedIncident checks the incident in the path exists in the store,
// answering 404 itself.
func (s *Server) storedIncident(c *gin.Context) (string, bool) {
	id, ok := incidentParam(c)
	if !ok {
		return "", false
	}
	if _, err := s.store.GetIncident(c.Request.Context(), id); errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, "no incident "+id)
		return "", false
	} else if err != nil {
		s.internal(c, "get incident", err)
		return "", false
	}
	return id, true
}

type holdRequest struct {
	Reason string `json:"reason"`
}

// readReason reads {reason} from the body, or ?reason= for a DELETE sent
// without one; a reason is required.
func readReason(c *gin.Context) (string, bool) {
	var req holdRequest
	if c.Request.Method == http.MethodDelete && c.Request.ContentLength <= 0 {
		req.Reason = c.Query("reason")
	} else if !decodeStrict(c, &req) {
		return "", false
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || len(req.Reason) > 4000 {
		problem(c, http.StatusUnprocessableEntity, "a reason is required (up to 4000 characters); it is kept for the record",
			FieldError{Field: "reason", Message: "required, at most 4000 characters"})
		return "", false
	}
	return req.Reason, true
}

// getHold handles GET /v1/incidents/{id}/hold.
func (s *Server) getHold(c *gin.Context) {
	id, ok := s.storedIncident(c)
	if !ok {
		return
	}
	if st, ok := s.holdState(c, id); ok {
		c.JSON(http.StatusOK, st)
	}
}

// placeHold handles POST /v1/incidents/{id}/hold.
func (s *Server) placeHold(c *gin.Context) {
	s.changeHold(c, s.store.PlaceHold, store.ErrConflict, "is already under legal hold", http.StatusCreated)
}

// liftHold handles DELETE /v1/incidents/{id}/hold and POST …/hold/lift.
func (s *Server) liftHold(c *gin.Context) {
	s.changeHold(c, s.store.LiftHold, store.ErrNotFound, "is not under legal hold", http.StatusOK)
}

// changeHold places or lifts the hold of the incident in the path with the
// body's reason: change's error refused answers 409 with "incident ID
// <refusal>"; success answers okStatus with the hold state.
func (s *Server) changeHold(c *gin.Context, change func(context.Context, store.HoldChange) (store.Hold, error),
	refused error, refusal string, okStatus int) {
	reason, ok := readReason(c)
	if !ok {
		return
	}
	id, ok := s.storedIncident(c)
	if !ok {
		return
	}
	_, err := change(c.Request.Context(), store.HoldChange{IncidentID: id, By: caller(c).Name, Reason: reason, At: s.now()})
	switch {
	case errors.Is(err, refused):
		problem(c, http.StatusConflict, "incident "+id+" "+refusal)
		return
	case err != nil:
		s.internal(c, "change hold", err)
		return
	}
	if st, ok := s.holdState(c, id); ok {
		c.JSON(okStatus, st)
	}
}

// purgeSubjects handles DELETE /v1/incidents/{id}/subjects: a closed
// incident's customer data is deleted (data minimisation); the delivery
// record stays. Refused under legal hold and while the incident is open.
func (s *Server) purgeSubjects(c *gin.Context) {
	reason, ok := readReason(c)
	if !ok {
		return
	}
	id, ok := s.storedIncident(c)
	if !ok {
		return
	}
	if err := s.mirrorClosed(c.Request.Context(), id); err != nil {
		s.internal(c, "mirror closed status", err)
		return
	}
	s.purge(c, id, reason, http.StatusOK, nil)
}

// mirrorClosed brings the store's status of the incident up to its
// workflow's when the workflow has closed: the workflow mirrors its
// closing in an activity that may not have run yet, and a purge right
// after a close must not be refused for that.
func (s *Server) mirrorClosed(ctx context.Context, id string) error {
	inc, err := s.store.GetIncident(ctx, id)
	if err != nil || inc.Status == store.StatusClosed {
		return err
	}
	st, err := s.queryStatus(ctx, id)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return nil // no workflow to ask; the store's status stands
	case err != nil:
		return err
	case st.Status == breach.StatusClosed:
		return s.store.SetIncidentStatus(ctx, id, store.StatusClosed)
	}
	return nil
}

// purge deletes the incident's customers and answers okStatus with body
// (nil: the count); a hold or an open incident is answered 409.
func (s *Server) purge(c *gin.Context, id, reason string, okStatus int, body any) {
	n, err := s.store.PurgeSubjects(c.Request.Context(), store.HoldChange{IncidentID: id, By: caller(c).Name, Reason: reason, At: s.now()})
	switch {
	case errors.Is(err, store.ErrHeld):
		problem(c, http.StatusConflict, "incident "+id+" is under legal hold: its customer data cannot be purged until the hold is lifted")
		return
	case errors.Is(err, store.ErrConflict):
		problem(c, http.StatusConflict, "incident "+id+" is still active: customer data is purged only after it closes")
		return
	case err != nil:
		s.internal(c, "purge subjects", err)
		return
	}
	if body == nil {
		body = gin.H{"incident": id, "purged": n}
	}
	c.JSON(okStatus, body)
}

// held reports whether a legal hold stands on the incident.
func (s *Server) held(c *gin.Context, id string) (bool, error) {
	holds, err := s.store.ListHolds(c.Request.Context(), id)
	if err != nil {
		return false, err
	}
	for _, h := range holds {
		if h.Active() {
			return true, nil
		}
	}
	return false, nil
}
