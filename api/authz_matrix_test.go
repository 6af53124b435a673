package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/slacktest"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// matrixTemporal plays the Temporal frontend for the matrix: it answers
// status queries and visibility lists for the incidents it holds and
// accepts every Update, recording it, so a test sees exactly which
// requests reached the engine. Authorization is decided before any of
// this, so what it shows is what the gate let through.
type matrixTemporal struct {
	client.Client
	mu      sync.Mutex
	status  map[string]*breach.Status
	updates []string
	pending *workflows.IncidentInput
}

// CheckHealth answers as a reachable frontend does.
func (*matrixTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func (m *matrixTemporal) QueryWorkflow(_ context.Context, workflowID, _, _ string, _ ...any) (converter.EncodedValue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.status[strings.TrimPrefix(workflowID, "incident/")]
	if !ok {
		return nil, serviceerror.NewNotFound("no workflow " + workflowID)
	}
	cp := *st
	return statusValue{&cp}, nil
}

func (m *matrixTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates = append(m.updates, o.UpdateName+" "+o.WorkflowID)
	st, ok := m.status[strings.TrimPrefix(o.WorkflowID, "incident/")]
	if !ok {
		return nil, serviceerror.NewNotFound("no workflow " + o.WorkflowID)
	}
	cp := *st
	return statusHandle{&cp}, nil
}

// DescribeWorkflowExecution is asked only for the title of an incident
// the store holds no title for (the list reads the store's index); the
// matrix's incidents keep theirs in the status, unsealed.
func (m *matrixTemporal) DescribeWorkflowExecution(_ context.Context, workflowID, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound("no memo for " + workflowID)
}

func (m *matrixTemporal) NewWithStartWorkflowOperation(_ client.StartWorkflowOptions, _ any, args ...any) client.WithStartWorkflowOperation {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = args[0].(*workflows.IncidentInput)
	return nil
}

func (m *matrixTemporal) UpdateWithStartWorkflow(context.Context, client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in := m.pending
	m.updates = append(m.updates, "launch "+in.ID)
	st := &breach.Status{ID: in.ID, Title: in.Title, Severity: in.Severity, Status: breach.StatusActive,
		PlaybookID: in.PlaybookID, LaunchedAt: in.LaunchedAt, Facts: in.Facts, Restricted: in.Restricted, Members: in.Members}
	m.status[in.ID] = st
	return statusHandle{st}, nil
}

func (m *matrixTemporal) updateCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.updates)
}

// The matrix's people: one token per role, the same people in Slack.
var matrixPeople = []struct{ role, token, slackID string }{
	{breach.RoleViewer, "vic-viewer", "UVIEWER1"},
	{breach.RoleResponder, "rita-responder", "URESPND1"},
	{breach.RoleLegal, "lou-legal", "ULEGAL01"},
	{breach.RoleAdmin, "ada-admin", "UADMIN01"},
}

// The matrix's incidents, one of each kind.
const (
	kindOpen      = "unrestricted"
	kindMember    = "restricted, member"
	kindNonMember = "restricted, not a member"
	kindClosed    = "closed"
)

var matrixKinds = []string{kindOpen, kindMember, kindNonMember, kindClosed}

// Outcomes of one request.
const (
	outPass   = "pass"   // the gate let it through
	outRole   = "role"   // 403: the role may not
	outHidden = "hidden" // 404, as if the incident did not exist
	outClosed = "closed" // 409: a closed incident takes no writes
)

