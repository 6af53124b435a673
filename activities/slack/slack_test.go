package slack

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/slacktest"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

type fixture struct {
	t     *testing.T
	slack *slacktest.Server
	store store.Store
	acts  *Activities
	env   *testsuite.TestActivityEnvironment
	id    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/app.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	inc, _, err := st.CreateIncident(ctx, store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: "high", CreatedBy: "rita"})
	if err != nil {
		t.Fatal(err)
	}
	fake := slacktest.New(t)
	fake.AddUser("U0000ANN", "ann@example.com")
	users, err := ParseUsers("ULEGAL01=legal,ann@example.com=responder")
	if err != nil {
		t.Fatal(err)
	}
	acts := &Activities{API: NewClient("xoxb-test", fake.URL()), Store: st, Users: users, PublicURL: "http://bf.example"}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts) // as workflows.NewWorker registers it
	return &fixture{t: t, slack: fake, store: st, acts: acts, env: env, id: inc.ID}
}

func (f *fixture) room(asOf time.Time, states ...string) activities.Room {
	due := asOf.Add(72 * time.Hour)
	r := activities.Room{IncidentID: f.id, Title: "CRM export on a public bucket", Severity: "high", Status: "active",
		Phase: "triage", PlaybookID: "customer-data-breach", LaunchedBy: "rita", LaunchedAt: asOf,
		NextDeadline: &due, NextDeadlineName: "GDPR Art. 33 to the supervisory authority", OpenObligations: 2,
		Members: []string{"ann@example.com", "nobody@example.com"}, AsOf: asOf}
	kinds := []string{"task", "approval", "task"}
	for i, s := range states {
		r.Steps = append(r.Steps, activities.RoomStep{ID: []string{"triage", "approve-notice", "notify"}[i], Title: "Step " + s,
			Kind: kinds[i], Owner: "responder", State: s})
	}
	return r
}

func (f *fixture) sync(r activities.Room) error {
	f.t.Helper()
	_, err := f.env.ExecuteActivity(f.acts.SyncIncidentRoom, r)
	return err
}

func (f *fixture) count(method string) int { return len(f.slack.Requests(method)) }

func TestSyncCreatesRoomThenUpdatesInPlace(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	if err := f.sync(f.room(t0, "ready", "pending", "pending")); err != nil {
		t.Fatal(err)
	}
	ch, ok := f.slack.ChannelByName("breach-" + strings.ToLower(f.id))
	if !ok || !ch.Private {
		t.Fatalf("channel breach-%s (private) not created: %+v", strings.ToLower(f.id), f.slack.Channels())
	}
	for _, u := range []string{"ULEGAL01", "U0000ANN"} {
		if !slices.Contains(ch.Members, u) {
			t.Errorf("%s not invited; members %v", u, ch.Members)
		}
	}
	msgs := f.slack.Messages(ch.ID)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the header and the ready step's card: %+v", len(msgs), msgs)
	}
	header, step := msgs[0], msgs[1]
	if len(ch.Pins) != 1 || ch.Pins[0] != header.TS {
		t.Fatalf("pins %v, want the header %s", ch.Pins, header.TS)
	}
	if !strings.Contains(ch.Topic, f.id) || !strings.Contains(ch.Topic, "high") || !strings.Contains(ch.Topic, "2026-11-26 08:00 UTC") {
		t.Fatalf("topic %q", ch.Topic)
	}
	if !strings.Contains(header.Blocks, "GDPR Art. 33") || !strings.Contains(header.Blocks, "72h 00m left") {
		t.Fatalf("header lacks the next deadline and its countdown: %s", header.Blocks)
	}
	for _, a := range []string{ActionAcknowledge, ActionComplete, StepValue(f.id, "triage")} {
		if !strings.Contains(step.Blocks, a) {
			t.Fatalf("ready step card lacks %s: %s", a, step.Blocks)
		}
	}

	// The same picture again: Slack is not called.
	before := len(f.slack.Requests(""))
	if err := f.sync(f.room(t0, "ready", "pending", "pending")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.slack.Requests("")); n != before {
		t.Fatalf("same room: %d more Slack calls, want none", n-before)
	}

	// The step is done, the approval is ready: cards change in place, one new card.
	t1 := t0.Add(time.Hour)
	r := f.room(t1, "done", "ready", "pending")
	r.Steps[0].DoneBy = "slack:U0000ANN"
	r.Phase = "scoping"
	if err := f.sync(r); err != nil {
		t.Fatal(err)
	}
	if n := f.count("chat.postMessage"); n != 3 {
		t.Fatalf("%d posts, want 3 (header, triage, approval)", n)
	}
	msgs = f.slack.Messages(ch.ID)
	if msgs[1].Updates != 1 || strings.Contains(msgs[1].Blocks, ActionComplete) || !strings.Contains(msgs[1].Blocks, "Done by slack:U0000ANN") {
		t.Fatalf("triage card not updated in place to done without buttons: %+v", msgs[1])
	}
	if msgs[0].Updates != 1 || !strings.Contains(msgs[0].Blocks, "scoping") {
		t.Fatalf("header not updated in place: %+v", msgs[0])
	}
	if !strings.Contains(msgs[2].Blocks, ActionApprove) || !strings.Contains(msgs[2].Blocks, ActionReject) {
		t.Fatalf("approval card lacks Approve/Reject: %s", msgs[2].Blocks)
	}
	if n := f.count("pins.add"); n != 1 {
		t.Fatalf("pinned %d times, want once", n)
	}
	if n := f.count("conversations.invite"); n != 2 {
		t.Fatalf("%d invites, want 2 (ULEGAL01, U0000ANN; nobody@ is unknown to Slack)", n)
	}

	// An older picture arriving late changes nothing.
	updates := f.count("chat.update")
	if err := f.sync(f.room(t0.Add(30*time.Minute), "ready", "pending", "pending")); err != nil {
		t.Fatal(err)
	}
	if n := f.count("chat.update"); n != updates {
		t.Fatalf("an older room updated %d cards", n-updates)
	}

	// Closed: no buttons anywhere.
	r = f.room(t0.Add(2*time.Hour), "done", "ready", "pending")
	r.Status = "closed"
	if err := f.sync(r); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.slack.Messages(ch.ID) {
		if strings.Contains(m.Blocks, `"actions"`) {
			t.Fatalf("closed incident still has buttons: %s", m.Blocks)
		}
	}
}

