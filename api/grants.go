package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
	slackapi "github.com/slack-go/slack"
)

// Two-person control of customer contacts: reading decrypted names and
// emails (the outreach call list, any future export) needs an access
// grant that one person requests with a reason and a second person
// approves. The grant is good for its requester, its incident and its
// time box only. Every request, approval, read and refused read is in the
// incident's audit chain.

// NeedsGrant is the refusal of a contacts read without an active grant.
const NeedsGrant = "needs a second person's approval of an access grant"

// grantView is an access grant as the API shows it.
type grantView struct {
	ID            int64      `json:"id"`
	Scope         string     `json:"scope"`
	RequestedBy   string     `json:"requested_by"`
	RequesterRole string     `json:"requester_role"`
	Reason        string     `json:"reason"`
	Duration      string     `json:"duration"`
	Status        string     `json:"status"` // requested, approved, expired
	RequestedAt   time.Time  `json:"requested_at"`
	ApprovedBy    string     `json:"approved_by,omitempty"`
	ApproverRole  string     `json:"approver_role,omitempty"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	// Needs says who must still act: "a second person with the legal role"
	// while the grant waits for approval.
	Needs string `json:"needs,omitempty"`
}

// grantApprover is the role whose holders (admins too) approve grants.
const grantApprover = breach.RoleLegal

func viewGrant(g store.AccessGrant, at time.Time) grantView {
	v := grantView{ID: g.ID, Scope: g.Scope, RequestedBy: g.RequestedBy, RequesterRole: g.RequesterRole, Reason: g.Reason,
		Duration: g.Duration.String(), Status: g.Status, RequestedAt: g.RequestedAt, ApprovedBy: g.ApprovedBy,
		ApproverRole: g.ApproverRole, ApprovedAt: g.ApprovedAt, ExpiresAt: g.ExpiresAt}
	switch {
	case g.Expired(at):
		v.Status = "expired"
	case g.Status == store.GrantRequested:
		v.Needs = fmt.Sprintf("approval by a second person with the %s role (not %s)", grantApprover, g.RequestedBy)
	}
	return v
}

type grantRequest struct {
	Reason   string `json:"reason"`
	Duration string `json:"duration"`
}

// requestGrant handles POST /v1/incidents/{id}/grants.
func (s *Server) requestGrant(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	var req grantRequest
	if !decodeStrict(c, &req) {
		return
	}
	d, reason, fields := checkGrantRequest(req)
	if len(fields) > 0 {
		problem(c, http.StatusUnprocessableEntity, "bad access grant request", fields...)
		return
	}
	g, err := s.requestContactsGrant(c.Request.Context(), id, caller(c), reason, d)
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, "no incident "+strconv.Quote(id))
	case errors.Is(err, store.ErrInvalid):
		problem(c, http.StatusUnprocessableEntity, "bad access grant request", FieldError{Field: "reason", Message: "required, not blank"})
	case err != nil:
		s.internal(c, "request grant", err)
	default:
		c.JSON(http.StatusCreated, viewGrant(g, s.now()))
	}
}

// checkGrantRequest validates a grant request (REST and dashboard): the
// time box and the reason, with a message per field.
func checkGrantRequest(req grantRequest) (time.Duration, string, []FieldError) {
	var fields []FieldError
	d, err := time.ParseDuration(req.Duration)
	if err != nil || d < time.Minute || d > store.MaxGrantDuration {
		fields = append(fields, FieldError{Field: "duration", Message: fmt.Sprintf("a duration such as 2h or 30m, from 1m to %s", fmtHours(store.MaxGrantDuration))})
	}
	reason := strings.TrimSpace(req.Reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > store.MaxGrantReason {
		fields = append(fields, FieldError{Field: "reason", Message: fmt.Sprintf("required: why you need the customers' contacts (at most %d characters)", store.MaxGrantReason)})
	}
	return d, reason, fields
}

// requestContactsGrant stores who asks to read the customers' contacts,
// why and for how long, and tells the incident's room.
func (s *Server) requestContactsGrant(ctx context.Context, id string, who store.Token, reason string, d time.Duration) (store.AccessGrant, error) {
	g, err := s.store.RequestGrant(ctx, store.AccessGrant{IncidentID: id, Scope: store.GrantScopeContacts,
		RequestedBy: who.Name, RequesterRole: who.Role, Reason: reason, Duration: d, RequestedAt: s.now()})
	if err != nil {
		return g, err
	}
	s.announceGrant(ctx, id, fmt.Sprintf(
		"🔐 %s (%s) asks to read the customers' contacts of %s for %s (access grant %d). Needs approval by a second person with the %s role, not %s: the incident page or POST /v1/incidents/%s/grants/%d/approve.",
		g.RequestedBy, g.RequesterRole, id, g.Duration, g.ID, grantApprover, g.RequestedBy, id, g.ID))
	return g, nil
}

// approveGrant handles POST /v1/incidents/{id}/grants/{gid}/approve.
func (s *Server) approveGrant(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	gid, err := strconv.ParseInt(c.Param("gid"), 10, 64)
	if err != nil || gid < 1 {
		problem(c, http.StatusNotFound, "no access grant "+strconv.Quote(c.Param("gid")))
		return
	}
	who := caller(c)
	g, err := s.store.ApproveGrant(c.Request.Context(), id, gid, who.Name, who.Role, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, fmt.Sprintf("incident %s has no access grant %d", id, gid))
	case errors.Is(err, store.ErrSelfApproval):
		problem(c, http.StatusForbidden, fmt.Sprintf("%s requested grant %d; it needs a second person's approval", who.Name, gid))
	case errors.Is(err, store.ErrConflict):
		problem(c, http.StatusConflict, fmt.Sprintf("access grant %d is already approved", gid))
	case err != nil:
		s.internal(c, "approve grant", err)
	default:
		s.announceGrant(c.Request.Context(), id, grantApprovedText(g))
		c.JSON(http.StatusOK, viewGrant(g, s.now()))
	}
}

func grantApprovedText(g store.AccessGrant) string {
	return fmt.Sprintf("🔓 %s approved access grant %d: %s may read the customers' contacts of %s until %s.",
		g.ApprovedBy, g.ID, g.RequestedBy, g.IncidentID, g.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
}

// announceGrant tells the incident's Slack room about a grant, when it has
// one. The message names principals and times only: never the reason
// (free text that could name a customer) and never a contact.
func (s *Server) announceGrant(ctx context.Context, id, text string) {
	if s.slack == nil || s.slack.API == nil {
		return
	}
	room, err := s.store.GetSlackRoom(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "slack room of grant", "incident", id, "error", err)
		}
		return
	}
	if _, _, err := s.slack.API.PostMessageContext(ctx, room.ChannelID, slackapi.MsgOptionText(text, false)); err != nil {
		s.log.WarnContext(ctx, "slack chat.postMessage grant", "incident", id, "error", err)
	}
}

// listGrants handles GET /v1/incidents/{id}/grants.
func (s *Server) listGrants(c *gin.Context) {
	id, ok := incidentParam(c)
	if !ok {
		return
	}
	gs, err := s.store.ListGrants(c.Request.Context(), id)
	if err != nil {
		s.internal(c, "list grants", err)
		return
	}
	at := s.now()
	out := make([]grantView, 0, len(gs))
	for _, g := range gs {
		out = append(out, viewGrant(g, at))
	}
	c.JSON(http.StatusOK, gin.H{"grants": out, "max_duration": fmtHours(store.MaxGrantDuration)})
}

// contactsGrant decides whether the caller may read the incident's
// decrypted customer contacts now (see checkContactsGrant), answering the
// refusal itself.
func (s *Server) contactsGrant(c *gin.Context, id, what string) (store.AccessGrant, bool) {
	g, e := s.checkContactsGrant(c.Request.Context(), id, caller(c), what)
	if e != nil {
		s.answerAction(c, e)
		return store.AccessGrant{}, false
	}
	return g, true
}

// checkContactsGrant decides whether who may read the incident's
// decrypted customer contacts now, and writes the answer to the audit
// chain either way: "contacts.read" naming the grant, or
// "contacts.read_refused" (and "grant.expired_use" when the caller's only
// grant has run out). Every surface that serves contacts asks it.
func (s *Server) checkContactsGrant(ctx context.Context, id string, who store.Token, what string) (store.AccessGrant, *actionError) {
	at := s.now()
	gs, err := s.store.ListGrants(ctx, id)
	if err != nil {
		return store.AccessGrant{}, failedAction("list grants", err)
	}
	if g, ok := activeGrant(gs, who, at); ok {
		if err := s.auditContactsRead(ctx, id, who, g, what, at); err != nil {
			return store.AccessGrant{}, failedAction("audit contacts read", err)
		}
		return g, nil
	}
	var expired *store.AccessGrant
	for i, g := range gs {
		if g.RequestedBy == who.Name && g.Expired(at) {
			expired = &gs[i]
		}
	}
	detail := NeedsGrant + ": request one (POST /v1/incidents/" + id + "/grants) and have another person approve it"
	if expired != nil {
		detail = fmt.Sprintf("%s: your grant %d expired at %s; request a new one", NeedsGrant, expired.ID, expired.ExpiresAt.UTC().Format(time.RFC3339))
		if err := s.auditContacts(ctx, id, who, "grant.expired_use", "grant:"+strconv.FormatInt(expired.ID, 10), at,
			map[string]any{"what": what, "grant": expired.ID, "expires_at": expired.ExpiresAt}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.AccessGrant{}, failedAction("audit expired grant", err)
		}
	}
	err = s.auditContacts(ctx, id, who, "contacts.read_refused", "contacts", at, map[string]any{"what": what, "reason": NeedsGrant})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.AccessGrant{}, refusedAction(http.StatusNotFound, "no incident "+strconv.Quote(id))
	case err != nil:
		return store.AccessGrant{}, failedAction("audit refused contacts read", err)
	}
	return store.AccessGrant{}, refusedAction(http.StatusForbidden, detail)
}

// activeGrant is the caller's grant that lets them read the contacts now.
func activeGrant(gs []store.AccessGrant, who store.Token, at time.Time) (store.AccessGrant, bool) {
	for _, g := range gs {
		if g.Active(who.Name, at) {
			return g, true
		}
	}
	return store.AccessGrant{}, false
}

// auditContactsRead records a read of the contacts under grant g.
func (s *Server) auditContactsRead(ctx context.Context, id string, who store.Token, g store.AccessGrant, what string, at time.Time) error {
	return s.auditContacts(ctx, id, who, "contacts.read", "grant:"+strconv.FormatInt(g.ID, 10), at,
		map[string]any{"what": what, "grant": g.ID, "expires_at": g.ExpiresAt})
}

func (s *Server) auditContacts(ctx context.Context, id string, who store.Token, action, target string, at time.Time, details map[string]any) error {
	details["role"] = who.Role
	raw, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = s.store.AppendAudit(ctx, store.AuditEvent{IncidentID: id, At: at, Actor: who.Name, Action: action, Target: target, Details: raw})
	return err
}

// fmtHours writes a whole number of hours as "8h".
func fmtHours(d time.Duration) string { return strconv.Itoa(int(d/time.Hour)) + "h" }
