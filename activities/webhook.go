package activities

// Containment webhooks: a playbook step of kind `action` names an action
// (disable-account, block-ip, …) and the operator maps each name to a URL
// that does the work. breachflow POSTs a signed JSON document there.
//
// Signing scheme (what a receiver checks):
//
//	X-Breachflow-Timestamp: <unix seconds when the request was signed>
//	X-Breachflow-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
//	X-Breachflow-Delivery:  <delivery id, the same on every retry>
//
// The receiver recomputes the HMAC over the raw body bytes it received,
// compares in constant time, and rejects timestamps more than a few
// minutes from its own clock so a captured request cannot be replayed
// later. Because Temporal retries an activity that failed, the same action
// may arrive more than once; the delivery id is derived from (incident,
// step, action), so a receiver that remembers ids it has acted on can make
// a repeat harmless. VerifySignature is the reference implementation.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Header names of a containment webhook request.
const (
	HeaderDelivery  = "X-Breachflow-Delivery"
	HeaderTimestamp = "X-Breachflow-Timestamp"
	HeaderSignature = "X-Breachflow-Signature"
)

// Error types of CallWebhook's non-retryable and throttled failures, as
// seen by a workflow through temporal.ApplicationError.Type().
const (
	ErrTypeUnknownWebhook       = "UnknownWebhook"
	ErrTypeWebhookRejected      = "WebhookRejected"
	ErrTypeWebhookNotConfigured = "WebhookNotConfigured"
	ErrTypeBadWebhookInput      = "BadWebhookInput"
	ErrTypeWebhookThrottled     = "WebhookThrottled"
)

// webhookTimeout bounds one delivery attempt when no client is configured;
// Temporal's retry policy, not this client, decides how long to keep trying.
const webhookTimeout = 15 * time.Second

// maxWebhookResponse is how much of a receiver's answer is kept; it ends
// up in workflow history and the audit trail, so it must stay small.
const maxWebhookResponse = 512

// maxRetryAfter caps a receiver's Retry-After so a bad header cannot park
// a containment action for days.
const maxRetryAfter = time.Hour

var webhookName = regexp.MustCompile(`^[a-z0-9-]+$`)

// Errors VerifySignature returns.
var (
	ErrSignatureMismatch = errors.New("signature does not match")
	ErrStaleTimestamp    = errors.New("timestamp outside the tolerance")
)

// Webhooks configures the containment endpoints.
type Webhooks struct {
	URLs   map[string]string // action name → http(s) URL
	Secret []byte            // HMAC-SHA256 key shared with the receivers
	Client *http.Client      // nil → a client with a 15 s timeout that does not follow redirects
}

// ParseWebhooks reads BREACHFLOW_WEBHOOKS: "name=url,name=url". Names are
// [a-z0-9-]+; URLs are absolute http or https URLs (percent-encode a comma
// inside one). Errors name the entry but never echo a URL, which may carry
// a credential in its query.
func ParseWebhooks(spec string) (map[string]string, error) {
	hooks := map[string]string{}
	if strings.TrimSpace(spec) == "" {
		return hooks, nil
	}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		name, raw, ok := strings.Cut(entry, "=")
		name, raw = strings.TrimSpace(name), strings.TrimSpace(raw)
		if !ok || name == "" || raw == "" {
			return nil, fmt.Errorf("parse webhooks: entry %d: want name=url", i+1)
		}
		if len(name) > 64 || !webhookName.MatchString(name) {
			return nil, fmt.Errorf("parse webhooks: entry %d: name %q: use a-z, 0-9 and -", i+1, clipName(name, 64))
		}
		if _, dup := hooks[name]; dup {
			return nil, fmt.Errorf("parse webhooks: %s: named twice", name)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("parse webhooks: %s: URL does not parse", name)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("parse webhooks: %s: URL must be http or https", name)
		}
		if u.Host == "" || u.Hostname() == "" {
			return nil, fmt.Errorf("parse webhooks: %s: URL has no host", name)
		}
		if u.Fragment != "" {
			return nil, fmt.Errorf("parse webhooks: %s: URL must not have a #fragment", name)
		}
		hooks[name] = raw
	}
	return hooks, nil
}

