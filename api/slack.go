package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	slackapi "github.com/slack-go/slack"
	"go.temporal.io/api/serviceerror"
)

// Slack is what the Slack endpoints need.
type Slack struct {
	// SigningSecret verifies X-Slack-Signature on every request.
	SigningSecret string
	// Users maps Slack users to roles; anyone else is refused.
	Users slack.Users
	// API opens modals, answers ephemerally and looks up profile emails.
	API *slackapi.Client
	// PublicURL links cards to the incident.
	PublicURL string
	// TriageChannel, when set, gets a card with Launch / Attach / Dismiss
	// for every alert that lands in triage (BREACHFLOW_SLACK_TRIAGE_CHANNEL).
	TriageChannel string

	mu     sync.Mutex
	emails map[string]string // Slack user id → profile email, for users configured by email
}

// slackBodyLimit caps Slack request bodies; Slack's payloads are small.
const slackBodyLimit = 256 << 10

// slackAnswerWithin is how long a Slack request may wait on the workflow:
// Slack gives up after 3 seconds.
const slackAnswerWithin = 2500 * time.Millisecond

const slackBodyKey = "breachflow.slack.body"

// slackVerify admits only requests Slack signed with the signing secret,
// with a timestamp within five minutes, never seen before. Refusals are
// 401 and logged without the body.
func (s *Server) slackVerify(c *gin.Context) {
	if s.slack == nil {
		problem(c, http.StatusNotFound, "Slack is not configured (BREACHFLOW_SLACK_TOKEN)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, slackBodyLimit))
	if err != nil {
		problem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", slackBodyLimit))
		return
	}
	refuse := func(reason string) {
		s.log.Warn("slack request refused", "route", c.FullPath(), "reason", reason)
		problem(c, http.StatusUnauthorized, "not a valid Slack request: "+reason)
	}
	sv, err := slackapi.NewSecretsVerifier(c.Request.Header, s.slack.SigningSecret)
	switch {
	case errors.Is(err, slackapi.ErrExpiredTimestamp):
		refuse("stale or future X-Slack-Request-Timestamp")
		return
	case errors.Is(err, slackapi.ErrMissingHeaders):
		refuse("missing X-Slack-Signature or X-Slack-Request-Timestamp")
		return
	case err != nil:
		refuse("malformed signature headers")
		return
	}
	if _, err := sv.Write(body); err != nil {
		refuse("unreadable body")
		return
	}
	if err := sv.Ensure(); err != nil {
		refuse("signature does not match")
		return
	}
	// Key the replay check on the MAC itself: the header's hex may be
	// re-cased ("v0=AB…" verifies as "v0=ab…") to pass as a new request.
	mac, err := hex.DecodeString(strings.TrimPrefix(c.GetHeader("X-Slack-Signature"), "v0="))
	if err != nil {
		refuse("malformed signature headers")
		return
	}
	seen, err := s.store.SlackRequestSeen(c.Request.Context(), mac, s.now())
	if err != nil {
		s.internal(c, "slack replay check", err)
		return
	}
	if seen {
		refuse("replayed request")
		return
	}
	c.Set(slackBodyKey, body)
	c.Next()
}

func slackForm(c *gin.Context) url.Values {
	raw, _ := c.Get(slackBodyKey)
	body, _ := raw.([]byte)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return url.Values{}
	}
	return form
}

// slackActor maps a Slack user to the actor the workflow judges: by user
// id, else by the email on their Slack profile.
func (s *Server) slackActor(ctx context.Context, userID string) (breach.Actor, bool) {
	if name, role, ok := s.slack.Users.Lookup(userID, ""); ok {
		return breach.Actor{Name: name, Role: role}, true
	}
	if userID == "" || !s.slack.Users.NeedsEmail() || s.slack.API == nil {
		return breach.Actor{}, false
	}
	s.slack.mu.Lock()
	email, known := s.slack.emails[userID]
	s.slack.mu.Unlock()
	if !known {
		u, err := s.slack.API.GetUserInfoContext(ctx, userID)
		if err != nil {
			s.log.Warn("slack users.info", "error", err)
			return breach.Actor{}, false
		}
		email = u.Profile.Email
		s.slack.mu.Lock()
		if s.slack.emails == nil {
			s.slack.emails = map[string]string{}
		}
		s.slack.emails[userID] = email
		s.slack.mu.Unlock()
	}
	if name, role, ok := s.slack.Users.Lookup(userID, email); ok {
		return breach.Actor{Name: name, Role: role}, true
	}
	return breach.Actor{}, false
}

const slackUnmapped = "You are not set up to act on breachflow from Slack. Ask an admin to add your Slack user id or email to BREACHFLOW_SLACK_USERS."

// ephemeral tells one user something in a channel, visible to them only.
func (s *Server) ephemeral(ctx context.Context, channel, user, text string) {
	if s.slack.API == nil || channel == "" || user == "" {
		return
	}
	if _, err := s.slack.API.PostEphemeralContext(ctx, channel, user, slackapi.MsgOptionText(text, false)); err != nil {
		s.log.Warn("slack chat.postEphemeral", "error", err)
	}
}

// slackReply answers a slash command ephemerally: only the caller sees
// the answer, whoever else is in the channel.
func slackReply(c *gin.Context, text string, blocks ...slackapi.Block) {
	msg := map[string]any{"response_type": slackapi.ResponseTypeEphemeral, "text": text}
	if len(blocks) > 0 {
		msg["blocks"] = blocks
	}
	c.JSON(http.StatusOK, msg)
}

const slackHelp = "*/breach* commands:\n" +
	"• `/breach declare` — declare a breach (opens a form)\n" +
	"• `/breach status [BR-XXXXXX]` — the incident of this channel, or the one named\n" +
	"• `/breach deadlines` — every open notification duty, soonest first\n" +
	"• `/breach help` — this"

// slackCommand handles POST /slack/commands (/breach …).
func (s *Server) slackCommand(c *gin.Context) {
	f := slackForm(c)
	user, channel := f.Get("user_id"), f.Get("channel_id")
	if user == "" || f.Get("command") == "" {
		problem(c, http.StatusBadRequest, "not a slash command payload: user_id and command are required")
		return
	}
	actor, ok := s.slackActor(c.Request.Context(), user)
	if !ok {
		slackReply(c, slackUnmapped)
		return
	}
	words := strings.Fields(f.Get("text"))
	sub := ""
	if len(words) > 0 {
		sub = strings.ToLower(words[0])
	}
	if r, known := RouteRules["slack "+sub]; known && r.Scope == ScopeGlobal {
		if why, err := s.slackMay(c.Request.Context(), actor, "slack "+sub, "", false); err != nil {
			s.internal(c, "authorize", err)
			return
		} else if why != "" {
			slackReply(c, why)
			return
		}
	}
	switch sub {
	case "", "help":
		slackReply(c, slackHelp)
	case "declare":
		if s.slack.API == nil || f.Get("trigger_id") == "" {
			slackReply(c, "Slack sent no trigger to open the form; try again.")
			return
		}
		var ids []string
		for _, p := range s.playbooks.List() {
			ids = append(ids, p.ID)
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), slackAnswerWithin)
		defer cancel()
		if _, err := s.slack.API.OpenViewContext(ctx, f.Get("trigger_id"), slack.DeclareModal(ids, breach.DataCategories(), channel)); err != nil {
			s.log.Warn("slack views.open", "error", err)
			slackReply(c, "The declare form could not be opened; try again, or declare with the API or CLI.")
			return
		}
		c.Status(http.StatusOK)
	case "status":
		s.slackStatus(c, actor, channel, words[1:])
	case "deadlines":
		s.slackDeadlines(c, actor)
	default:
		slackReply(c, fmt.Sprintf("Unknown subcommand %q.\n%s", sub, slackHelp))
	}
}

