package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
)

// Deadline is one open duty on legal's board.
type Deadline struct {
	IncidentID             string     `json:"incident_id"`
	Severity               string     `json:"severity"`
	Obligation             string     `json:"obligation"`
	Regime                 string     `json:"regime"`
	Jurisdiction           string     `json:"jurisdiction"`
	Recipient              string     `json:"recipient"`
	RecipientName          string     `json:"recipient_name"`
	Deadline               string     `json:"deadline"`
	Standard               string     `json:"standard,omitempty"`
	DueAt                  *time.Time `json:"due_at,omitempty"`
	Remaining              string     `json:"remaining,omitempty"` // e.g. "23h59m", "-2h0m" when overdue
	Status                 string     `json:"status"`
	MissingFacts           []string   `json:"missing_facts,omitempty"`
	NeedsLegalConfirmation bool       `json:"needs_legal_confirmation,omitempty"`
}

var obligationStatuses = []string{breach.ObligationPending, breach.ObligationOverdue, breach.ObligationFiled, breach.ObligationWaived}

// deadlineFilter reads the query of GET /v1/deadlines(.ics).
func (s *Server) deadlineFilter(c *gin.Context) (store.DeadlineFilter, []FieldError) {
	f := store.DeadlineFilter{ActiveOnly: true}
	var errs []FieldError
	if v := c.Query("within"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, FieldError{Field: "within", Message: "a positive duration such as 24h or 90m"})
		} else {
			t := s.now().Add(d)
			f.DueBefore = &t
		}
	}
	for _, st := range c.QueryArray("status") {
		for _, one := range strings.Split(st, ",") {
			if !slices.Contains(obligationStatuses, one) {
				errs = append(errs, FieldError{Field: "status", Message: "pending, overdue, filed or waived"})
			} else {
				f.Statuses = append(f.Statuses, one)
			}
		}
	}
	if v := c.Query("jurisdiction"); v != "" {
		if !breach.ValidJurisdiction(v) && v != "EU" && v != "US" {
			errs = append(errs, FieldError{Field: "jurisdiction", Message: "an ISO 3166 code such as DE or US-CA, or EU"})
		}
		f.Jurisdiction = v
	}
	if v := c.Query("incident"); v != "" {
		if !incidentIDPattern.MatchString(v) {
			errs = append(errs, FieldError{Field: "incident", Message: "an incident id such as BR-7K3F9Q"})
		}
		f.IncidentID = v
	}
	return f, errs
}

func (s *Server) deadlines(c *gin.Context) {
	f, errs := s.deadlineFilter(c)
	if len(errs) > 0 {
		problem(c, http.StatusBadRequest, "bad query parameters", errs...)
		return
	}
	rows, err := s.visibleDeadlines(c.Request.Context(), actor(c), f)
	if err != nil {
		s.internal(c, "list deadlines", err)
		return
	}
	now := s.now()
	out := make([]Deadline, 0, len(rows))
	for _, r := range rows {
		d := Deadline{IncidentID: r.IncidentID, Severity: r.Severity, Obligation: r.ObligationID, Regime: r.Regime,
			Jurisdiction: r.Jurisdiction, Recipient: r.Recipient, RecipientName: r.RecipientName, Deadline: r.Deadline,
			Standard: r.Standard, DueAt: r.DueAt, Status: r.Status, MissingFacts: r.MissingFacts,
			NeedsLegalConfirmation: r.NeedsLegalConfirmation}
		if r.DueAt != nil {
			d.Remaining = r.DueAt.Sub(now).Round(time.Minute).String()
		}
		out = append(out, d)
	}
	c.JSON(http.StatusOK, gin.H{"deadlines": out, "as_of": now.UTC()})
}

// calendarToken issues a token for the caller's calendar feed.
func (s *Server) calendarToken(c *gin.Context) {
	tok := caller(c)
	secret, err := s.store.CreateCalendarToken(c.Request.Context(), tok.ID)
	if err != nil {
		s.internal(c, "create calendar token", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": secret, "url": "/v1/deadlines.ics?token=" + secret})
}

// deadlinesICS serves the open deadlines as an iCalendar feed. Calendar
// apps cannot send headers, so it takes a calendar token in the query
// (or a bearer token); nothing but incident ids and laws is in it.
func (s *Server) deadlinesICS(c *gin.Context) {
	ctx := c.Request.Context()
	f, errs := s.deadlineFilter(c)
	if len(errs) > 0 {
		problem(c, http.StatusBadRequest, "bad query parameters", errs...)
		return
	}
	rows, err := s.visibleDeadlines(ctx, actor(c), f)
	if err != nil {
		s.internal(c, "list deadlines", err)
		return
	}
	cal := ics.NewCalendar()
	cal.SetMethod(ics.MethodPublish)
	cal.SetProductId("-//breachflow//deadlines//EN")
	cal.SetXWRCalName("Breach notification deadlines")
	cal.SetRefreshInterval("PT15M")
	now := s.now().UTC()
	for _, r := range rows {
		if r.DueAt == nil {
			continue
		}
		ev := cal.AddEvent(fmt.Sprintf("%s-%s@breachflow", r.IncidentID, r.ObligationID))
		ev.SetDtStampTime(now)
		ev.SetStartAt(r.DueAt.UTC())
		ev.SetEndAt(r.DueAt.UTC().Add(30 * time.Minute))
		summary := fmt.Sprintf("%s: %s to %s due", r.IncidentID, r.Regime, r.RecipientName)
		if r.Status == breach.ObligationOverdue {
			summary = "OVERDUE " + summary
		}
		ev.SetSummary(summary)
		ev.SetDescription(fmt.Sprintf("Incident %s (%s), %s, %s. Deadline: %s %s.", r.IncidentID, r.Severity, r.Jurisdiction, r.Status, r.Deadline, r.Standard))
		for _, before := range []string{"-PT24H", "-PT4H", "-PT1H"} {
			al := ev.AddAlarm()
			al.SetAction(ics.ActionDisplay)
			al.SetTrigger(before)
			al.SetProperty(ics.ComponentPropertyDescription, summary)
		}
	}
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", []byte(cal.Serialize()))
}

// visibleDeadlines lists the deadlines of f that who may see: a
// restricted incident's are left out unless who is a member (or admin).
func (s *Server) visibleDeadlines(ctx context.Context, who breach.Actor, f store.DeadlineFilter) ([]store.ObligationRow, error) {
	if who.Role != breach.RoleAdmin {
		f.VisibleTo = who.Name
		if f.VisibleTo == "" {
			return nil, errors.New("deadlines: no principal to filter for")
		}
	}
	return s.store.ListDeadlines(ctx, f)
}