// Names lists the configured action names, sorted.
func (w Webhooks) Names() []string {
	names := make([]string, 0, len(w.URLs))
	for n := range w.URLs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// WebhookInput asks for one containment action.
type WebhookInput struct {
	IncidentID  string            `json:"incident_id"`
	StepID      string            `json:"step_id"`
	Action      string            `json:"action"`
	RequestedBy string            `json:"requested_by"`
	Params      map[string]string `json:"params,omitempty"`
}

// WebhookResult records a delivered containment action. URL holds only
// scheme and host: history, the audit trail, the timeline, logs, the
// dashboard and Slack never see the path, query string or user info,
// where receivers keep their secrets.
type WebhookResult struct {
	Action     string    `json:"action"`
	URL        string    `json:"url"`
	Status     int       `json:"status"`
	Response   string    `json:"response,omitempty"`
	DeliveryID string    `json:"delivery_id"`
	At         time.Time `json:"at"`
}

// WebhookBody is the JSON document a containment receiver gets.
type WebhookBody struct {
	DeliveryID  string            `json:"delivery_id"`
	IncidentID  string            `json:"incident_id"`
	Step        string            `json:"step"`
	Action      string            `json:"action"`
	RequestedBy string            `json:"requested_by"`
	Params      map[string]string `json:"params"`
	SentAt      time.Time         `json:"sent_at"`
}

// Containment runs containment actions through webhooks.
type Containment struct {
	Hooks Webhooks
	Now   func() time.Time // nil → time.Now
}

// DeliveryID is the id of the delivery of action for an incident's step.
// It is derived, not random, so every retry carries the same id.
func DeliveryID(incidentID, stepID, action string) string {
	h := sha256.New()
	for _, s := range []string{"breachflow-webhook-v1", incidentID, stepID, action} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Sign returns the X-Breachflow-Signature value for body signed at
// timestamp (unix seconds, as sent in X-Breachflow-Timestamp).
func Sign(secret []byte, timestamp string, body []byte) string {
	return "v1=" + hex.EncodeToString(webhookMAC(secret, timestamp, body))
}

func webhookMAC(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a webhook request the way a receiver should:
// the timestamp must be within tolerance of now (either side) and one of
// the comma-separated v1= signatures must be the HMAC of timestamp + "." +
// body. Several signatures let a sender sign with old and new secrets
// while a rotation is under way.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("verify signature: timestamp: %w", ErrStaleTimestamp)
	}
	// Compare in seconds, so a far-off timestamp cannot overflow a Duration.
	if skew := now.Unix() - ts; skew > int64(tolerance/time.Second) || -skew > int64(tolerance/time.Second) {
		return fmt.Errorf("verify signature: %w", ErrStaleTimestamp)
	}
	// The MAC covers the timestamp exactly as received: "0017" and "17" differ.
	want := webhookMAC(secret, strings.TrimSpace(timestamp), body)
	for part := range strings.SplitSeq(signature, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("verify signature: %w", ErrSignatureMismatch)
}

// CallWebhook delivers one containment action. Unknown actions, bad input
// and 4xx answers (but 408 and 429) fail for good; network errors,
// timeouts and 5xx are retried by Temporal, honouring Retry-After on 429
// and 503.
func (c *Containment) CallWebhook(ctx context.Context, in WebhookInput) (*WebhookResult, error) {
	if in.IncidentID == "" || in.StepID == "" || in.Action == "" {
		return nil, temporal.NewNonRetryableApplicationError("call webhook: incident_id, step_id and action are required", ErrTypeBadWebhookInput, nil)
	}
	raw, ok := c.Hooks.URLs[in.Action]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("call webhook: no webhook configured for action %q (configured: %s)", in.Action, strings.Join(c.Hooks.Names(), ", ")),
			ErrTypeUnknownWebhook, nil)
	}
	if len(c.Hooks.Secret) == 0 {
		// An unsigned containment request is one any forger could send;
		// refuse rather than teach receivers to skip verification.
		return nil, temporal.NewNonRetryableApplicationError("call webhook: no signing secret configured", ErrTypeWebhookNotConfigured, nil)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("call webhook %s: configured URL is not an http(s) URL", in.Action), ErrTypeWebhookNotConfigured, nil)
	}
	where := redactURL(u)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}

	id := DeliveryID(in.IncidentID, in.StepID, in.Action)
	sent := now().UTC().Truncate(time.Second)
	params := in.Params
	if params == nil {
		params = map[string]string{}
	}
	body, err := json.Marshal(WebhookBody{
		DeliveryID: id, IncidentID: in.IncidentID, Step: in.StepID, Action: in.Action,
		RequestedBy: in.RequestedBy, Params: params, SentAt: sent,
	})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("call webhook: encode body", ErrTypeBadWebhookInput, err)
	}
	ts := strconv.FormatInt(sent.Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("call webhook %s: build request for %s", in.Action, where), ErrTypeWebhookNotConfigured, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "breachflow")
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(c.Hooks.Secret, ts, body))

	log := activity.GetLogger(ctx)
	attempt := activity.GetInfo(ctx).Attempt
	resp, err := c.client().Do(req)
	if err != nil {
		// *url.Error prints the whole URL, query included; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		log.Warn("webhook not delivered", "action", in.Action, "url", where, "delivery_id", id, "attempt", attempt, "error", err)
		return nil, fmt.Errorf("call webhook %s: POST %s: %w", in.Action, where, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	text := cleanResponse(answer)
	log.Info("webhook answered", "action", in.Action, "url", where, "delivery_id", id, "attempt", attempt, "status", resp.StatusCode)

	switch st := resp.StatusCode; {
	case st >= 200 && st < 300:
		return &WebhookResult{Action: in.Action, URL: where, Status: st, Response: text, DeliveryID: id, At: now().UTC()}, nil
	case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		msg := fmt.Sprintf("call webhook %s: POST %s: status %d: %s", in.Action, where, st, text)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now()); ok {
			return nil, temporal.NewApplicationErrorWithOptions(msg, ErrTypeWebhookThrottled, temporal.ApplicationErrorOptions{NextRetryDelay: d})
		}
		return nil, errors.New(msg)
	case st >= 500 || st == http.StatusRequestTimeout:
		return nil, fmt.Errorf("call webhook %s: POST %s: status %d: %s", in.Action, where, st, text)
	default:
		// 3xx lands here too: redirects are not followed, since a moved
		// endpoint is a configuration error a retry cannot fix.
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("call webhook %s: POST %s: rejected with status %d: %s", in.Action, where, st, text),
			ErrTypeWebhookRejected, nil, st)
	}
}

func (c *Containment) client() *http.Client {
	if c.Hooks.Client != nil {
		return c.Hooks.Client
	}
	return &http.Client{
		Timeout: webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// redactURL keeps scheme and host only. Receivers put their secrets in
// the path as often as in the query or user info (…/services/T0/B0/XXXX,
// …/hooks/<token>), so none of them is ever shown.
func redactURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// cleanResponse makes a receiver's answer safe to store and print: valid
// UTF-8, no control characters, runs of white space folded to one space.
func cleanResponse(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	var sb strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
		case unicode.IsControl(r) || r == utf8.RuneError:
		default:
			if space && sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			space = false
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		d = time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	// Temporal cannot express an immediate retry through NextRetryDelay.
	return min(max(d, time.Second), maxRetryAfter), true
}

func clipName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
