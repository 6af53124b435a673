package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/slacktest"
)

// TestRestrictedIncidentInvisibleToNonMembers launches a restricted
// incident on the dev stack (embedded Temporal, SQLite, Slack against
// slacktest) and looks for it on every surface as a member and as a
// non-member: the API's get, list, deadlines and calendar feed, the
// dashboard's board, list and page, and Slack's /breach status. Then an
// admin adds the non-member, who sees it, and removes them again.
func TestRestrictedIncidentInvisibleToNonMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	fake := slacktest.New(t)
	h := startSlackDev(t, fake, "URESP001=responder,UOUTS001=responder,ULEGAL01=legal", "")
	c, admin := h.api, h.admin
	ctx := context.Background()
	rita, _, err := h.stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	otto, _, err := h.stack.store.CreateToken(ctx, "otto-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}

	title := "Insider copied the payroll export qv4"
	code, body := c.do("POST", "/v1/incidents", rita, map[string]any{"playbook": "insider-exfiltration", "title": title,
		"severity": "high", "restricted": true, "members": []string{"slack:URESP001"},
		"data_categories": []string{"contact"}, "jurisdictions": []string{"DE"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, body)
	}
	id := body["id"].(string)
	if got := body["members"]; !slices.Equal(strs(got), []string{"slack:URESP001", "rita-responder"}) {
		t.Errorf("members at launch = %v, want the named member and the launcher", got)
	}
	// The deadline index and visibility are written by the workflow:
	// wait until the admin sees the incident everywhere.
	eventually(t, 60*time.Second, "the incident in the admin's list and deadlines", func() bool {
		_, l := c.do("GET", "/v1/incidents", admin, nil, nil)
		_, d := c.do("GET", "/v1/deadlines", admin, nil, nil)
		return strings.Contains(jsonOf(l), id) && strings.Contains(jsonOf(d), id)
	})

	calendar := func(token string) string {
		_, out := c.do("POST", "/v1/calendar-tokens", token, nil, nil)
		u, _ := out["url"].(string)
		return get(t, "http://"+h.stack.httpAddr+u, nil)
	}
	slackStatus := func(user string) string {
		_, out := h.send("status", slacktest.SignedRequest("http://"+h.stack.httpAddr+"/slack/commands", slackSecret, time.Now(),
			slacktest.SlashCommand(user, "C0OTHER1", "status "+id)))
		return out
	}
	surfaces := func(token, slackUser string) map[string]string {
		dash := signIn(t, "http://"+h.stack.httpAddr, token)
		code, one := c.do("GET", "/v1/incidents/"+id, token, nil, nil)
		_, list := c.do("GET", "/v1/incidents", token, nil, nil)
		_, dl := c.do("GET", "/v1/deadlines", token, nil, nil)
		return map[string]string{
			"API get":              jsonOf(one) + " " + http.StatusText(code),
			"API list":             jsonOf(list),
			"API deadlines":        jsonOf(dl),
			"calendar feed":        calendar(token),
			"dashboard board":      get(t, "http://"+h.stack.httpAddr+"/board", dash),
			"dashboard list":       get(t, "http://"+h.stack.httpAddr+"/incidents", dash),
			"dashboard page":       get(t, "http://"+h.stack.httpAddr+"/incidents/"+id, dash),
			"Slack /breach status": slackStatus(slackUser),
		}
	}
	// A member sees it everywhere.
	eventually(t, 30*time.Second, "the incident on every surface for a member", func() bool {
		for name, out := range surfaces(rita, "URESP001") {
			if !strings.Contains(out, id) {
				t.Logf("member: %s lacks %s yet", name, id)
				return false
			}
		}
		return true
	})
	// A non-member sees it nowhere: not its id, not its title.
	for name, out := range surfaces(otto, "UOUTS001") {
		if strings.Contains(out, title) || (strings.Contains(out, id) && !strings.Contains(out, "no incident "+id) &&
			!strings.Contains(out, "There is no incident "+id) && !strings.Contains(out, "No incident "+id)) {
			t.Errorf("non-member: %s shows the restricted incident:\n%.600s", name, out)
		}
	}
	if code, p := c.do("GET", "/v1/incidents/"+id+"/audit", otto, nil, nil); code != 404 || p["detail"] != "no incident "+id {
		t.Errorf("non-member audit: %d %v, want 404 no incident", code, p)
	}

	// The room invites only members: the Slack member, not the other
	// configured Slack users.
	eventually(t, 60*time.Second, "the restricted room", func() bool {
		_, ok := fake.ChannelByName("breach-" + strings.ToLower(id))
		return ok
	})
	ch, _ := fake.ChannelByName("breach-" + strings.ToLower(id))
	if !slices.Contains(ch.Members, "URESP001") || slices.Contains(ch.Members, "UOUTS001") || slices.Contains(ch.Members, "ULEGAL01") {
		t.Errorf("restricted room members = %v, want URESP001 and not UOUTS001 or ULEGAL01", ch.Members)
	}

	// An admin adds the outsider (API token and Slack user): they see it
	// and the room invites them; the audit chain has both changes.
	if code, p := c.do("PUT", "/v1/incidents/"+id+"/members/otto-responder", rita, nil, nil); code != 403 {
		t.Errorf("a member who is no admin adds a member: %d %v, want 403", code, p)
	}
	for _, p := range []string{"otto-responder", "slack:UOUTS001"} {
		if code, out := c.do("PUT", "/v1/incidents/"+id+"/members/"+p, admin, nil, nil); code != 200 || !slices.Contains(strs(out["members"]), p) {
			t.Fatalf("admin adds %s: %d %v", p, code, out)
		}
	}
	if code, _ := c.do("GET", "/v1/incidents/"+id, otto, nil, nil); code != 200 {
		t.Errorf("added member reads the incident: %d, want 200", code)
	}
	if out := slackStatus("UOUTS001"); !strings.Contains(out, id) || strings.Contains(out, "No incident") {
		t.Errorf("added Slack member's /breach status: %s", out)
	}
	eventually(t, 60*time.Second, "the added Slack member invited to the room", func() bool {
		ch, _ := fake.ChannelByName("breach-" + strings.ToLower(id))
		return slices.Contains(ch.Members, "UOUTS001")
	})
	if code, _ := c.do("DELETE", "/v1/incidents/"+id+"/members/otto-responder", admin, nil, nil); code != 200 {
		t.Fatalf("admin removes otto: %d", code)
	}
	if code, _ := c.do("GET", "/v1/incidents/"+id, otto, nil, nil); code != 404 {
		t.Errorf("removed member reads the incident: %d, want 404", code)
	}
	eventually(t, 30*time.Second, "the member changes in the audit chain", func() bool {
		_, a := c.do("GET", "/v1/incidents/"+id+"/audit", admin, nil, nil)
		s := jsonOf(a)
		return strings.Contains(s, "member:otto-responder") && strings.Contains(s, "member.added") && strings.Contains(s, "member.removed")
	})
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// get fetches url with client (nil: the default) and answers the body.
func get(t *testing.T, u string, client *http.Client) string {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs a browser into the dashboard with token, as the sign-in
// form does.
func signIn(t *testing.T, base, token string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	m := csrfField.FindStringSubmatch(get(t, base+"/login", b))
	if m == nil {
		t.Fatal("sign-in page has no CSRF field")
	}
	resp, err := b.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/board"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/board" {
		t.Fatalf("sign-in ended on %s", resp.Request.URL)
	}
	return b
}

// jsonOf is v as JSON, for looking for an id in an answer.
func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// TestRestrictedRunToClose works a restricted incident whose members an
// admin changes to close on the real engine: after the close a
// non-member still gets 404, and membership no longer changes (409).
// With BREACHFLOW_WRITE_HISTORIES=1 it saves the run for the replay test
// as workflows/testdata/history-members-insider-exfiltration.json (the
// set_member Updates behind GetVersion "incident-members").
func TestRestrictedRunToClose(t *testing.T) {
	stack, c := replayStack(t)
	outsider, _, err := stack.store.CreateToken(context.Background(), "otto-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{
		"playbook": "insider-exfiltration", "title": "Replay run of a restricted insider case", "severity": "high",
		"restricted": true, "members": []string{"rita-responder"},
		"aware_at": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"DE", "US-NY"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id + "/members/"
	if code, out := c.do("PUT", base+"lena-legal", stack.token, nil, nil); code != 200 {
		t.Fatalf("add lena: %d %v", code, out)
	}
	if code, out := c.do("DELETE", base+"rita-responder", stack.token, nil, nil); code != 200 {
		t.Fatalf("remove rita: %d %v", code, out)
	}
	if code, out := c.do("PUT", base+"two%20words", stack.token, nil, nil); code != 422 {
		t.Errorf("add a principal with a space: %d %v, want 422", code, out)
	}
	// The notice needs two legal people, both members of the incident.
	if code, out := c.do("PUT", base+"second-legal", stack.token, nil, nil); code != 200 {
		t.Fatalf("add second-legal: %d %v", code, out)
	}
	workToClose(t, c, stack.token, secondLegal(t, stack), id)
	saveHistory(t, stack, id, "members-insider-exfiltration")
	if code, _ := c.do("GET", "/v1/incidents/"+id, outsider, nil, nil); code != 404 {
		t.Errorf("non-member reads the closed restricted incident: %d, want 404", code)
	}
	if code, out := c.do("PUT", base+"otto-responder", stack.token, nil, nil); code != 409 {
		t.Errorf("add a member to a closed incident: %d %v, want 409", code, out)
	}
	members, err := stack.store.IncidentMembers(context.Background(), id)
	if err != nil || !slices.Contains(members, "lena-legal") {
		t.Errorf("members in the store = %v, %v; want lena-legal among them", members, err)
	}
	if slices.Contains(members, "rita-responder") || slices.Contains(members, "otto-responder") {
		t.Errorf("members in the store = %v: removed or refused members are still there", members)
	}
}

// TestBackfillRestricted plays an incident launched restricted before the
// store's index recorded restriction (the index row says unrestricted and
// holds no members): a non-member reads it until `migrate
// --backfill-restricted` asks the workflow and writes the index; then the
// non-member gets 404 and the members still see it.
func TestBackfillRestricted(t *testing.T) {
	stack, c := replayStack(t)
	ctx := context.Background()
	outsider, _, err := stack.store.CreateToken(ctx, "otto-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	member, _, err := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{"playbook": "insider-exfiltration",
		"title": "Legacy restricted case", "severity": "high", "restricted": true, "members": []string{"rita-responder"},
		"jurisdictions": []string{"DE"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	db := stack.store.(interface{ DB() *sql.DB }).DB()
	if _, err := db.ExecContext(ctx, `UPDATE incidents SET restricted = FALSE WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM incident_members WHERE incident_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.do("GET", "/v1/incidents/"+id, outsider, nil, nil); code != 200 {
		t.Fatalf("before the backfill the legacy index shows the incident to a non-member: %d, want 200 (the hole)", code)
	}
	var out strings.Builder
	if err := backfillRestricted(ctx, stack.store, stack.client, &out); err != nil {
		t.Fatalf("backfill: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), id+": restricted to admin, rita-responder") {
		t.Errorf("backfill output:\n%s", out.String())
	}
	if code, _ := c.do("GET", "/v1/incidents/"+id, outsider, nil, nil); code != 404 {
		t.Errorf("after the backfill a non-member reads it: %d, want 404", code)
	}
	if code, _ := c.do("GET", "/v1/incidents/"+id, member, nil, nil); code != 200 {
		t.Errorf("after the backfill a member cannot read it: %d, want 200", code)
	}
	out.Reset()
	if err := backfillRestricted(ctx, stack.store, stack.client, &out); err != nil || !strings.Contains(out.String(), "0 marked restricted") {
		t.Errorf("a second backfill: %v\n%s", err, out.String())
	}
}
