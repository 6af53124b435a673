// Package slack is the incident room in Slack: the two room activities
// (SyncIncidentRoom, PostRoomNotice), the Block Kit
// cards they post and keep current, and the Slack-user → role mapping
// the API's Slack endpoints use. Every Slack call goes through slack-go.
//
// The activities are idempotent: each message's channel and ts are kept
// in the store, a card is updated in place (chat.update) rather than
// re-posted, and a post whose answer was lost is found again by its
// message metadata before anything is posted twice. Slack's rate limits
// are honoured (Retry-After becomes the next retry delay) and Slack being
// down is a retryable error. Only what activities.Room holds reaches
// Slack: incident facts and counts, never a customer.
package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/store"
	slackapi "github.com/slack-go/slack"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Store is what the room activities keep in the store.
type Store interface {
	PutSlackRoom(ctx context.Context, r store.SlackRoom) error
	GetSlackRoom(ctx context.Context, incidentID string) (store.SlackRoom, error)
	SlackRoomByChannel(ctx context.Context, channelID string) (store.SlackRoom, error)
	PutSlackCard(ctx context.Context, c store.SlackCard) error
	GetSlackCard(ctx context.Context, incidentID, key string) (store.SlackCard, error)
}

// NewClient is a slack-go client for token against apiURL
// (BREACHFLOW_SLACK_API_URL; it must end in "/"), with a request timeout.
// It does not retry by itself: Temporal retries activities, and the API
// answers Slack within its 3 seconds.
func NewClient(token, apiURL string) *slackapi.Client {
	if apiURL != "" && !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	opts := []slackapi.Option{slackapi.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	return slackapi.New(token, opts...)
}

// Activities posts and keeps current the incident rooms.
type Activities struct {
	API       *slackapi.Client
	Store     Store
	Users     Users  // who is invited, and who gets direct messages per role
	PublicURL string // links to the incident in the API
	// Now is the clock for store records; time.Now when nil.
	Now func() time.Time

	mu  sync.Mutex
	ids map[string]string // email → Slack user id, learned by users.lookupByEmail
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// Error types the room activities fail with.
const (
	ErrRateLimited = "SlackRateLimited" // retried after Slack's Retry-After
	ErrUnavailable = "SlackUnavailable" // Slack answered 5xx or not at all; retried
	ErrRefused     = "SlackRefused"     // Slack refused the call (auth, scope, …); not retried
	ErrBadInput    = "SlackBadInput"    // the activity input is unusable; not retried
)

// retryableCodes are Slack error codes that pass with time.
var retryableCodes = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true,
}

// classify turns a slack-go error into the error the activity returns:
// rate limits carry Slack's delay as the next retry delay, 5xx and
// transport failures are retryable, Slack's refusals are not.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slackapi.RateLimitedError
	var sc slackapi.StatusCodeError
	var se slackapi.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("slack %s: rate limited; retry after %s", op, rl.RetryAfter),
			ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: rl.RetryAfter, Cause: err})
	case errors.As(err, &sc):
		if sc.Code >= 500 || sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout {
			return temporal.NewApplicationErrorWithCause(fmt.Sprintf("slack %s: HTTP %d", op, sc.Code), ErrUnavailable, err)
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("slack %s: HTTP %d", op, sc.Code), ErrRefused, err)
	case errors.As(err, &se):
		if retryableCodes[se.Err] {
			return temporal.NewApplicationErrorWithCause(fmt.Sprintf("slack %s: %s", op, se.Err), ErrUnavailable, err)
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("slack %s: %s", op, se.Err), ErrRefused, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return temporal.NewApplicationErrorWithCause(fmt.Sprintf("slack %s: %v", op, err), ErrUnavailable, err)
}