// slackStatus answers /breach status with the incident of the channel or
// the one named: counts and clocks only.
func (s *Server) slackStatus(c *gin.Context, actor breach.Actor, channel string, args []string) {
	ctx := c.Request.Context()
	id, inRoom := "", false
	if len(args) > 0 {
		id = strings.ToUpper(args[0])
		if !incidentIDPattern.MatchString(id) {
			slackReply(c, fmt.Sprintf("%q is not an incident id such as BR-7K3F9Q.", args[0]))
			return
		}
	} else {
		room, err := s.store.SlackRoomByChannel(ctx, channel)
		if errors.Is(err, store.ErrNotFound) {
			slackReply(c, "This channel hosts no incident; name one: `/breach status BR-XXXXXX`.")
			return
		}
		if err != nil {
			s.internal(c, "slack room by channel", err)
			return
		}
		id, inRoom = room.IncidentID, true
	}
	// Asked from the incident's own room, the caller knows it exists and
	// is told why; asked by id elsewhere, a hidden incident is no incident.
	if why, err := s.slackMay(ctx, actor, "slack status", id, inRoom); err != nil {
		s.internal(c, "authorize", err)
		return
	} else if why != "" {
		slackReply(c, why)
		return
	}
	st, err := s.queryStatus(ctx, id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		slackReply(c, "No incident "+id+".")
		return
	}
	if err != nil {
		s.internal(c, "query incident", err)
		return
	}
	// Only the caller sees it: a channel may hold people the incident's
	// state is not for.
	text, blocks := slack.HeaderCard(roomOf(st, s.now()), s.slack.PublicURL)
	slackReply(c, text, blocks...)
}

