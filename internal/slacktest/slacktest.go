// Package slacktest is a Slack Web API peer for tests: slack-go's own
// slacktest server with the handlers breachflow needs that it lacks
// (chat.update, pins.add, views.open, conversations.history, …) or
// answers with canned data (conversations.create, chat.postMessage).
// It keeps channels and messages so updates in place can be checked,
// records every request, and can play an outage: queued faults answer
// the next requests with 429 + Retry-After or a 5xx.
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slacktest "github.com/slack-go/slack/slacktest"
)

// Request is one call the server received.
type Request struct {
	Method string     // API method, e.g. "chat.postMessage"
	Form   url.Values // form fields (token removed); JSON bodies are flattened one level
	Body   string     // the raw body, token removed
	At     time.Time
	Status int // what the server answered
}

// Message is a message as the server keeps it.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	Blocks   string // the Block Kit JSON as posted
	Metadata string // the message metadata JSON as posted
	Updates  int    // how many times chat.update changed it
}

// Channel is a conversation the server keeps.
type Channel struct {
	ID      string
	Name    string
	Private bool
	IsIM    bool
	Members []string
	Topic   string
	Pins    []string // ts of pinned messages
}

// Fault answers one request instead of the handler.
type Fault struct {
	Status     int // 429, 500, 503, …
	RetryAfter int // seconds, sent as Retry-After with 429
	// Apply runs the handler first and then answers with the fault, as
	// when Slack did the work but the answer was lost.
	Apply bool
	// Method limits the fault to one API method; empty matches any.
	Method string
}

// Server is the fake Slack.
type Server struct {
	*slacktest.Server

	mu       sync.Mutex
	requests []Request
	channels map[string]*Channel
	messages []*Message
	users    map[string]string // email → user id
	views    []string          // views opened (JSON)
	faults   []Fault
	seq      int
	// BotUserID is the bot's own user id (auth.test, channel creator).
	BotUserID string
}

// New starts a server and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{channels: map[string]*Channel{}, users: map[string]string{}, BotUserID: "UBOT0001"}
	h := map[string]func(w http.ResponseWriter, f url.Values) any{
		"/auth.test":                s.authTest,
		"/conversations.create":     s.conversationsCreate,
		"/conversations.list":       s.conversationsList,
		"/conversations.invite":     s.conversationsInvite,
		"/conversations.setTopic":   s.conversationsSetTopic,
		"/conversations.open":       s.conversationsOpen,
		"/conversations.history":    s.conversationsHistory,
		"/conversations.info":       s.conversationsInfo,
		"/chat.postMessage":         s.chatPostMessage,
		"/chat.update":              s.chatUpdate,
		"/chat.postEphemeral":       s.chatPostEphemeral,
		"/pins.add":                 s.pinsAdd,
		"/views.open":               s.viewsOpen,
		"/users.lookupByEmail":      s.usersLookupByEmail,
		"/users.info":               s.usersInfo,
		"/conversations.setPurpose": func(http.ResponseWriter, url.Values) any { return map[string]any{"ok": true} },
	}
	binder := func(c slacktest.Customize) {
		for path, fn := range h {
			c.Handle(path, s.wrap(strings.TrimPrefix(path, "/"), fn))
		}
	}
	s.Server = slacktest.NewTestServer(binder)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the API base URL to give slack.OptionAPIURL (ends in "/").
func (s *Server) URL() string { return s.GetAPIURL() }

// AddUser makes a workspace member findable by email.
func (s *Server) AddUser(id, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[strings.ToLower(email)] = id
}

// Fail queues faults; each answers one matching request, in order.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// PendingFaults counts the faults not yet served.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// Requests returns the requests received for method ("" for all), in order.
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Channels returns a copy of every channel.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.channels {
		cp := *c
		cp.Members = slices.Clone(c.Members)
		cp.Pins = slices.Clone(c.Pins)
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b Channel) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ChannelByName returns the channel named name.
func (s *Server) ChannelByName(name string) (Channel, bool) {
	for _, c := range s.Channels() {
		if c.Name == name {
			return c, true
		}
	}
	return Channel{}, false
}

