package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/store"
	"github.com/gin-gonic/gin"
	slackapi "github.com/slack-go/slack"
)

// alertCardView is the card of an alert, with the decision when made.
func alertCardView(a store.AlertRecord) slack.AlertCardView {
	v := slack.AlertCardView{ID: a.ID, Title: a.Title, Source: a.Source, Severity: a.Severity, Rule: a.RuleID,
		Labels: a.Labels, FirstSeen: a.FirstSeen, Count: a.Count}
	switch a.State {
	case store.AlertLaunched:
		v.Decision = fmt.Sprintf("Launched %s by %s", a.IncidentID, a.DecidedBy)
	case store.AlertAttached:
		v.Decision = fmt.Sprintf("Attached to %s by %s", a.IncidentID, a.DecidedBy)
	case store.AlertDismissed:
		v.Decision = fmt.Sprintf("Dismissed by %s: %s", a.DecidedBy, a.Reason)
	}
	return v
}

// postAlertCard puts a new triage alert in the triage channel. A failure
// is logged: the alert is stored and in the queue either way.
func (s *Server) postAlertCard(ctx context.Context, a store.AlertRecord) {
	if s.slack == nil || s.slack.API == nil || s.slack.TriageChannel == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, slackAnswerWithin)
	defer cancel()
	text, blocks := slack.AlertCard(alertCardView(a))
	channel, ts, err := s.slack.API.PostMessageContext(ctx, s.slack.TriageChannel,
		slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		s.log.WarnContext(ctx, "slack triage card", "alert", a.ID, "error", err)
		return
	}
	if err := s.store.PutAlertCard(ctx, a.ID, channel, ts); err != nil {
		s.log.WarnContext(ctx, "slack triage card: record", "alert", a.ID, "error", err)
	}
}

// refreshAlertCard shows a decision on the alert's Slack card, wherever
// the decision was made; no card, no Slack, or a failure changes nothing
// else (the decision stands, the failure is logged).
func (s *Server) refreshAlertCard(ctx context.Context, a store.AlertRecord) {
	if s.slack == nil || s.slack.API == nil {
		return
	}
	channel, ts, err := s.store.GetAlertCard(ctx, a.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "slack triage card: look up", "alert", a.ID, "error", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, slackAnswerWithin)
	defer cancel()
	text, blocks := slack.AlertCard(alertCardView(a))
	if _, _, _, err := s.slack.API.UpdateMessageContext(ctx, channel, ts, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...)); err != nil {
		s.log.WarnContext(ctx, "slack triage card update", "alert", a.ID, "error", err)
	}
}

// slackAlertClick opens the modal of the decision clicked on a card.
func (s *Server) slackAlertClick(c *gin.Context, cb *slackapi.InteractionCallback, act *slackapi.BlockAction, channel string) {
	ctx := c.Request.Context()
	actor, mapped := s.slackActor(ctx, cb.User.ID)
	switch {
	case !mapped:
		s.ephemeral(ctx, channel, cb.User.ID, slackUnmapped)
		c.Status(http.StatusOK)
		return
	}
	if why, err := s.slackMay(ctx, actor, "slack "+strings.TrimPrefix(act.ActionID, "breachflow."), "", false); err != nil {
		s.internal(c, "authorize", err)
		return
	} else if why != "" {
		s.ephemeral(ctx, channel, cb.User.ID, why)
		c.Status(http.StatusOK)
		return
	}
	var id int64
	if _, err := fmt.Sscanf(act.Value, "%d", &id); err != nil || id <= 0 {
		problem(c, http.StatusBadRequest, "the button's value names no alert")
		return
	}
	a, err := s.store.GetAlert(ctx, id)
	if err != nil || a.State != store.AlertOpen {
		s.ephemeral(ctx, channel, cb.User.ID, fmt.Sprintf("Alert #%d is no longer in triage.", id))
		c.Status(http.StatusOK)
		return
	}
	view := map[string]string{slack.ActionAlertLaunch: slack.ViewAlertLaunch, slack.ActionAlertAttach: slack.ViewAlertAttach,
		slack.ActionAlertDismiss: slack.ViewAlertDismiss}[act.ActionID]
	var pbs []string
	for _, p := range s.playbooks.List() {
		pbs = append(pbs, p.ID)
	}
	ts := cb.Container.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	octx, cancel := context.WithTimeout(ctx, slackAnswerWithin)
	defer cancel()
	if _, err := s.slack.API.OpenViewContext(octx, cb.TriggerID, slack.AlertModal(view, id, channel, ts, pbs)); err != nil {
		s.log.WarnContext(c, "slack views.open", "error", err)
		s.ephemeral(ctx, channel, cb.User.ID, "The form could not be opened; try again.")
	}
	c.Status(http.StatusOK)
}