// roomOf is the room's picture of an incident's status: no customer
// data, counts only.
func roomOf(st *breach.Status, now time.Time) activities.Room {
	r := activities.Room{IncidentID: st.ID, Title: st.Title, Severity: st.Severity, Status: st.Status, Phase: st.Phase,
		PlaybookID: st.PlaybookID, LaunchedBy: st.LaunchedBy, LaunchedAt: st.LaunchedAt, AsOf: now}
	r.AddObligations(st.Obligations)
	for _, step := range st.Steps {
		r.Steps = append(r.Steps, activities.RoomStep{ID: step.ID, Title: step.Title, Kind: step.Kind, Owner: step.Owner, State: step.State})
	}
	return r
}

// slackDeadlines answers /breach deadlines: the open duties, soonest first.
func (s *Server) slackDeadlines(c *gin.Context, actor breach.Actor) {
	rows, err := s.visibleDeadlines(c.Request.Context(), actor, store.DeadlineFilter{ActiveOnly: true})
	if err != nil {
		s.internal(c, "list deadlines", err)
		return
	}
	now := s.now()
	var lines []string
	for _, r := range rows {
		if r.Status != breach.ObligationPending && r.Status != breach.ObligationOverdue {
			continue
		}
		due := r.Deadline
		if r.DueAt != nil {
			d := r.DueAt.Sub(now).Round(time.Minute)
			due = fmt.Sprintf("due <!date^%d^{date_short_pretty} {time}|%s> (%s)", r.DueAt.Unix(), r.DueAt.UTC().Format("2006-01-02 15:04 UTC"), remaining(d))
		}
		lines = append(lines, fmt.Sprintf("• *%s* %s to %s (%s) — %s · %s", r.IncidentID, r.Regime, r.RecipientName, r.Jurisdiction, due, r.Status))
	}
	if len(lines) == 0 {
		slackReply(c, "No open notification duties.")
		return
	}
	more := ""
	if len(lines) > 25 {
		more = fmt.Sprintf("\n…and %d more: GET /v1/deadlines", len(lines)-25)
		lines = lines[:25]
	}
	slackReply(c, fmt.Sprintf("*Open notification duties* (%d)\n%s%s", len(rows), strings.Join(lines, "\n"), more))
}

func remaining(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("%dh %02dm overdue", int(-d.Hours()), int(-d.Minutes())%60)
	}
	return fmt.Sprintf("%dh %02dm left", int(d.Hours()), int(d.Minutes())%60)
}

// slackInteraction handles POST /slack/interactions: button clicks on
// step cards and modal submissions, each mapped onto the same Update the
// REST API sends, so the workflow's validators judge it.
func (s *Server) slackInteraction(c *gin.Context) {
	raw := slackForm(c).Get("payload")
	var cb slackapi.InteractionCallback
	if raw == "" || json.Unmarshal([]byte(raw), &cb) != nil {
		problem(c, http.StatusBadRequest, "not an interaction payload: want a form field payload holding JSON")
		return
	}
	switch cb.Type {
	case slackapi.InteractionTypeBlockActions:
		s.slackClick(c, &cb)
	case slackapi.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		case slack.ViewReject:
			s.slackRejectSubmit(c, &cb)
		case slack.ViewDeclare:
			s.slackDeclareSubmit(c, &cb)
		case slack.ViewFacts:
			s.slackFactsSubmit(c, &cb)
		case slack.ViewAlertLaunch, slack.ViewAlertAttach, slack.ViewAlertDismiss:
			s.slackAlertSubmit(c, &cb)
		default:
			problem(c, http.StatusBadRequest, "unknown view "+fmt.Sprintf("%q", cb.View.CallbackID))
		}
	case slackapi.InteractionTypeViewClosed:
		c.Status(http.StatusOK)
	default:
		problem(c, http.StatusBadRequest, fmt.Sprintf("unsupported interaction type %q", cb.Type))
	}
}

