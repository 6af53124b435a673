package slacktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Sign is Slack's v0 request signature of body sent at ts.
func Sign(secret string, ts time.Time, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts.Unix(), body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// SignedRequest is the request Slack sends to target: a form body signed
// with secret at ts.
func SignedRequest(target, secret string, ts time.Time, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("X-Slack-Signature", Sign(secret, ts, body))
	return req
}

var triggers atomic.Int64

func trigger() string {
	return fmt.Sprintf("%d.%d.%x", 1700000000+triggers.Add(1), 98765, time.Now().UnixNano())
}

func user(id string) map[string]any {
	return map[string]any{"id": id, "username": "u" + strings.ToLower(id), "name": "u" + strings.ToLower(id), "team_id": "T0001"}
}

func form(payload map[string]any) string {
	raw, _ := json.Marshal(payload)
	return url.Values{"payload": {string(raw)}}.Encode()
}

// SlashCommand is the body Slack posts for `/breach <text>`.
func SlashCommand(userID, channelID, text string) string {
	return url.Values{
		"token": {"legacy-verification-token"}, "team_id": {"T0001"}, "team_domain": {"example"},
		"channel_id": {channelID}, "channel_name": {"incident"}, "user_id": {userID}, "user_name": {"u" + strings.ToLower(userID)},
		"command": {"/breach"}, "text": {text}, "api_app_id": {"A0001"},
		"response_url": {"https://hooks.slack.com/commands/T0001/1/x"}, "trigger_id": {trigger()},
	}.Encode()
}

// BlockAction is the body Slack posts when userID clicks the button
// actionID (value) on message ts in channelID.
func BlockAction(userID, channelID, ts, actionID, value string) string {
	return form(map[string]any{
		"type": "block_actions", "user": user(userID), "api_app_id": "A0001", "token": "legacy-verification-token",
		"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": channelID, "is_ephemeral": false},
		"trigger_id": trigger(), "team": map[string]any{"id": "T0001", "domain": "example"},
		"channel":      map[string]any{"id": channelID, "name": "privategroup"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": "card", "user": "UBOT0001"},
		"response_url": "https://hooks.slack.com/actions/T0001/1/x",
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": "b1", "type": "button", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "Button", "emoji": true}, "action_ts": fmt.Sprintf("%d.000100", time.Now().Unix()),
		}},
	})
}

// ViewSubmission is the body Slack posts when userID submits the modal
// callbackID; values are block id → action id → the element's state,
// e.g. {"reason": {"reason_input": {"type": "plain_text_input", "value": "…"}}}.
func ViewSubmission(userID, callbackID, privateMetadata string, values map[string]map[string]any) string {
	return form(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T0001", "domain": "example"}, "user": user(userID),
		"api_app_id": "A0001", "token": "legacy-verification-token", "trigger_id": trigger(),
		"view": map[string]any{
			"id": fmt.Sprintf("V%d", triggers.Add(1)), "team_id": "T0001", "type": "modal", "callback_id": callbackID,
			"private_metadata": privateMetadata, "hash": "156772938.1827394", "state": map[string]any{"values": values},
		},
	})
}
