package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
)

// call sends a JSON request with a bearer token and decodes the answer.
func (e *dashEnv) callInto(method, path, token, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func TestTokensAPI(t *testing.T) {
	e := newDashEnv(t)

	// Only admins manage tokens.
	var p Problem
	if code := e.callInto("GET", "/v1/tokens", e.viewer, "", &p); code != http.StatusForbidden {
		t.Fatalf("viewer listing tokens: %d %+v", code, p)
	}
	if code := e.callInto("POST", "/v1/tokens", e.viewer, `{"name":"x","role":"admin"}`, &p); code != http.StatusForbidden {
		t.Fatalf("viewer creating an admin token: %d", code)
	}

	// Bad input names each field; nothing is created.
	for body, field := range map[string]string{
		`{"name":"","role":"legal"}`:                                                        "name",
		`{"name":"x","role":"root"}`:                                                        "role",
		`{"name":"x","role":"legal","expires_in":"-1h"}`:                                    "expires_in",
		`{"name":"x","role":"legal","expires_at":"2001-01-01T00:00:00Z"}`:                   "expires_at",
		`{"name":"x","role":"legal","expires_at":"2999-01-01T00:00:00Z","expires_in":"1h"}`: "expires_at",
	} {
		p = Problem{}
		if code := e.callInto("POST", "/v1/tokens", e.admin, body, &p); code != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("POST /v1/tokens %s: %d %+v, want 400 naming %s", body, code, p, field)
		}
	}
	if toks, _ := e.store.ListTokens(context.Background()); len(toks) != 2 {
		t.Fatalf("refused requests created tokens: %+v", toks)
	}

	// Create: the secret is answered once and works.
	var created struct {
		Token  TokenView `json:"token"`
		Secret string    `json:"secret"`
	}
	if code := e.callInto("POST", "/v1/tokens", e.admin, `{"name":"lea-legal","role":"legal","expires_in":"720h"}`, &created); code != http.StatusCreated {
		t.Fatalf("create token: %d", code)
	}
	if !strings.HasPrefix(created.Secret, store.TokenPrefix) || created.Token.Role != breach.RoleLegal ||
		created.Token.Status != "active" || created.Token.ExpiresAt == nil ||
		created.Token.ExpiresAt.Sub(e.now.Add(720*time.Hour)).Abs() > time.Minute {
		t.Fatalf("created = %+v", created)
	}
	if code := e.callInto("GET", "/v1/deadlines", created.Secret, "", nil); code != http.StatusOK {
		t.Fatalf("new token refused: %d", code)
	}

	// List: every token, never a secret.
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, secret := range []string{e.admin, e.viewer, created.Secret} {
		if strings.Contains(string(raw), strings.TrimPrefix(secret, store.TokenPrefix)) {
			t.Fatalf("GET /v1/tokens shows a secret: %s", raw)
		}
	}
	var list struct{ Tokens []TokenView }
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Tokens) != 3 || list.Tokens[2].Name != "lea-legal" {
		t.Fatalf("GET /v1/tokens = %s", raw)
	}

	// Revoke: refused at once with a message that says so.
	var revoked struct{ Token TokenView }
	path := "/v1/tokens/" + strconv.FormatInt(created.Token.ID, 10) + "/revoke"
	if code := e.callInto("POST", path, e.admin, "", &revoked); code != http.StatusOK || revoked.Token.Status != "revoked" || revoked.Token.RevokedAt == nil {
		t.Fatalf("revoke: %d %+v", code, revoked)
	}
	p = Problem{}
	if code := e.callInto("GET", "/v1/deadlines", created.Secret, "", &p); code != http.StatusUnauthorized || !strings.Contains(p.Detail, "revoked") {
		t.Fatalf("revoked token: %d %+v, want 401 saying revoked", code, p)
	}
	if code := e.callInto("POST", "/v1/tokens/999/revoke", e.admin, "", &p); code != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", code)
	}
	if code := e.callInto("POST", "/v1/tokens/abc/revoke", e.admin, "", &p); code != http.StatusNotFound {
		t.Fatalf("revoke non-numeric: %d", code)
	}
}