type matrixEnv struct {
	*dashEnv
	temporal *matrixTemporal
	secrets  map[string]string // role → API token secret
	browsers map[string]*http.Client
	csrf     map[string]string
	incident map[string]string // kind → id
	fake     *slacktest.Server
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	t.Helper()
	tm := &matrixTemporal{status: map[string]*breach.Status{}}
	users := []string{}
	for _, p := range matrixPeople {
		users = append(users, p.slackID+"="+p.role)
	}
	parsed, err := slack.ParseUsers(strings.Join(users, ","))
	if err != nil {
		t.Fatal(err)
	}
	fake := slacktest.New(t)
	de := newDashEnvWith(t, func(d *Deps) {
		d.Temporal = tm
		d.SubjectKey = []byte(strings.Repeat("k", 32))
		d.Slack = &Slack{SigningSecret: testSecret, Users: parsed, API: slack.NewClient("xoxb-test", fake.URL())}
		d.Alerts = &AlertDeps{Sources: &alerts.Sources{}, Rules: &alerts.Rules{}}
	})
	e := &matrixEnv{dashEnv: de, temporal: tm, secrets: map[string]string{}, browsers: map[string]*http.Client{},
		csrf: map[string]string{}, incident: map[string]string{}, fake: fake}
	ctx := context.Background()
	for _, p := range matrixPeople {
		secret, _, err := de.store.CreateToken(ctx, p.token, p.role)
		if err != nil {
			t.Fatal(err)
		}
		e.secrets[p.role] = secret
		e.browsers[p.role] = de.browser()
		e.csrf[p.role] = de.signIn(e.browsers[p.role], secret)
	}
	var members []string
	for _, p := range matrixPeople {
		if p.role != breach.RoleAdmin {
			members = append(members, p.token, "slack:"+p.slackID)
		}
	}
	for _, kind := range matrixKinds {
		in := store.Incident{PlaybookID: "insider-exfiltration", PlaybookVersion: 1, Severity: "high", CreatedBy: "someone-else"}
		switch kind {
		case kindMember:
			in.Restricted, in.Members = true, members
		case kindNonMember:
			in.Restricted, in.Members = true, []string{"someone-else"}
		}
		rec, _, err := de.store.CreateIncident(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		due := time.Now().Add(48 * time.Hour)
		if err := de.store.PutObligations(ctx, rec.ID, []store.ObligationRow{{ObligationID: "gdpr-art33", Regime: "GDPR Art. 33",
			Jurisdiction: "EU", Recipient: "regulator", RecipientName: "lead supervisory authority", Deadline: "72 hours",
			DueAt: &due, Status: store.ObligationPending, UpdatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		status := breach.StatusActive
		if kind == kindClosed {
			status = breach.StatusClosed
			if err := de.store.SetIncidentStatus(ctx, rec.ID, store.StatusClosed); err != nil {
				t.Fatal(err)
			}
		}
		tm.status[rec.ID] = &breach.Status{ID: rec.ID, Title: "Matrix " + kind, Severity: "high", Status: status,
			PlaybookID: "insider-exfiltration", LaunchedBy: "someone-else", LaunchedAt: time.Now().UTC(),
			Restricted: in.Restricted, Members: in.Members,
			Steps: []breach.StepState{{ID: "triage", Title: "Triage", Kind: "task", Owner: breach.RoleResponder, State: breach.StepReady}},
			Obligations: []breach.Obligation{{Duty: breach.Duty{ID: "gdpr-art33", Regime: "GDPR Art. 33", Jurisdiction: "EU",
				Recipient: "regulator", RecipientName: "lead supervisory authority", Deadline: "72 hours", DueAt: &due},
				Status: breach.ObligationPending}}}
		e.incident[kind] = rec.ID
	}
	return e
}

// snapshot counts the rows of every table a route could write.
func (e *matrixEnv) snapshot() string {
	e.t.Helper()
	db := e.store.(interface{ DB() *sql.DB }).DB()
	var parts []string
	for _, table := range []string{"incidents", "incident_members", "subjects", "notices", "outreach_tasks", "audit_events", "obligations", "calendar_tokens", "remedy_codes", "notice_pages", "letter_batches", "letter_batch_items"} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", table, n))
	}
	var status []string
	rows, err := db.Query("SELECT id, status, restricted FROM incidents ORDER BY id")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, st string
		var r bool
		if err := rows.Scan(&id, &st, &r); err != nil {
			e.t.Fatal(err)
		}
		status = append(status, fmt.Sprintf("%s:%s:%v", id, st, r))
	}
	return strings.Join(append(parts, status...), " ")
}

// fill puts the matrix's values into a route's path parameters.
func fill(route, id string) string {
	r := strings.NewReplacer(":id", id, ":step", "triage", ":ob", "gdpr-art33", ":rid", "R1", ":task", "1",
		":locale", "en", ":principal", "new-member", ":gid", "1", ":aid", "1", ":tid", "1", ":cid", "1", ":batch", "1")
	return r.Replace(route)
}

// apiBody is a plausible body for a route, so a request the gate lets
// through is judged on its content, not refused for an empty body.
func apiBody(key string) (string, string) {
	switch {
	case strings.HasSuffix(key, "/subjects"):
		return "text/csv", "external_id,email,country,tier\nK-1,ann@example.com,DE,high\n"
	case strings.HasSuffix(key, "/remedy-codes"):
		return "text/csv", "code,product,enrollment_url,enroll_by\nM-" + strconv.FormatInt(time.Now().UnixNano(), 36) +
			",credit-monitoring,https://enroll.example.com/,2099-01-01\n"
	case strings.HasPrefix(key, "PATCH "):
		return "application/json", `{"severity":"critical"}`
	case strings.HasSuffix(key, "/decide"):
		return "application/json", `{"decision":"approve"}`
	case strings.HasSuffix(key, "/file"):
		return "application/json", `{"filed_at":"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `","reference":"DPA-1"}`
	case strings.HasSuffix(key, "/waive"):
		return "application/json", `{"reason":"not needed"}`
	case strings.HasSuffix(key, "/remediations"):
		return "application/json", `{"title":"Rotate keys"}`
	case strings.Contains(key, "/notices/texts/"):
		return "application/json", `{"what_happened":"A file was copied.","what_we_are_doing":"We revoked access."}`
	case key == "POST /v1/incidents":
		return "application/json", `{"playbook":"insider-exfiltration","title":"Matrix launch","restricted":true}`
	case strings.HasPrefix(key, "POST ") || strings.HasPrefix(key, "PUT "):
		return "application/json", `{}`
	}
	return "", ""
}

// dashForm is a valid form for a dashboard action.
func dashForm(key string) url.Values {
	f := url.Values{"idem": {fmt.Sprint(time.Now().UnixNano())}}
	switch {
	case strings.HasSuffix(key, "/decide"):
		f.Set("decision", "approve")
	case strings.HasSuffix(key, "/file"):
		f.Set("reference", "DPA-1")
	case strings.HasSuffix(key, "/waive"):
		f.Set("reason", "not needed")
	case strings.HasSuffix(key, "/remediations"):
		f.Set("title", "Rotate keys")
	case strings.Contains(key, "/notices/texts/"):
		f.Set("what_happened", "A file was copied.")
		f.Set("what_we_are_doing", "We revoked access.")
	case strings.HasSuffix(key, "/members"):
		f.Set("principal", "new-member")
	case strings.HasSuffix(key, "/grants"):
		f.Set("reason", "call the high-tier customers")
		f.Set("duration", "1h")
	case strings.HasSuffix(key, "/printed"):
		f.Set("reference", "MAILHOUSE-1")
	case strings.HasSuffix(key, "/letters/returns"):
		f.Set("subject_id", "1")
		f.Set("reason", "addressee unknown")
	case strings.HasSuffix(key, "/substitute-notice"):
		f.Set("basis", "contact_info")
		f.Set("reason", "no usable contact information")
	case key == "POST /tokens":
		f.Set("name", "matrix-made")
		f.Set("role", breach.RoleViewer)
	case key == "POST /preferences/zone":
		f.Set("zone", "Europe/Berlin")
	}
	return f
}

// apiCall sends one REST request and classifies the answer.
func (e *matrixEnv) apiCall(role, key, id string) (string, string) {
	e.t.Helper()
	method, route, _ := strings.Cut(key, " ")
	ct, body := apiBody(key)
	req, _ := http.NewRequest(method, e.srv.URL+fill(route, id), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.secrets[role])
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var p Problem
	_ = json.Unmarshal(raw, &p)
	got := fmt.Sprintf("%d %s", resp.StatusCode, raw)
	switch {
	case resp.StatusCode == 403 && strings.HasPrefix(p.Detail, "role "+role+" may not do this"):
		return outRole, got
	case resp.StatusCode == 404 && id != "" && p.Detail == "no incident "+id:
		return outHidden, got
	case resp.StatusCode == 409 && p.Detail == "incident "+id+" is closed; nothing can change":
		return outClosed, got
	}
	return outPass, got
}

// dashCall sends one dashboard request as the role's browser.
func (e *matrixEnv) dashCall(role, key, id string) (string, string) {
	e.t.Helper()
	method, route, _ := strings.Cut(key, " ")
	b := e.browsers[role]
	var resp *http.Response
	var body string
	if method == "GET" {
		resp, body = e.get(b, fill(route, id))
	} else if _, multipart := uploadLimits[route]; multipart { // the upload forms
		_, content := apiBody(key)
		resp, body = e.upload(b, fill(route, id), url.Values{csrfField: {e.csrf[role]}}, "upload.csv", content)
	} else {
		f := dashForm(key)
		f.Set(csrfField, e.csrf[role])
		resp, body = e.post(b, fill(route, id), f)
	}
	got := fmt.Sprintf("%d %.300s", resp.StatusCode, body)
	switch {
	case resp.StatusCode == 403 && strings.Contains(body, "Your role ("+role+") may not do this"):
		return outRole, got
	case resp.StatusCode == 404 && strings.Contains(body, "No such incident"):
		return outHidden, got
	case method == "POST" && resp.StatusCode == http.StatusSeeOther && id != "":
		// The refusal is a flash on the page the form came from.
		_, page := e.get(b, resp.Header.Get("Location"))
		if strings.Contains(page, "is closed; nothing can change") {
			return outClosed, got
		}
	}
	return outPass, got
}

// want is the answer the rules promise, written out from the issue's
// terms rather than from may: the role column first, then a restricted
// incident hidden from non-members (admins see all), then no writes to a
// closed incident.
func want(r RouteRule, method, role, kind string) string {
	switch {
	case !allowed(role, r.Roles):
		return outRole
	case r.Scope == ScopeGlobal:
		return outPass
	case kind == kindNonMember && role != breach.RoleAdmin:
		return outHidden
	case kind == kindClosed && (r.Scope == ScopeAct || r.Scope == ScopeWrite):
		return outClosed
	}
	return outPass
}

// TestAuthorizationMatrix sends every route of the API and the dashboard
// as each role to an unrestricted incident, a restricted one the caller
// is a member of, a restricted one they are not, and a closed one, and
// checks the answer against the rule; a refused request must leave the
// store and the engine untouched.
func TestAuthorizationMatrix(t *testing.T) {
	e := newMatrixEnv(t)
	var keys []string
	for key, r := range RouteRules {
		if r.Scope == ScopePublic || r.Scope == ScopeSigned || strings.HasPrefix(key, "slack ") || strings.HasPrefix(key, "GET /dev/") ||
			strings.HasPrefix(key, "POST /codec/") || key == "POST /logout" || key == "GET /outbox" {
			continue // no incident and no Temporal: covered by the dashboard and codec tests
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	cells := 0
	for _, key := range keys {
		r := RouteRules[key]
		method, route, _ := strings.Cut(key, " ")
		kinds := matrixKinds
		if r.Scope == ScopeGlobal {
			kinds = []string{""}
		}
		for _, p := range matrixPeople {
			for _, kind := range kinds {
				id := e.incident[kind]
				before, engine := e.snapshot(), e.temporal.updateCount()
				var got, detail string
				if strings.HasPrefix(route, "/v1/") {
					got, detail = e.apiCall(p.role, key, id)
				} else {
					got, detail = e.dashCall(p.role, key, id)
				}
				cells++
				w := want(r, method, p.role, kind)
				if got != w {
					t.Errorf("%s as %s on %s incident: %s, want %s\n%s", key, p.role, kind, got, w, detail)
					continue
				}
				if w != outPass {
					if after := e.snapshot(); after != before {
						t.Errorf("%s as %s on %s incident was refused (%s) but the store changed:\n before %s\n after  %s", key, p.role, kind, w, before, after)
					}
					if n := e.temporal.updateCount(); n != engine {
						t.Errorf("%s as %s on %s incident was refused (%s) but reached the engine: %v", key, p.role, kind, w, e.temporal.updates[engine:])
					}
				}
				if kind == kindClosed && (r.Scope == ScopeAct || r.Scope == ScopeWrite) && got == outPass {
					t.Errorf("%s wrote to a closed incident as %s", key, p.role)
				}
			}
		}
	}
	t.Logf("%d cells", cells)
}

// TestAuthorizationMatrixLists: lists, deadlines, the calendar feed, the
// board and the incident list leave out a restricted incident from
// non-members, and show it to members and admins.
func TestAuthorizationMatrixLists(t *testing.T) {
	e := newMatrixEnv(t)
	ctx := context.Background()
	cal := map[string]string{}
	for _, p := range matrixPeople {
		tok, err := e.store.AuthenticateToken(ctx, e.secrets[p.role])
		if err != nil {
			t.Fatal(err)
		}
		if cal[p.role], err = e.store.CreateCalendarToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
	}
	apiGet := func(role, path string) string {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+e.secrets[role])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s as %s: %d %s", path, role, resp.StatusCode, raw)
		}
		return string(raw)
	}
	hiddenID, memberID, openID := e.incident[kindNonMember], e.incident[kindMember], e.incident[kindOpen]
	for _, p := range matrixPeople {
		surfaces := map[string]string{
			"GET /v1/incidents":       apiGet(p.role, "/v1/incidents"),
			"GET /v1/deadlines":       apiGet(p.role, "/v1/deadlines"),
			"GET /v1/deadlines.ics":   apiGet("", "/v1/deadlines.ics?token="+cal[p.role]),
			"dashboard board":         func() string { _, b := e.get(e.browsers[p.role], "/board"); return b }(),
			"dashboard incident list": func() string { _, b := e.get(e.browsers[p.role], "/incidents"); return b }(),
			"Slack /breach deadlines": e.slackCommand(p.slackID, "deadlines"),
		}
		for name, out := range surfaces {
			if !strings.Contains(out, openID) {
				t.Errorf("%s as %s lacks the unrestricted incident %s:\n%.400s", name, p.role, openID, out)
			}
			if !strings.Contains(out, memberID) {
				t.Errorf("%s as %s (a member) lacks the restricted incident %s:\n%.400s", name, p.role, memberID, out)
			}
			if shows := strings.Contains(out, hiddenID); shows != (p.role == breach.RoleAdmin) {
				t.Errorf("%s as %s shows the restricted incident %s it is no member of: %v (want %v)", name, p.role, hiddenID, shows, p.role == breach.RoleAdmin)
			}
		}
	}
}

// slackCommand runs /breach text as a Slack user; it answers the reply text.
func (e *matrixEnv) slackCommand(user, text string) string {
	e.t.Helper()
	_, out := send(e.t, slacktest.SignedRequest(e.srv.URL+"/slack/commands", testSecret, time.Now(), slacktest.SlashCommand(user, "C1", text)))
	s, _ := out["text"].(string)
	return s
}

// TestAuthorizationMatrixSlack: /breach status and a step button, as each
// Slack user on each kind of incident. A status asked by id elsewhere
// than the room answers a hidden incident as no incident; a button (on a
// card the user can see) says why.
func TestAuthorizationMatrixSlack(t *testing.T) {
	e := newMatrixEnv(t)
	for _, p := range matrixPeople {
		for _, kind := range matrixKinds {
			id := e.incident[kind]
			out := e.slackCommand(p.slackID, "status "+id)
			hidden := kind == kindNonMember && p.role != breach.RoleAdmin
			switch {
			case hidden && out != "No incident "+id+".":
				t.Errorf("/breach status as %s on %s incident: %q, want no incident", p.role, kind, out)
			case !hidden && !strings.Contains(out, "Matrix "+kind):
				t.Errorf("/breach status as %s on %s incident: %q, want its card", p.role, kind, out)
			}

			for _, button := range []string{slack.ActionAcknowledge, slack.ActionComplete, slack.ActionApprove, slack.ActionReject} {
				e.slackButton(t, p.role, p.slackID, kind, button)
			}
			e.slackRejectForm(t, p.role, p.slackID, kind)
			e.slackFactsForm(t, p.role, p.slackID, kind)
		}
	}
}

// slackGateRefusal classifies what Slack was told: a refusal of the
// authorization gate, or anything else (the gate let it through).
func slackGateRefusal(said, id string) string {
	switch {
	case strings.Contains(said, "may not do this"):
		return outRole
	case strings.Contains(said, NotMember(id)):
		return outHidden
	case strings.Contains(said, "is closed; nothing can change"):
		return outClosed
	}
	return outPass
}

// slackButton clicks a step button as a Slack user and checks the gate's
// answer; a refused click reaches neither the engine nor a form.
func (e *matrixEnv) slackButton(t *testing.T, role, user, kind, button string) {
	t.Helper()
	id := e.incident[kind]
	before, engine := e.snapshot(), e.temporal.updateCount()
	eph, views := len(e.fake.Requests("chat.postEphemeral")), len(e.fake.Requests("views.open"))
	code, _ := send(t, slacktest.SignedRequest(e.srv.URL+"/slack/interactions", testSecret, time.Now(),
		slacktest.BlockAction(user, "C1", "1.1", button, id+"|triage")))
	if code != 200 {
		t.Fatalf("%s click as %s: %d", button, role, code)
	}
	said := ""
	if reqs := e.fake.Requests("chat.postEphemeral"); len(reqs) > eph {
		said = reqs[len(reqs)-1].Form.Get("text")
	}
	key := "slack " + strings.TrimPrefix(button, "breachflow.")
	w := want(RouteRules[key], "POST", role, kind)
	if got := slackGateRefusal(said, id); got != w {
		t.Errorf("%s as %s on %s incident: %s (%q), want %s", key, role, kind, got, said, w)
	}
	// Reject opens the reason form; the others send an Update.
	reached := e.temporal.updateCount() > engine || len(e.fake.Requests("views.open")) > views
	if w != outPass && reached {
		t.Errorf("%s as %s on %s incident was refused but went on (Update or form)", key, role, kind)
	}
	if w == outPass && button != slack.ActionReject && !reached {
		t.Errorf("%s as %s on %s incident passed the gate but sent no Update (%q)", key, role, kind, said)
	}
	if w != outPass && e.snapshot() != before {
		t.Errorf("%s as %s on %s incident was refused but the store changed", key, role, kind)
	}
}

// slackRejectForm submits the reject reason form as a Slack user.
func (e *matrixEnv) slackRejectForm(t *testing.T, role, user, kind string) {
	t.Helper()
	id := e.incident[kind]
	engine := e.temporal.updateCount()
	_, out := send(t, slacktest.SignedRequest(e.srv.URL+"/slack/interactions", testSecret, time.Now(),
		slacktest.ViewSubmission(user, slack.ViewReject, id+"|triage|C1", map[string]map[string]any{
			slack.ReasonBlock: {slack.ReasonAction: map[string]any{"type": "plain_text_input", "value": "wording"}}})))
	said := ""
	if errs, ok := out["errors"].(map[string]any); ok {
		said, _ = errs[slack.ReasonBlock].(string)
	}
	w := want(RouteRules["slack reject"], "POST", role, kind)
	if got := slackGateRefusal(said, id); got != w {
		t.Errorf("reject form as %s on %s incident: %s (%q), want %s", role, kind, got, said, w)
	}
	if reached := e.temporal.updateCount() > engine; reached != (w == outPass) {
		t.Errorf("reject form as %s on %s incident: reached the engine %v, want %v", role, kind, reached, w == outPass)
	}
}

// slackFactsForm submits the facts modal (a step's missing facts) as a
// Slack user: the gate decides before the change reaches the engine.
func (e *matrixEnv) slackFactsForm(t *testing.T, role, user, kind string) {
	t.Helper()
	id := e.incident[kind]
	engine := e.temporal.updateCount()
	_, out := send(t, slacktest.SignedRequest(e.srv.URL+"/slack/interactions", testSecret, time.Now(),
		slacktest.ViewSubmission(user, slack.ViewFacts, id+"|triage|C1", map[string]map[string]any{
			"affected": {"affected": map[string]any{"type": "plain_text_input", "value": "DE=3"}}})))
	said := ""
	if errs, ok := out["errors"].(map[string]any); ok {
		said, _ = errs["affected"].(string)
	}
	w := want(RouteRules["slack facts"], "POST", role, kind)
	if got := slackGateRefusal(said, id); got != w {
		t.Errorf("facts form as %s on %s incident: %s (%q), want %s", role, kind, got, said, w)
	}
	if reached := e.temporal.updateCount() > engine; reached != (w == outPass) {
		t.Errorf("facts form as %s on %s incident: reached the engine %v, want %v (%q)", role, kind, reached, w == outPass, said)
	}
}

// TestRefusedSubjectUploadWritesNothing is the report, replayed:
// a non-member's two-row upload to a restricted incident is answered 404
// and leaves no row in subjects (it used to commit both and answer 403);
// a member's same upload stores both rows.
func TestRefusedSubjectUploadWritesNothing(t *testing.T) {
	e := newMatrixEnv(t)
	csv := "external_id,email,country\nK-1,ann@example.com,DE\nK-2,bob@example.com,DE\n"
	upload := func(kind string) int {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/incidents/"+e.incident[kind]+"/subjects", strings.NewReader(csv))
		req.Header.Set("Authorization", "Bearer "+e.secrets[breach.RoleResponder])
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	count := func(kind string) int {
		var n int
		if err := e.store.(interface{ DB() *sql.DB }).DB().QueryRow("SELECT count(*) FROM subjects WHERE incident_id = ?", e.incident[kind]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if code := upload(kindNonMember); code != http.StatusNotFound || count(kindNonMember) != 0 {
		t.Errorf("non-member upload: %d with %d rows stored; want 404 and none", code, count(kindNonMember))
	}
	if code := upload(kindClosed); code != http.StatusConflict || count(kindClosed) != 0 {
		t.Errorf("upload to a closed incident: %d with %d rows stored; want 409 and none", code, count(kindClosed))
	}
	if code := upload(kindMember); code != http.StatusOK || count(kindMember) != 2 {
		t.Errorf("member upload: %d with %d rows stored; want 200 and 2", code, count(kindMember))
	}
	// Closed in the workflow, not yet in the store (it learns when the
	// workflow ends): the upload is still refused.
	e.temporal.mu.Lock()
	e.temporal.status[e.incident[kindOpen]].Status = breach.StatusClosed
	e.temporal.mu.Unlock()
	if code := upload(kindOpen); code != http.StatusConflict || count(kindOpen) != 0 {
		t.Errorf("upload to an incident its workflow closed: %d with %d rows stored; want 409 and none", code, count(kindOpen))
	}
}

// TestSlackStatusInTheRoomSaysWhy: /breach status typed in a restricted
// incident's room by someone who is no member (they can see the channel,
// so they know the incident) is refused with the reason; the same user
// naming the incident elsewhere gets "No incident".
func TestSlackStatusInTheRoomSaysWhy(t *testing.T) {
	e := newMatrixEnv(t)
	id := e.incident[kindNonMember]
	if err := e.store.PutSlackRoom(context.Background(), store.SlackRoom{IncidentID: id, ChannelID: "CROOM001",
		ChannelName: "breach-" + strings.ToLower(id), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, out := send(t, slacktest.SignedRequest(e.srv.URL+"/slack/commands", testSecret, time.Now(), slacktest.SlashCommand("URESPND1", "CROOM001", "status")))
	if text, _ := out["text"].(string); text != "Refused: "+NotMember(id)+". Ask an admin to add you." || out["response_type"] != "ephemeral" {
		t.Errorf("status in the room of a restricted incident, as a non-member: %v", out)
	}
	if text := e.slackCommand("URESPND1", "status "+id); text != "No incident "+id+"." {
		t.Errorf("status by id elsewhere, as a non-member: %q", text)
	}
	_, out = send(t, slacktest.SignedRequest(e.srv.URL+"/slack/commands", testSecret, time.Now(), slacktest.SlashCommand("UADMIN01", "CROOM001", "status")))
	if text, _ := out["text"].(string); !strings.Contains(text, id) || strings.Contains(text, "Refused") {
		t.Errorf("status in the room as an admin: %v", out)
	}
}

// TestMemberEmailsAreLowerCased: a member named by email at launch is
// written as a Slack user mapped by that email acts (lower-cased), so the
// launcher's capitals do not lock them out; duplicates collapse.
func TestMemberEmailsAreLowerCased(t *testing.T) {
	e := newMatrixEnv(t)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/incidents", strings.NewReader(
		`{"playbook":"insider-exfiltration","title":"Payroll export copied","restricted":true,"members":["Ann@Example.com","ann@example.com","Rui"]}`))
	req.Header.Set("Authorization", "Bearer "+e.secrets[breach.RoleResponder])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st breach.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("launch: %d %v", resp.StatusCode, err)
	}
	got, err := e.store.IncidentMembers(context.Background(), st.ID)
	if want := []string{"Rui", "ann@example.com", "rita-responder"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("members in the store = %v, %v; want %v", got, err, want)
	}
}