// slackKey is the Update id of an interaction: Slack's trigger id is
// unique per click or submission.
func slackKey(cb *slackapi.InteractionCallback) string {
	if cb.TriggerID != "" {
		return "slack:" + cb.TriggerID
	}
	return "slack:" + uuid.NewString()
}

// slackUpdate sends an Update for a Slack user and says how it went in
// words for them; ok is false when the workflow refused it.
func (s *Server) slackUpdate(ctx context.Context, id, name, key string, arg any) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, slackAnswerWithin)
	defer cancel()
	_, err := s.sendUpdate(ctx, id, name, key, arg)
	if err == nil {
		return "", true
	}
	if r, ok := refusal(id, err); ok {
		return "Refused: " + r.Detail, false
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return "breachflow is slow to answer; the card shows the outcome once it is recorded.", false
	}
	s.log.Error("slack update", "incident", id, "update", name, "error", err)
	return "Something went wrong; it has been logged. Try again or use the API.", false
}

func (s *Server) slackClick(c *gin.Context, cb *slackapi.InteractionCallback) {
	acts := cb.ActionCallback.BlockActions
	if len(acts) != 1 || acts[0] == nil {
		problem(c, http.StatusBadRequest, "a block_actions payload must hold exactly one action")
		return
	}
	act := acts[0]
	// Each button's rule is "slack <its id without the breachflow. prefix>".
	ruleKey := "slack " + strings.TrimPrefix(act.ActionID, "breachflow.")
	switch act.ActionID {
	case slack.ActionAcknowledge, slack.ActionComplete, slack.ActionApprove, slack.ActionReject:
	case slack.ActionAlertLaunch, slack.ActionAlertAttach, slack.ActionAlertDismiss:
		channel := cb.Channel.ID
		if channel == "" {
			channel = cb.Container.ChannelID
		}
		s.slackAlertClick(c, cb, act, channel)
		return
	default:
		problem(c, http.StatusBadRequest, fmt.Sprintf("unknown action id %q", act.ActionID))
		return
	}
	id, step, ok := slack.ParseStepValue(act.Value)
	if !ok || !incidentIDPattern.MatchString(id) {
		problem(c, http.StatusBadRequest, "the button's value names no incident step")
		return
	}
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	ctx := c.Request.Context()
	actor, mapped := s.slackActor(ctx, cb.User.ID)
	if !mapped {
		s.ephemeral(ctx, channel, cb.User.ID, slackUnmapped)
		c.Status(http.StatusOK)
		return
	}
	// A button sits on a card the clicker can see, so a refusal says why.
	if why, err := s.slackMay(ctx, actor, ruleKey, id, true); err != nil {
		s.log.Error("slack authorize", "error", err)
		s.ephemeral(ctx, channel, cb.User.ID, "Something went wrong; it has been logged. Nothing was changed.")
		c.Status(http.StatusOK)
		return
	} else if why != "" {
		s.ephemeral(ctx, channel, cb.User.ID, why)
		c.Status(http.StatusOK)
		return
	}
	var msg string
	switch act.ActionID {
	case slack.ActionReject:
		if s.slack.API == nil {
			msg = "The reason form cannot be opened; reject with the API or CLI."
			break
		}
		octx, cancel := context.WithTimeout(ctx, slackAnswerWithin)
		defer cancel()
		if why := s.slackCannotDecide(octx, id, step, actor); why != "" {
			msg = why
			break
		}
		if _, err := s.slack.API.OpenViewContext(octx, cb.TriggerID, slack.RejectModal(id, step, channel)); err != nil {
			s.log.Warn("slack views.open", "error", err)
			msg = "The reason form could not be opened; try again."
		}
	case slack.ActionAcknowledge:
		if why, ok := s.slackUpdate(ctx, id, workflows.UpdateAcknowledge, slackKey(cb), breach.Acknowledge{Actor: actor, Step: step}); !ok {
			msg = why
		}
	case slack.ActionComplete:
		// A step that needs facts first asks for them in a modal.
		if opened, why := s.slackAskFacts(ctx, cb, id, step, channel); opened || why != "" {
			msg = why
			break
		}
		if why, ok := s.slackUpdate(ctx, id, workflows.UpdateCompleteStep, slackKey(cb), breach.CompleteStep{Actor: actor, Step: step, Note: "completed from Slack"}); !ok {
			msg = why
		}
	case slack.ActionApprove:
		if why, ok := s.slackUpdate(ctx, id, workflows.UpdateDecide, slackKey(cb), breach.Decide{Actor: actor, Step: step, Decision: "approve"}); !ok {
			msg = why
		}
	}
	if msg != "" {
		s.ephemeral(ctx, channel, cb.User.ID, msg)
	}
	c.Status(http.StatusOK)
}