// slackCode is Slack's error code in err, or "".
func slackCode(err error) string {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// SyncIncidentRoom brings the room up to date with r: on the first call
// it creates the channel, invites the responders and pins the header
// card; then it keeps the topic, the header card and one card per step
// current, updating each in place. The same Room twice changes nothing;
// an older Room than a card shows does not touch it.
func (a *Activities) SyncIncidentRoom(ctx context.Context, r activities.Room) error {
	if r.IncidentID == "" {
		return temporal.NewNonRetryableApplicationError("room without incident id", ErrBadInput, nil)
	}
	room, err := a.ensureChannel(ctx, r.IncidentID)
	if err != nil {
		return err
	}
	if room.InvitedAt == nil || r.Restricted {
		// A restricted room is re-invited on every sync, so a member an
		// admin adds later is brought in; invite is idempotent.
		if err := a.invite(ctx, room.ChannelID, r); err != nil {
			return err
		}
		if room.InvitedAt == nil {
			t := a.now()
			room.InvitedAt = &t
			if err := a.Store.PutSlackRoom(ctx, room); err != nil {
				return fmt.Errorf("slack room: %w", err)
			}
		}
	}
	text, blocks := HeaderCard(r, a.PublicURL)
	header, err := a.putCard(ctx, room.ChannelID, r.IncidentID, "header", r.AsOf, "", text, blocks)
	if err != nil {
		return err
	}
	if room.PinnedAt == nil && header.TS != "" {
		if err := a.API.AddPinContext(ctx, room.ChannelID, slackapi.NewRefToMessage(room.ChannelID, header.TS)); err != nil && slackCode(err) != "already_pinned" {
			return classify("pins.add", err)
		}
		t := a.now()
		room.PinnedAt = &t
		if err := a.Store.PutSlackRoom(ctx, room); err != nil {
			return fmt.Errorf("slack room: %w", err)
		}
	}
	if topic := Topic(r); topic != room.Topic {
		if _, err := a.API.SetTopicOfConversationContext(ctx, room.ChannelID, topic); err != nil {
			return classify("conversations.setTopic", err)
		}
		room.Topic = topic
		if err := a.Store.PutSlackRoom(ctx, room); err != nil {
			return fmt.Errorf("slack room: %w", err)
		}
	}
	for _, st := range r.Steps {
		key := "step:" + st.ID
		_, err := a.Store.GetSlackCard(ctx, r.IncidentID, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("slack card: %w", err)
		}
		if !showStep(st, err == nil) {
			continue
		}
		text, blocks := StepCard(r, st)
		if _, err := a.putCard(ctx, room.ChannelID, r.IncidentID, key, r.AsOf, "", text, blocks); err != nil {
			return err
		}
	}
	return nil
}

// ensureChannel returns the incident's room, creating its channel first
// when there is none: breach-<id>, private. A name already taken by a
// channel the bot is in and no other incident uses is one this activity
// created before its answer was lost, and is adopted; otherwise the next
// suffix is tried.
func (a *Activities) ensureChannel(ctx context.Context, incidentID string) (store.SlackRoom, error) {
	room, err := a.Store.GetSlackRoom(ctx, incidentID)
	if err == nil {
		return room, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return room, fmt.Errorf("slack room: %w", err)
	}
	for attempt := 1; attempt <= 5; attempt++ {
		name := ChannelName(incidentID, attempt)
		ch, err := a.API.CreateConversationContext(ctx, slackapi.CreateConversationParams{ChannelName: name, IsPrivate: true})
		if slackCode(err) == "name_taken" {
			found, ferr := a.findChannel(ctx, name)
			if ferr != nil {
				return room, ferr
			}
			if found == nil || !found.IsMember {
				continue
			}
			if other, err := a.Store.SlackRoomByChannel(ctx, found.ID); err == nil && other.IncidentID != incidentID {
				continue
			}
			ch = found
		} else if err != nil {
			return room, classify("conversations.create", err)
		}
		room = store.SlackRoom{IncidentID: incidentID, ChannelID: ch.ID, ChannelName: ch.Name, CreatedAt: a.now()}
		if room.ChannelName == "" {
			room.ChannelName = name
		}
		if err := a.Store.PutSlackRoom(ctx, room); err != nil {
			return room, fmt.Errorf("slack room: %w", err)
		}
		activity.GetLogger(ctx).Info("slack room created", "incident", incidentID, "channel", room.ChannelID)
		return room, nil
	}
	return room, temporal.NewNonRetryableApplicationError(fmt.Sprintf("slack: channel names %s… are all taken", ChannelName(incidentID, 1)), ErrRefused, nil)
}

func (a *Activities) findChannel(ctx context.Context, name string) (*slackapi.Channel, error) {
	cursor := ""
	for range 20 {
		chans, next, err := a.API.GetConversationsContext(ctx, &slackapi.GetConversationsParameters{
			Cursor: cursor, ExcludeArchived: true, Limit: 1000, Types: []string{"private_channel", "public_channel"},
		})
		if err != nil {
			return nil, classify("conversations.list", err)
		}
		for i := range chans {
			if chans[i].Name == name {
				return &chans[i], nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return nil, nil
}

// invite brings the configured users, the members named at launch and a
// declarer from Slack into the channel. Someone Slack cannot find is
// skipped (and logged by count only); a rate limit or outage is retried.
func (a *Activities) invite(ctx context.Context, channelID string, r activities.Room) error {
	// A restricted room invites only its members: the incident is hidden
	// from everyone else, Slack included.
	var who []string
	if !r.Restricted {
		who = a.Users.All()
	}
	for _, m := range r.Members {
		who = append(who, strings.TrimPrefix(m, "slack:"))
	}
	if id, ok := strings.CutPrefix(r.LaunchedBy, "slack:"); ok {
		who = append(who, id)
	}
	seen := map[string]bool{}
	skipped := 0
	for _, w := range who {
		id, err := a.userID(ctx, w)
		if err != nil {
			return err
		}
		if id == "" || seen[id] {
			if id == "" {
				skipped++
			}
			continue
		}
		seen[id] = true
		_, err = a.API.InviteUsersToConversationContext(ctx, channelID, id)
		switch code := slackCode(err); {
		case err == nil, code == "already_in_channel", code == "cant_invite_self":
		case code == "user_not_found", code == "user_is_restricted", code == "cant_invite", code == "user_is_ultra_restricted", code == "ura_max_channels":
			skipped++
		default:
			return classify("conversations.invite", err)
		}
	}
	if skipped > 0 {
		activity.GetLogger(ctx).Warn("slack room: some people could not be invited", "incident", r.IncidentID, "skipped", skipped)
	}
	return nil
}

// userID resolves a Slack user id or a staff email to a user id; "" when
// Slack knows no such user (or w is neither).
func (a *Activities) userID(ctx context.Context, w string) (string, error) {
	if slackUserID.MatchString(w) {
		return w, nil
	}
	if !strings.Contains(w, "@") {
		return "", nil
	}
	email := strings.ToLower(w)
	a.mu.Lock()
	id, ok := a.ids[email]
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	u, err := a.API.GetUserByEmailContext(ctx, email)
	if code := slackCode(err); code == "users_not_found" || code == "user_not_found" {
		return "", nil
	}
	if err != nil {
		return "", classify("users.lookupByEmail", err)
	}
	a.mu.Lock()
	if a.ids == nil {
		a.ids = map[string]string{}
	}
	a.ids[email] = u.ID
	a.mu.Unlock()
	return u.ID, nil
}

func digest(text string, blocks []slackapi.Block) string {
	raw, _ := json.Marshal(blocks)
	h := sha256.Sum256(append([]byte(text+"\x00"), raw...))
	return hex.EncodeToString(h[:16])
}

// putCard posts the card under key the first time and updates it in
// place afterwards; nothing happens when it already shows the same, or
// shows a newer picture. A post is recorded as in flight before it is
// made, so a retry after a lost answer finds the message by its metadata
// instead of posting it twice (top-level messages; a thread reply in
// that window may repeat).
func (a *Activities) putCard(ctx context.Context, channelID, incidentID, key string, asOf time.Time, threadTS, text string, blocks []slackapi.Block) (store.SlackCard, error) {
	d := digest(text, blocks)
	card, err := a.Store.GetSlackCard(ctx, incidentID, key)
	fresh := errors.Is(err, store.ErrNotFound)
	switch {
	case fresh:
		card = store.SlackCard{IncidentID: incidentID, Key: key, ChannelID: channelID, AsOf: asOf}
		if err := a.Store.PutSlackCard(ctx, card); err != nil {
			return card, fmt.Errorf("slack card: %w", err)
		}
	case err != nil:
		return card, fmt.Errorf("slack card: %w", err)
	case card.TS != "" && (card.Digest == d || asOf.Before(card.AsOf)):
		return card, nil
	}
	if card.TS == "" && !fresh && threadTS == "" {
		ts, err := a.findCard(ctx, card.ChannelID, incidentID, key)
		if err != nil {
			return card, err
		}
		card.TS = ts
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...)}
	if card.TS != "" {
		_, _, _, err := a.API.UpdateMessageContext(ctx, card.ChannelID, card.TS, opts...)
		if slackCode(err) == "message_not_found" {
			card.TS = "" // someone deleted it: post it again
		} else if err != nil {
			return card, classify("chat.update", err)
		}
	}
	if card.TS == "" {
		opts = append(opts, slackapi.MsgOptionMetadata(slackapi.SlackMetadata{EventType: cardEvent,
			EventPayload: map[string]any{"incident": incidentID, "card": key}}))
		if threadTS != "" {
			opts = append(opts, slackapi.MsgOptionTS(threadTS))
		}
		_, ts, err := a.API.PostMessageContext(ctx, card.ChannelID, opts...)
		if err != nil {
			return card, classify("chat.postMessage", err)
		}
		card.TS = ts
	}
	card.Digest, card.AsOf = d, asOf
	if err := a.Store.PutSlackCard(ctx, card); err != nil {
		return card, fmt.Errorf("slack card: %w", err)
	}
	return card, nil
}

// findCard looks for a message this room posted under key among the
// channel's recent messages; "" when there is none.
func (a *Activities) findCard(ctx context.Context, channelID, incidentID, key string) (string, error) {
	h, err := a.API.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
		ChannelID: channelID, Limit: 200, IncludeAllMetadata: true,
	})
	if err != nil {
		return "", classify("conversations.history", err)
	}
	for _, m := range h.Messages {
		p := m.Metadata.EventPayload
		if m.Metadata.EventType == cardEvent && p["incident"] == incidentID && p["card"] == key {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// PostRoomNotice posts a reminder, escalation or overdue notice in the
// thread of the header card and by direct message to each configured
// user with one of the notice's roles. A notice already posted (same
// Key) posts nothing new. Before the room exists it fails retryably.
func (a *Activities) PostRoomNotice(ctx context.Context, n activities.RoomNotice) error {
	if n.IncidentID == "" || n.Key == "" {
		return temporal.NewNonRetryableApplicationError("room notice without incident id or key", ErrBadInput, nil)
	}
	room, err := a.Store.GetSlackRoom(ctx, n.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewApplicationError("slack room of "+n.IncidentID+" not created yet", ErrUnavailable)
	}
	if err != nil {
		return fmt.Errorf("slack room: %w", err)
	}
	header, err := a.Store.GetSlackCard(ctx, n.IncidentID, "header")
	if err != nil || header.TS == "" {
		return temporal.NewApplicationError("slack room of "+n.IncidentID+" has no header card yet", ErrUnavailable)
	}
	text := NoticeText(n)
	blocks := []slackapi.Block{slackapi.NewSectionBlock(mrkdwn(text), nil, nil)}
	if _, err := a.putCard(ctx, room.ChannelID, n.IncidentID, "notice:"+n.Key, n.Now, header.TS, text, blocks); err != nil {
		return err
	}
	for _, w := range a.Users.WithRole(n.Roles...) {
		if n.Restricted && !slices.Contains(n.Members, Principal(w)) {
			continue // a restricted incident is told only to its members
		}
		id, err := a.userID(ctx, w)
		if err != nil {
			return err
		}
		if id == "" {
			continue
		}
		key := "notice:" + n.Key + ":dm:" + id
		if c, err := a.Store.GetSlackCard(ctx, n.IncidentID, key); err == nil && c.TS != "" {
			continue
		}
		im, _, _, err := a.API.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{id}})
		if err != nil {
			return classify("conversations.open", err)
		}
		dm := text + fmt.Sprintf(" — in <#%s>", room.ChannelID)
		if _, err := a.putCard(ctx, im.ID, n.IncidentID, key, n.Now, "", dm, []slackapi.Block{slackapi.NewSectionBlock(mrkdwn(dm), nil, nil)}); err != nil {
			return err
		}
	}
	return nil
}
