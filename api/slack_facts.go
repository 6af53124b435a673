package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	slackapi "github.com/slack-go/slack"
)

// Slack's fact modal: the Complete button of a step that needs facts the
// incident does not know yet opens a modal asking for them (views.open
// with the click's trigger id); its submission sets them as PATCH does
// (Server.patchOf), after which the step can be completed.

// slackAskFacts opens the facts modal when step needs facts the incident
// lacks. opened reports that it did; why is what to tell the user when
// it could not. When the status cannot be read, neither is set and the
// click goes on to the workflow, which judges it.
func (s *Server) slackAskFacts(ctx context.Context, cb *slackapi.InteractionCallback, id, step, channel string) (bool, string) {
	if s.temporal == nil {
		return false, ""
	}
	qctx, cancel := context.WithTimeout(ctx, slackAnswerWithin)
	defer cancel()
	st, err := s.queryStatus(qctx, id)
	if err != nil {
		return false, ""
	}
	missing := s.missingStepFacts(st, step)
	if len(missing) == 0 {
		return false, ""
	}
	var facts []breach.Fact
	for _, name := range missing {
		if f, ok := breach.LookupFact(name); ok && !f.System {
			facts = append(facts, f)
		}
	}
	if len(facts) == 0 || s.slack.API == nil || cb.TriggerID == "" {
		return false, fmt.Sprintf("Step %s needs %s set first: set it on the incident's page in the dashboard, or PATCH /v1/incidents/%s.",
			step, strings.Join(missing, ", "), id)
	}
	if _, err := s.slack.API.OpenViewContext(qctx, cb.TriggerID, slack.FactsModal(id, step, channel, facts)); err != nil {
		s.log.Warn("slack views.open", "error", err)
		return false, "The form for the missing facts could not be opened; try again."
	}
	return true, ""
}

// slackFactsSubmit handles the facts modal's submission: the facts it
// holds, read and judged as PATCH reads and judges them.
func (s *Server) slackFactsSubmit(c *gin.Context, cb *slackapi.InteractionCallback) {
	id, step, channel, ok := parseStepMetadata(cb.View.PrivateMetadata)
	if !ok {
		problem(c, http.StatusBadRequest, "the facts form's metadata names no incident step")
		return
	}
	var names []string
	if cb.View.State != nil {
		for block := range cb.View.State.Values {
			names = append(names, block)
		}
	}
	first := step
	var facts []breach.Fact
	for _, f := range breach.FactTable() {
		for _, n := range names {
			if n == f.Name && !f.System {
				facts = append(facts, f)
			}
		}
	}
	if len(facts) > 0 {
		first = facts[0].Name
	}
	ctx := c.Request.Context()
	actor, mapped := s.slackActor(ctx, cb.User.ID)
	if !mapped {
		viewErrors(c, map[string]string{first: slackUnmapped})
		return
	}
	if why, err := s.slackMay(ctx, actor, "slack facts", id, true); err != nil {
		s.log.Error("slack authorize", "error", err)
		viewErrors(c, map[string]string{first: "Something went wrong; it has been logged. Nothing was changed."})
		return
	} else if why != "" {
		viewErrors(c, map[string]string{first: why})
		return
	}
	body, errs := slackFactValues(cb.View.State, facts)
	req := patchRequest{Facts: body}
	if len(errs) == 0 {
		out, status, detail, ferrs := s.patchOf(req, actor)
		switch {
		case status == 0:
			if why, ok := s.slackUpdate(ctx, id, workflows.UpdatePatchFacts, slackKey(cb), out); !ok {
				errs = map[string]string{first: why}
			}
		case len(ferrs) == 0:
			errs = map[string]string{first: "Refused: " + detail + "."}
		default:
			for _, f := range ferrs {
				block := fieldIndex.ReplaceAllString(f.Field, "")
				if _, ok := body[block]; !ok {
					block = first
				}
				errs[block] = strings.TrimSpace(errs[block] + " " + f.Message)
			}
		}
	}
	if len(errs) > 0 {
		viewErrors(c, errs)
		return
	}
	var set []string
	for _, f := range facts {
		set = append(set, f.Name)
	}
	s.ephemeral(ctx, channel, cb.User.ID, fmt.Sprintf("Set %s on %s; step %s can now be completed.", strings.Join(set, ", "), id, step))
	c.Status(http.StatusOK)
}

// parseStepMetadata reads a modal's "incident|step|channel" metadata.
func parseStepMetadata(meta string) (id, step, channel string, ok bool) {
	parts := strings.Split(meta, "|")
	if len(parts) != 3 || !incidentIDPattern.MatchString(parts[0]) || parts[1] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// slackFactValues reads each fact's input of a modal into its JSON value
// as a body carries it; errors are by block (the fact's name).
func slackFactValues(state *slackapi.ViewState, facts []breach.Fact) (map[string]json.RawMessage, map[string]string) {
	body := map[string]json.RawMessage{}
	errs := map[string]string{}
	for _, f := range facts {
		var a slackapi.BlockAction
		if state != nil {
			a = state.Values[f.Name][f.Name]
		}
		var v string
		switch f.Kind {
		case breach.KindTime:
			if a.SelectedDateTime != 0 {
				v = time.Unix(a.SelectedDateTime, 0).UTC().Format(time.RFC3339)
			}
		case breach.KindChoice, breach.KindBool:
			v = a.SelectedOption.Value
		case breach.KindChoices:
			var vals []string
			for _, o := range a.SelectedOptions {
				vals = append(vals, o.Value)
			}
			v = strings.Join(vals, ",")
		default:
			v = strings.TrimSpace(a.Value)
		}
		if v == "" {
			errs[f.Name] = "required: the step needs it"
			continue
		}
		raw, fe := factJSON(f, v, time.UTC)
		if fe != nil {
			errs[f.Name] = fe.Message
			continue
		}
		body[f.Name] = raw
	}
	return body, errs
}