// slackCannotDecide says why actor could not decide step, before a reason
// form is opened that could only be refused on submission: the incident
// is closed, the step is not ready, or it is not the actor's to decide.
// The workflow still judges the submission; when the status cannot be
// read the form opens and it does.
func (s *Server) slackCannotDecide(ctx context.Context, id, step string, actor breach.Actor) string {
	if s.temporal == nil {
		return ""
	}
	st, err := s.queryStatus(ctx, id)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "Refused: no incident " + id + "."
	}
	if err != nil {
		s.log.Warn("slack reject: query incident", "incident", id, "error", err)
		return ""
	}
	if st.Status == breach.StatusClosed {
		return fmt.Sprintf("Refused: incident %s is closed.", id)
	}
	for _, x := range st.Steps {
		if x.ID != step {
			continue
		}
		switch {
		case !breach.RoleSatisfies(actor.Role, x.Owner):
			return fmt.Sprintf("Refused: step %s belongs to %s; %s has %s.", step, x.Owner, actor.Name, actor.Role)
		case x.State != breach.StepReady:
			return fmt.Sprintf("Refused: step %s is %s, not ready for a decision.", step, x.State)
		}
		return ""
	}
	return fmt.Sprintf("Refused: incident %s has no step %q.", id, step)
}

// viewErrors answers a modal submission with errors shown under its fields.
func viewErrors(c *gin.Context, errs map[string]string) {
	c.JSON(http.StatusOK, gin.H{"response_action": "errors", "errors": errs})
}

func (s *Server) slackRejectSubmit(c *gin.Context, cb *slackapi.InteractionCallback) {
	parts := strings.Split(cb.View.PrivateMetadata, "|")
	if len(parts) != 3 || !incidentIDPattern.MatchString(parts[0]) || parts[1] == "" {
		problem(c, http.StatusBadRequest, "the reject form's metadata names no incident step")
		return
	}
	id, step, channel := parts[0], parts[1], parts[2]
	reason := ""
	if cb.View.State != nil {
		reason = strings.TrimSpace(cb.View.State.Values[slack.ReasonBlock][slack.ReasonAction].Value)
	}
	if reason == "" {
		viewErrors(c, map[string]string{slack.ReasonBlock: "A reason is required: it is kept in the audit trail."})
		return
	}
	ctx := c.Request.Context()
	actor, mapped := s.slackActor(ctx, cb.User.ID)
	if !mapped {
		viewErrors(c, map[string]string{slack.ReasonBlock: slackUnmapped})
		return
	}
	if why, err := s.slackMay(ctx, actor, "slack reject", id, true); err != nil {
		s.log.Error("slack authorize", "error", err)
		viewErrors(c, map[string]string{slack.ReasonBlock: "Something went wrong; it has been logged. Nothing was changed."})
		return
	} else if why != "" {
		viewErrors(c, map[string]string{slack.ReasonBlock: why})
		return
	}
	if why, ok := s.slackUpdate(ctx, id, workflows.UpdateDecide, slackKey(cb), breach.Decide{Actor: actor, Step: step, Decision: "reject", Reason: reason}); !ok {
		viewErrors(c, map[string]string{slack.ReasonBlock: why})
		return
	}
	s.ephemeral(ctx, channel, cb.User.ID, fmt.Sprintf("Step %s of %s rejected.", step, id))
	c.Status(http.StatusOK)
}

// fieldIndex strips the index from a launch field error
// ("jurisdictions[1]") to name the declare form's block that holds it.
var fieldIndex = regexp.MustCompile(`[\[.].*$`)