func TestChannelNameCollision(t *testing.T) {
	f := newFixture(t)
	f.slack.AddChannel("breach-"+strings.ToLower(f.id), false) // someone else's
	if err := f.sync(f.room(time.Now(), "ready")); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.slack.ChannelByName("breach-" + strings.ToLower(f.id) + "-2"); !ok {
		t.Fatalf("no breach-<id>-2 after a collision: %+v", f.slack.Channels())
	}
	room, err := f.store.GetSlackRoom(context.Background(), f.id)
	if err != nil || !strings.HasSuffix(room.ChannelName, "-2") {
		t.Fatalf("stored room %+v, %v", room, err)
	}
}

// A post that Slack made but whose answer was lost is found again by its
// metadata, and a channel created the same way is adopted: no duplicates.
func TestLostAnswersDoNotDuplicate(t *testing.T) {
	f := newFixture(t)
	f.slack.Fail(slacktest.Fault{Method: "conversations.create", Status: 502, Apply: true})
	if err := f.sync(f.room(time.Now(), "ready")); err == nil {
		t.Fatal("sync succeeded through a lost conversations.create answer")
	}
	f.slack.Fail(slacktest.Fault{Method: "chat.postMessage", Status: 500, Apply: true})
	if err := f.sync(f.room(time.Now(), "ready")); err == nil {
		t.Fatal("sync succeeded through a lost chat.postMessage answer")
	}
	if err := f.sync(f.room(time.Now(), "ready")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.slack.Channels()); n != 1 {
		t.Fatalf("%d channels, want 1 (the first one adopted)", n)
	}
	if msgs := f.slack.Messages(""); len(msgs) != 2 {
		t.Fatalf("%d messages, want header + one step card", len(msgs))
	}
}

func TestRateLimitAndOutageAreRetryable(t *testing.T) {
	f := newFixture(t)
	f.slack.Fail(slacktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7})
	err := f.sync(f.room(time.Now(), "ready"))
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrRateLimited || app.NonRetryable() || app.NextRetryDelay() != 7*time.Second {
		t.Fatalf("429: %v, want retryable %s with NextRetryDelay 7s", err, ErrRateLimited)
	}
	f.slack.Fail(slacktest.Fault{Status: http.StatusServiceUnavailable})
	err = f.sync(f.room(time.Now(), "ready"))
	if !errors.As(err, &app) || app.Type() != ErrUnavailable || app.NonRetryable() {
		t.Fatalf("503: %v, want retryable %s", err, ErrUnavailable)
	}
	if err := f.sync(f.room(time.Now(), "ready")); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if msgs := f.slack.Messages(""); len(msgs) != 2 {
		t.Fatalf("%d messages after recovery, want 2", len(msgs))
	}
	// A refusal (bad token) is not retried.
	f.acts.API = NewClient("xoxb-test", "http://127.0.0.1:1/")
	if err := f.sync(f.room(time.Now().Add(time.Hour), "done")); !errors.As(err, &app) || app.NonRetryable() {
		t.Fatalf("unreachable Slack: %v, want a retryable error", err)
	}
}