// Messages returns copies of the messages in channel ("" for all), oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// AddChannel creates a channel as someone else would (for name collisions).
func (s *Server) AddChannel(name string, botIsMember bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("C%07d", s.seq)
	c := &Channel{ID: id, Name: name, Private: true}
	if botIsMember {
		c.Members = []string{s.BotUserID}
	}
	s.channels[id] = c
	return id
}

// wrap records the request, serves a queued fault or the handler, and
// writes the handler's answer as JSON.
func (s *Server) wrap(method string, fn func(w http.ResponseWriter, f url.Values) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form := url.Values{}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			for k, v := range m {
				if str, ok := v.(string); ok {
					form.Set(k, str)
				} else {
					b, _ := json.Marshal(v)
					form.Set(k, string(b))
				}
			}
		} else {
			form, _ = url.ParseQuery(string(raw))
		}
		for k, v := range r.URL.Query() {
			form[k] = v
		}
		token := form.Get("token")
		form.Del("token")
		body := string(raw)
		if token != "" {
			body = strings.ReplaceAll(body, url.QueryEscape(token), "")
		}
		s.mu.Lock()
		var fault *Fault
		for i, f := range s.faults {
			if f.Method == "" || f.Method == method {
				fault = &f
				s.faults = slices.Delete(s.faults, i, i+1)
				break
			}
		}
		s.mu.Unlock()
		status := http.StatusOK
		var out any
		if fault == nil || fault.Apply {
			out = fn(w, form)
		}
		if fault != nil {
			status = fault.Status
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: method, Form: form, Body: body, At: time.Now(), Status: status})
		s.mu.Unlock()
		if fault != nil {
			if fault.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fault.Status)
			_, _ = io.WriteString(w, "<html>slack is having a moment</html>")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
}

func fail(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

// nextTS returns a fresh message timestamp; the caller holds mu.
func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", 1700000000+s.seq, s.seq)
}

func (s *Server) channelJSON(c *Channel) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "is_private": c.Private, "is_im": c.IsIM,
		"is_member": slices.Contains(c.Members, s.BotUserID), "topic": map[string]any{"value": c.Topic}}
}

func (s *Server) authTest(http.ResponseWriter, url.Values) any {
	return map[string]any{"ok": true, "user_id": s.BotUserID, "user": "breachflow", "team": "test", "team_id": "T0001"}
}

func (s *Server) conversationsCreate(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := f.Get("name")
	if name == "" || name != strings.ToLower(name) || len(name) > 80 || strings.ContainsAny(name, " .,") {
		return fail("invalid_name_specials")
	}
	for _, c := range s.channels {
		if c.Name == name {
			return fail("name_taken")
		}
	}
	s.seq++
	c := &Channel{ID: fmt.Sprintf("C%07d", s.seq), Name: name, Private: f.Get("is_private") == "true", Members: []string{s.BotUserID}}
	s.channels[c.ID] = c
	return map[string]any{"ok": true, "channel": s.channelJSON(c)}
}

func (s *Server) conversationsList(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, c := range s.channels {
		if !c.IsIM {
			out = append(out, s.channelJSON(c))
		}
	}
	return map[string]any{"ok": true, "channels": out, "response_metadata": map[string]any{"next_cursor": ""}}
}