func (s *Server) slackDeclareSubmit(c *gin.Context, cb *slackapi.InteractionCallback) {
	ctx := c.Request.Context()
	actor, mapped := s.slackActor(ctx, cb.User.ID)
	if !mapped {
		viewErrors(c, map[string]string{slack.DeclareTitle: slackUnmapped})
		return
	}
	if why, err := s.slackMay(ctx, actor, "slack declare", "", false); err != nil {
		s.log.Error("slack authorize", "error", err)
		viewErrors(c, map[string]string{slack.DeclareTitle: "Something went wrong; it has been logged. Nothing was changed."})
		return
	} else if why != "" {
		viewErrors(c, map[string]string{slack.DeclareTitle: why})
		return
	}
	get := func(block string) slackapi.BlockAction {
		if cb.View.State == nil {
			return slackapi.BlockAction{}
		}
		return cb.View.State.Values[block][block]
	}
	req := launchRequest{
		Playbook:    get(slack.DeclarePlaybook).SelectedOption.Value,
		Title:       get(slack.DeclareTitle).Value,
		Severity:    get(slack.DeclareSeverity).SelectedOption.Value,
		Summary:     get(slack.DeclareSummary).Value,
		ExternalRef: strings.TrimSpace(get(slack.DeclareExternalRef).Value),
	}
	if aware := strings.TrimSpace(get(slack.DeclareAwareAt).Value); aware != "" {
		req.setFact("aware_at", aware)
	}
	var categories, jurisdictions []string
	for _, o := range get(slack.DeclareCategories).SelectedOptions {
		categories = append(categories, o.Value)
	}
	for _, j := range strings.FieldsFunc(get(slack.DeclareJurisdictions).Value, func(r rune) bool { return r == ',' || r == ' ' }) {
		jurisdictions = append(jurisdictions, strings.ToUpper(j))
	}
	if categories != nil {
		req.setFact("data_categories", categories)
	}
	for _, f := range slack.DeclareTimeFacts() {
		if at := get(f.Name).SelectedDateTime; at != 0 {
			req.setFact(f.Name, time.Unix(at, 0).UTC().Format(time.RFC3339))
		}
	}
	if jurisdictions != nil {
		req.setFact("jurisdictions", jurisdictions)
	}
	st, _, lerr := s.launchIncident(ctx, req, "slack:"+cb.View.ID, actor)
	if lerr != nil {
		if lerr.Err != nil {
			s.log.Error(lerr.Op, "route", c.FullPath(), "error", lerr.Err)
			viewErrors(c, map[string]string{slack.DeclareTitle: "Something went wrong; it has been logged. Try again or use the API."})
			return
		}
		errs := map[string]string{}
		for _, f := range lerr.Fields {
			block := fieldIndex.ReplaceAllString(f.Field, "")
			if block == "affected" || block == "" || block == "members" || block == "flags" || block == "risk" {
				block = slack.DeclareTitle
			}
			errs[block] = strings.TrimSpace(errs[block] + " " + f.Message)
		}
		if len(errs) == 0 {
			errs[slack.DeclareTitle] = lerr.Detail
		}
		viewErrors(c, errs)
		return
	}
	s.ephemeral(ctx, cb.View.PrivateMetadata, cb.User.ID, fmt.Sprintf("Declared %s; its room is being opened.", st.ID))
	c.Status(http.StatusOK)
}

// slackMay is may for a Slack user under the rule named key: "" when
// allowed, else what to tell them. knows is set where the user already
// knows the incident exists (its room, a card's button): a restricted
// incident's refusal then says why instead of "no incident".
func (s *Server) slackMay(ctx context.Context, who breach.Actor, key, id string, knows bool) (string, error) {
	d, err := s.may(ctx, who, ruleFor(key), id)
	switch {
	case err != nil:
		return "", err
	case d == nil:
		return "", nil
	case d.Hidden && knows:
		return "Refused: " + NotMember(id) + ". Ask an admin to add you.", nil
	case d.Status == http.StatusNotFound:
		return "No incident " + id + ".", nil
	case d.Status == http.StatusForbidden:
		return "Refused: your role (" + who.Role + ") may not do this; it needs " + strings.Join(ruleFor(key).Roles, " or ") + ".", nil
	}
	return "Refused: " + d.Detail + ".", nil
}