func TestNoticeInThreadAndByDirectMessage(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	n := activities.RoomNotice{IncidentID: f.id, Key: f.id + "-ob-gdpr-remind-1", Kind: "reminder",
		Subject: "GDPR Art. 33 to the supervisory authority", DueAt: now.Add(12 * time.Hour), Now: now, Roles: []string{"legal"}}
	if _, err := f.env.ExecuteActivity(f.acts.PostRoomNotice, n); err == nil {
		t.Fatal("a notice before the room exists succeeded")
	}
	if err := f.sync(f.room(now, "ready")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time posts nothing new
		if _, err := f.env.ExecuteActivity(f.acts.PostRoomNotice, n); err != nil {
			t.Fatal(err)
		}
	}
	header := f.slack.Messages("")[0]
	var thread, dms []slacktest.Message
	for _, m := range f.slack.Messages("") {
		switch {
		case m.ThreadTS == header.TS:
			thread = append(thread, m)
		case strings.HasPrefix(m.Channel, "D"):
			dms = append(dms, m)
		}
	}
	if len(thread) != 1 || !strings.Contains(thread[0].Text, "Reminder") || !strings.Contains(thread[0].Text, "12h 00m left") {
		t.Fatalf("thread replies %+v", thread)
	}
	if len(dms) != 1 {
		t.Fatalf("direct messages %+v, want one to legal", dms)
	}
	opens := f.slack.Requests("conversations.open")
	if len(opens) != 1 || opens[0].Form.Get("users") != "ULEGAL01" {
		t.Fatalf("conversations.open %+v, want ULEGAL01 once", opens)
	}
}

func TestParseUsers(t *testing.T) {
	u, err := ParseUsers(" U024BE7LH=legal, Ann@Example.com=responder ,")
	if err != nil {
		t.Fatal(err)
	}
	if name, role, ok := u.Lookup("U024BE7LH", ""); !ok || name != "slack:U024BE7LH" || role != "legal" {
		t.Fatalf("by id: %s %s %v", name, role, ok)
	}
	if name, role, ok := u.Lookup("U999", "ann@example.com"); !ok || name != "ann@example.com" || role != "responder" {
		t.Fatalf("by email: %s %s %v", name, role, ok)
	}
	if _, _, ok := u.Lookup("U999", "eve@example.com"); ok {
		t.Fatal("unknown user mapped")
	}
}

// TestRestrictedRoomTellsOnlyMembers: a restricted incident's room
// invites only its members, not every configured user, and its reminders
// are sent by direct message only to members holding the role.
func TestRestrictedRoomTellsOnlyMembers(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	r := f.room(now, "ready")
	r.Restricted, r.Members = true, []string{"ann@example.com", "rita-responder"}
	if err := f.sync(r); err != nil {
		t.Fatal(err)
	}
	ch := f.slack.Channels()[0]
	if !slices.Contains(ch.Members, "U0000ANN") || slices.Contains(ch.Members, "ULEGAL01") {
		t.Errorf("restricted room members %v: want ann (a member) and not ULEGAL01 (configured, no member)", ch.Members)
	}
	// A member added later is invited at the next sync.
	r.Members = append(r.Members, "slack:ULEGAL01")
	r.AsOf = now.Add(time.Minute)
	if err := f.sync(r); err != nil {
		t.Fatal(err)
	}
	if ch := f.slack.Channels()[0]; !slices.Contains(ch.Members, "ULEGAL01") {
		t.Errorf("member added later not invited: %v", ch.Members)
	}
	n := activities.RoomNotice{IncidentID: f.id, Key: f.id + "-ob-gdpr-remind-1", Kind: "reminder", Subject: "GDPR Art. 33",
		DueAt: now.Add(12 * time.Hour), Now: now, Roles: []string{"legal", "responder"}, Restricted: true, Members: []string{"ann@example.com"}}
	if _, err := f.env.ExecuteActivity(f.acts.PostRoomNotice, n); err != nil {
		t.Fatal(err)
	}
	var opened []string
	for _, o := range f.slack.Requests("conversations.open") {
		opened = append(opened, o.Form.Get("users"))
	}
	if !slices.Equal(opened, []string{"U0000ANN"}) {
		t.Errorf("direct messages opened with %v, want only ann (legal's ULEGAL01 is no member of this notice's incident)", opened)
	}
}