func (s *Server) conversationsInvite(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[f.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	added := 0
	for _, u := range strings.Split(f.Get("users"), ",") {
		if u != "" && !slices.Contains(c.Members, u) {
			c.Members = append(c.Members, u)
			added++
		}
	}
	if added == 0 {
		return fail("already_in_channel")
	}
	return map[string]any{"ok": true, "channel": s.channelJSON(c)}
}

func (s *Server) conversationsSetTopic(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[f.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	c.Topic = f.Get("topic")
	return map[string]any{"ok": true, "channel": s.channelJSON(c)}
}

func (s *Server) conversationsInfo(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[f.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	return map[string]any{"ok": true, "channel": s.channelJSON(c)}
}

func (s *Server) conversationsOpen(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	user := f.Get("users")
	if user == "" || strings.Contains(user, ",") {
		return fail("invalid_users")
	}
	for _, c := range s.channels {
		if c.IsIM && slices.Contains(c.Members, user) {
			return map[string]any{"ok": true, "channel": s.channelJSON(c)}
		}
	}
	s.seq++
	c := &Channel{ID: fmt.Sprintf("D%07d", s.seq), IsIM: true, Private: true, Members: []string{s.BotUserID, user}}
	s.channels[c.ID] = c
	return map[string]any{"ok": true, "channel": s.channelJSON(c)}
}

func (s *Server) conversationsHistory(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[f.Get("channel")]; !ok {
		return fail("channel_not_found")
	}
	withMeta := f.Get("include_all_metadata") == "1"
	var out []map[string]any
	for i := len(s.messages) - 1; i >= 0; i-- { // newest first, as Slack answers
		m := s.messages[i]
		if m.Channel != f.Get("channel") || m.ThreadTS != "" {
			continue
		}
		row := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": s.BotUserID}
		if withMeta && m.Metadata != "" {
			var md any
			_ = json.Unmarshal([]byte(m.Metadata), &md)
			row["metadata"] = md
		}
		out = append(out, row)
	}
	return map[string]any{"ok": true, "messages": out, "has_more": false}
}

func (s *Server) chatPostMessage(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := f.Get("channel")
	if _, ok := s.channels[ch]; !ok {
		return fail("channel_not_found")
	}
	if f.Get("text") == "" && f.Get("blocks") == "" {
		return fail("no_text")
	}
	m := &Message{Channel: ch, TS: s.nextTS(), ThreadTS: f.Get("thread_ts"), Text: f.Get("text"), Blocks: f.Get("blocks"), Metadata: f.Get("metadata")}
	s.messages = append(s.messages, m)
	return map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": map[string]any{"ts": m.TS, "text": m.Text}}
}

func (s *Server) chatUpdate(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.Channel == f.Get("channel") && m.TS == f.Get("ts") {
			m.Text, m.Blocks, m.Updates = f.Get("text"), f.Get("blocks"), m.Updates+1
			return map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text}
		}
	}
	return fail("message_not_found")
}

func (s *Server) chatPostEphemeral(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[f.Get("channel")]; !ok && !strings.HasPrefix(f.Get("channel"), "C") {
		return fail("channel_not_found")
	}
	return map[string]any{"ok": true, "message_ts": s.nextTS()}
}

func (s *Server) pinsAdd(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[f.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	ts := f.Get("timestamp")
	if slices.Contains(c.Pins, ts) {
		return fail("already_pinned")
	}
	c.Pins = append(c.Pins, ts)
	return map[string]any{"ok": true}
}

func (s *Server) viewsOpen(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Get("trigger_id") == "" {
		return fail("invalid_trigger_id")
	}
	s.views = append(s.views, f.Get("view"))
	s.seq++
	var view map[string]any
	_ = json.Unmarshal([]byte(f.Get("view")), &view)
	if view == nil {
		view = map[string]any{}
	}
	view["id"] = fmt.Sprintf("V%07d", s.seq)
	return map[string]any{"ok": true, "view": view}
}

func (s *Server) usersLookupByEmail(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	email := strings.ToLower(f.Get("email"))
	id, ok := s.users[email]
	if !ok {
		return fail("users_not_found")
	}
	return map[string]any{"ok": true, "user": map[string]any{"id": id, "profile": map[string]any{"email": email}}}
}

func (s *Server) usersInfo(_ http.ResponseWriter, f url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for email, id := range s.users {
		if id == f.Get("user") {
			return map[string]any{"ok": true, "user": map[string]any{"id": id, "profile": map[string]any{"email": email}}}
		}
	}
	return fail("user_not_found")
}