func TestTokenExpiredRefused(t *testing.T) {
	e := newDashEnv(t)
	expires := time.Now().Add(time.Second)
	secret, _, err := e.store.IssueToken(context.Background(), store.TokenSpec{Name: "temp", Role: breach.RoleViewer, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if code := e.callInto("GET", "/v1/deadlines", secret, "", nil); code != http.StatusOK {
		t.Fatalf("token before expiry: %d", code)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	var p Problem
	if code := e.callInto("GET", "/v1/deadlines", secret, "", &p); code != http.StatusUnauthorized || !strings.Contains(p.Detail, "expired") {
		t.Fatalf("token past expiry: %d %+v, want 401 saying expired", code, p)
	}
	e.advance(expires.Sub(e.now) + time.Second) // the API's clock, which the list reads
	var list struct{ Tokens []TokenView }
	e.callInto("GET", "/v1/tokens", e.admin, "", &list)
	if len(list.Tokens) != 3 || list.Tokens[2].Status != "expired" {
		t.Fatalf("listed = %+v, want the temp token expired", list.Tokens)
	}
}

func TestCalendarTokensRevokedOneByOne(t *testing.T) {
	e := newDashEnv(t)
	type issued struct{ Token, URL string }
	var phone, laptop issued
	if code := e.callInto("POST", "/v1/calendar-tokens", e.viewer, "", &phone); code != http.StatusCreated {
		t.Fatalf("calendar token: %d", code)
	}
	e.callInto("POST", "/v1/calendar-tokens", e.viewer, "", &laptop)
	var adminFeed issued
	e.callInto("POST", "/v1/calendar-tokens", e.admin, "", &adminFeed)
	feed := func(u string) int {
		resp, err := http.Get(e.srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if feed(phone.URL) != 200 || feed(laptop.URL) != 200 {
		t.Fatal("fresh calendar feeds refused")
	}

	// The owner sees only their own, never a secret.
	var mine struct {
		CalendarTokens []CalendarTokenView `json:"calendar_tokens"`
	}
	e.callInto("GET", "/v1/calendar-tokens", e.viewer, "", &mine)
	if len(mine.CalendarTokens) != 2 || mine.CalendarTokens[0].Owner != "vic-viewer" {
		t.Fatalf("viewer's calendar tokens = %+v", mine)
	}
	var all struct {
		CalendarTokens []CalendarTokenView `json:"calendar_tokens"`
	}
	e.callInto("GET", "/v1/calendar-tokens", e.admin, "", &all)
	if len(all.CalendarTokens) != 3 {
		t.Fatalf("admin's view of calendar tokens = %+v", all)
	}

	// The owner may not revoke another's feed; nothing changes.
	adminsID := strconv.FormatInt(all.CalendarTokens[2].ID, 10)
	if code := e.callInto("POST", "/v1/calendar-tokens/"+adminsID+"/revoke", e.viewer, "", nil); code != http.StatusNotFound {
		t.Fatalf("viewer revoking the admin's feed: %d, want 404", code)
	}
	if feed(adminFeed.URL) != 200 {
		t.Fatal("a refused revoke stopped the feed")
	}

	// The owner revokes the phone's feed: it stops, the laptop's goes on.
	phoneID := strconv.FormatInt(mine.CalendarTokens[0].ID, 10)
	if code := e.callInto("POST", "/v1/calendar-tokens/"+phoneID+"/revoke", e.viewer, "", nil); code != http.StatusOK {
		t.Fatalf("revoke own feed: %d", code)
	}
	resp, err := http.Get(e.srv.URL + phone.URL)
	if err != nil {
		t.Fatal(err)
	}
	var p Problem
	_ = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Detail, "calendar token has been revoked") {
		t.Fatalf("revoked feed: %d %+v", resp.StatusCode, p)
	}
	if feed(laptop.URL) != 200 {
		t.Fatal("revoking one feed stopped another")
	}
	// An admin revokes anyone's.
	if code := e.callInto("POST", "/v1/calendar-tokens/"+strconv.FormatInt(mine.CalendarTokens[1].ID, 10)+"/revoke", e.admin, "", nil); code != http.StatusOK {
		t.Fatalf("admin revoking a viewer's feed: %d", code)
	}
	if feed(laptop.URL) != http.StatusUnauthorized {
		t.Fatal("feed revoked by an admin still served")
	}
}