// slackAlertSubmit applies a decision submitted from an alert modal,
// through the same code as the API and the dashboard, then updates the
// card in place.
func (s *Server) slackAlertSubmit(c *gin.Context, cb *slackapi.InteractionCallback) {
	id, _, _, ok := slack.ParseAlertMeta(cb.View.PrivateMetadata)
	if !ok {
		problem(c, http.StatusBadRequest, "the alert form's metadata names no alert")
		return
	}
	get := func(block string) slackapi.BlockAction {
		if cb.View.State == nil {
			return slackapi.BlockAction{}
		}
		return cb.View.State.Values[block][block]
	}
	first := map[string]string{slack.ViewAlertLaunch: slack.AlertPlaybook, slack.ViewAlertAttach: slack.AlertIncident,
		slack.ViewAlertDismiss: slack.AlertReason}[cb.View.CallbackID]
	ctx := c.Request.Context()
	actor, mapped := s.slackActor(ctx, cb.User.ID)
	if !mapped {
		viewErrors(c, map[string]string{first: slackUnmapped})
		return
	}
	if why, err := s.slackMay(ctx, actor, "slack "+strings.TrimPrefix(cb.View.CallbackID, "breachflow."), "", false); err != nil {
		s.internal(c, "authorize", err)
		return
	} else if why != "" {
		viewErrors(c, map[string]string{first: why})
		return
	}
	a, err := s.store.GetAlert(ctx, id)
	if err != nil {
		viewErrors(c, map[string]string{first: fmt.Sprintf("There is no alert #%d.", id)})
		return
	}
	switch cb.View.CallbackID {
	case slack.ViewAlertLaunch:
		req := launchRequest{Playbook: get(slack.AlertPlaybook).SelectedOption.Value}
		var js []string
		for _, j := range strings.FieldsFunc(get(slack.AlertJurisdictions).Value, func(r rune) bool { return r == ',' || r == ' ' }) {
			js = append(js, strings.ToUpper(j))
		}
		if js != nil {
			req.setFact("jurisdictions", js)
		}
		_, _, _, lerr := s.acceptAlert(ctx, a, req, actor)
		if lerr != nil {
			if lerr.Err != nil {
				s.log.ErrorContext(c, lerr.Op, "route", c.FullPath(), "error", lerr.Err)
				viewErrors(c, map[string]string{first: "Something went wrong; it has been logged. Try again or use the API."})
				return
			}
			msg := lerr.Detail
			for _, f := range lerr.Fields {
				msg += "; " + f.Field + ": " + f.Message
			}
			viewErrors(c, map[string]string{first: msg})
			return
		}
	case slack.ViewAlertAttach:
		inc := strings.ToUpper(strings.TrimSpace(get(slack.AlertIncident).Value))
		if !incidentIDPattern.MatchString(inc) {
			viewErrors(c, map[string]string{first: "An incident id such as BR-7K3F9Q."})
			return
		}
		if _, err = s.attachAlertTo(ctx, a, inc, actor); err != nil {
			viewErrors(c, map[string]string{first: s.slackDecisionError(err)})
			return
		}
	case slack.ViewAlertDismiss:
		reason := strings.TrimSpace(get(slack.AlertReason).Value)
		if reason == "" {
			viewErrors(c, map[string]string{first: "A reason is required: it is kept with the alert."})
			return
		}
		if _, err = s.dismissAlertWith(ctx, a, reason, actor.Name); err != nil {
			viewErrors(c, map[string]string{first: s.slackDecisionError(err)})
			return
		}
	}
	// The decision refreshed the card (refreshAlertCard).
	c.Status(http.StatusOK)
}

// slackDecisionError words a refused decision for a modal.
func (s *Server) slackDecisionError(err error) string {
	var denied deniedError
	switch {
	case errors.As(err, &denied) && denied.Status != http.StatusNotFound:
		return "Refused: " + denied.Detail + "."
	case errors.As(err, &denied):
		return "There is no such incident."
	case errors.Is(err, store.ErrAlertDecided):
		return "The alert is no longer in triage; someone decided it already."
	case errors.Is(err, store.ErrNotFound):
		return "There is no such incident."
	}
	s.log.Error("slack alert decision", "error", err)
	return "Something went wrong; it has been logged. Try again or use the API."
}
