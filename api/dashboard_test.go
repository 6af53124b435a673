package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
)

// dashEnv is the dashboard against a real SQLite store and real keys, with
// no Temporal: what it tests (sign-in, sessions, CSRF, roles, the deadline
// board) never reaches a workflow. Pages that need Temporal are covered by
// the browser test in cmd/breachflow.
type dashEnv struct {
	t      *testing.T
	srv    *httptest.Server
	store  store.Store
	mu     sync.Mutex
	now    time.Time
	admin  string
	viewer string
	vicID  int64
}

func newDashEnv(t *testing.T) *dashEnv {
	t.Helper()
	return newDashEnvWith(t, nil)
}

// newDashEnvWith is newDashEnv with deps adjusted by with (nil: none).
func newDashEnvWith(t *testing.T, with func(*Deps)) *dashEnv {
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
	key, err := codec.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := codec.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := playbooks.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	e := &dashEnv{t: t, store: st, now: time.Now().UTC()}
	e.admin, _, err = st.CreateToken(ctx, "ada-admin", breach.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	var vic store.Token
	e.viewer, vic, err = st.CreateToken(ctx, "vic-viewer", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	e.vicID = vic.ID
	d := Deps{Store: st, Playbooks: cat, Keys: keys, Now: func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.now
	}}
	if with != nil {
		with(&d)
	}
	s := New(d)
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *dashEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// browser is a cookie-keeping client that does not follow redirects.
func (e *dashEnv) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *dashEnv) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *dashEnv) post(c *http.Client, path string, form url.Values, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	return m[1]
}

// signIn signs c in with token and returns the page's CSRF token.
func (e *dashEnv) signIn(c *http.Client, token string) string {
	e.t.Helper()
	_, page := e.get(c, "/login")
	resp, body := e.post(c, "/login", url.Values{"csrf": {csrfOf(e.t, page)}, "token": {token}, "next": {"/board"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		e.t.Fatalf("sign in: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, board := e.get(c, "/board")
	if resp.StatusCode != 200 || !strings.Contains(board, "Deadline board") {
		e.t.Fatalf("board after sign-in: %d\n%s", resp.StatusCode, board)
	}
	return csrfOf(e.t, board)
}

func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

func TestDashboardSignIn(t *testing.T) {
	e := newDashEnv(t)
	c := e.browser()

	// Signed out, every page sends the browser to sign in, and back after.
	resp, _ := e.get(c, "/board")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fboard" {
		t.Fatalf("signed-out board: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := e.get(c, "/login")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("login page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	csrf := csrfOf(t, page)

	// A wrong token: a clear message, no session.
	resp, body := e.post(c, "/login", url.Values{"csrf": {csrf}, "token": {"bf_not-a-token"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unknown, revoked, expired or mistyped") || sessionCookieOf(resp) != nil {
		t.Fatalf("wrong token: %d, cookie %v\n%s", resp.StatusCode, sessionCookieOf(resp), body)
	}
	// The sign-in form itself is CSRF-protected.
	resp, _ = e.post(e.browser(), "/login", url.Values{"token": {e.admin}})
	if resp.StatusCode != http.StatusForbidden || sessionCookieOf(resp) != nil {
		t.Fatalf("sign-in without the form's token: %d, want 403 and no session", resp.StatusCode)
	}

	// The right token: an HttpOnly, SameSite cookie that does not hold the
	// token in the clear, and is Secure behind an HTTPS proxy.
	_, page = e.get(c, "/login")
	resp, _ = e.post(c, "/login", url.Values{"csrf": {csrfOf(t, page)}, "token": {e.admin}, "next": {"//evil.example/"}},
		"X-Forwarded-Proto", "https")
	ck := sessionCookieOf(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" || ck == nil {
		t.Fatalf("sign in: %d %q cookie %v", resp.StatusCode, resp.Header.Get("Location"), ck)
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != int(sessionTTL/time.Second) {
		t.Fatalf("session cookie attributes: %+v", ck)
	}
	if strings.Contains(ck.Value, e.admin) || strings.Contains(ck.Value, strings.TrimPrefix(e.admin, "bf_")) {
		t.Fatal("the session cookie holds the API token in the clear")
	}
	plain := e.browser()
	e.signIn(plain, e.admin)
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range plain.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return // over plain HTTP the jar keeps it: it is not Secure there
		}
	}
	t.Fatal("over plain HTTP the session cookie must not be Secure (the jar dropped it)")
}

func TestDashboardSessionRefusals(t *testing.T) {
	e := newDashEnv(t)

	t.Run("tampered cookie", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, e.admin)
		u, _ := url.Parse(e.srv.URL)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name != sessionCookie {
				continue
			}
			b := []byte(ck.Value)
			i := len(b) - 5
			b[i] ^= 1
			if b[i] == '.' || b[i] == '/' {
				b[i] = 'A'
			}
			c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: string(b), Path: "/"}})
		}
		resp, _ := e.get(c, "/board")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("tampered session: %d %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page := e.get(c, "/login")
		if !strings.Contains(page, "session has expired or is no longer valid") {
			t.Fatalf("the sign-in page does not say why:\n%s", page)
		}
	})

	t.Run("forged cookie", func(t *testing.T) {
		c := e.browser()
		u, _ := url.Parse(e.srv.URL)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "azE.eyJ0IjoiYmZfeCJ9", Path: "/"}})
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("forged session: %d, want 303 to sign in", resp.StatusCode)
		}
	})

	t.Run("expired", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, e.admin)
		e.advance(sessionTTL + time.Minute)
		defer e.advance(-sessionTTL - time.Minute)
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("expired session: %d, want 303 to sign in", resp.StatusCode)
		}
	})

	t.Run("signed out, old cookie replayed", func(t *testing.T) {
		c := e.browser()
		csrf := e.signIn(c, e.admin)
		u, _ := url.Parse(e.srv.URL)
		old := append([]*http.Cookie(nil), c.Jar.Cookies(u)...)
		if resp, _ := e.post(c, "/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out: %d", resp.StatusCode)
		}
		// A copy of the cookie taken before signing out is now worthless:
		// the session ended on the server, not just in this browser.
		thief := e.browser()
		thief.Jar.SetCookies(u, old)
		if resp, _ := e.get(thief, "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("replayed cookie after sign-out: %d, want 303 to sign in", resp.StatusCode)
		}
		// Another session of the same token is untouched.
		other := e.browser()
		e.signIn(other, e.admin)
		if resp, _ := e.get(other, "/board"); resp.StatusCode != http.StatusOK {
			t.Fatalf("another session after one signed out: %d", resp.StatusCode)
		}
	})

	t.Run("expired token", func(t *testing.T) {
		ctx := context.Background()
		expires := time.Now().Add(time.Second)
		secret, _, err := e.store.IssueToken(ctx, store.TokenSpec{Name: "temp", Role: breach.RoleViewer, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		c := e.browser()
		e.signIn(c, secret)
		time.Sleep(time.Until(expires) + 50*time.Millisecond)
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("expired token's session: %d, want 303 to sign in", resp.StatusCode)
		}
	})

	t.Run("revoked token", func(t *testing.T) {
		ctx := context.Background()
		secret, tok, err := e.store.CreateToken(ctx, "soon-gone", breach.RoleLegal)
		if err != nil {
			t.Fatal(err)
		}
		c := e.browser()
		e.signIn(c, secret)
		if err := e.store.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if resp, _ := e.get(c, "/board"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoked token's session: %d, want 303 to sign in", resp.StatusCode)
		}
	})
}

func TestDashboardCSRFAndRoles(t *testing.T) {
	e := newDashEnv(t)
	admin := e.browser()
	csrf := e.signIn(admin, e.admin)

	// A form posted without (or with a wrong) CSRF token is refused before
	// anything is looked at: a 403 page, nothing sent to the workflow.
	for _, form := range []url.Values{{"note": {"x"}}, {"csrf": {"forged"}, "note": {"x"}}} {
		resp, body := e.post(admin, "/incidents/BR-7K3F9Q/close", form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Nothing was changed") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("close without CSRF: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	// Another session's CSRF token does not work either.
	other := e.browser()
	otherCSRF := e.signIn(other, e.admin)
	if otherCSRF == csrf {
		t.Fatal("two sessions share a CSRF token")
	}
	if resp, _ := e.post(admin, "/logout", url.Values{"csrf": {otherCSRF}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with another session's CSRF token: %d, want 403", resp.StatusCode)
	}

	// A viewer sees no action buttons and its posts are refused.
	viewer := e.browser()
	vcsrf := e.signIn(viewer, e.viewer)
	for _, path := range []string{"/incidents/BR-7K3F9Q/close", "/incidents/BR-7K3F9Q/obligations/gdpr-art33/file",
		"/incidents/BR-7K3F9Q/steps/triage/complete", "/incidents/BR-7K3F9Q/remediations"} {
		resp, body := e.post(viewer, path, url.Values{"csrf": {vcsrf}, "title": {"x"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not do this") {
			t.Fatalf("viewer POST %s: %d\n%s", path, resp.StatusCode, body)
		}
	}
	if resp, _ := e.get(viewer, "/outbox"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("outbox without a catcher: %d, want 404", resp.StatusCode)
	}

	// Sign out needs the token too, and ends the session.
	if resp, _ := e.post(admin, "/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := e.get(admin, "/board"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("board after sign-out: %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestDashboardBoard(t *testing.T) {
	e := newDashEnv(t)
	ctx := context.Background()
	now := e.now
	due := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	if _, _, err := e.store.CreateIncident(ctx, store.Incident{ID: "BR-7K3F9Q", PlaybookID: "customer-data-breach",
		PlaybookVersion: 1, Severity: "high", CreatedBy: "t", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rows := []store.ObligationRow{
		{ObligationID: "gdpr-art33", Regime: "GDPR Art. 33", Jurisdiction: "EU", Recipient: "regulator", RecipientName: "Lead DPA <script>",
			Deadline: "72 hours", DueAt: due(70 * time.Hour), Status: store.ObligationPending},
		{ObligationID: "us-ca-ag", Regime: "Cal. Civ. Code 1798.82", Jurisdiction: "US-CA", Recipient: "regulator", RecipientName: "California AG",
			Deadline: "with the notices", DueAt: due(3 * time.Hour), Status: store.ObligationPending},
		{ObligationID: "late-one", Regime: "Late Act", Jurisdiction: "DE", Recipient: "regulator", RecipientName: "BfDI",
			Deadline: "1 day", DueAt: due(-2 * time.Hour), Status: store.ObligationOverdue},
		{ObligationID: "us-ca-residents", Regime: "Cal. Civ. Code 1798.82", Jurisdiction: "US-CA", Recipient: "subjects", RecipientName: "California residents",
			Deadline: "30 calendar days", MissingFacts: []string{"discovered_at"}, Status: store.ObligationPending},
		{ObligationID: "filed-one", Regime: "Done Act", Jurisdiction: "FR", Recipient: "regulator", RecipientName: "CNIL",
			Deadline: "1 day", DueAt: due(20 * time.Hour), Status: store.ObligationFiled},
	}
	if err := e.store.PutObligations(ctx, "BR-7K3F9Q", rows); err != nil {
		t.Fatal(err)
	}
	check := func(token string, wantActions bool) {
		t.Helper()
		c := e.browser()
		e.signIn(c, token)
		_, page := e.get(c, "/board")
		order := []string{`id="ob-BR-7K3F9Q-late-one"`, `id="ob-BR-7K3F9Q-us-ca-ag"`, `id="ob-BR-7K3F9Q-gdpr-art33"`}
		last := -1
		for _, id := range order {
			i := strings.Index(page, id)
			if i < 0 || i < last {
				t.Fatalf("board rows not soonest first (%s at %d):\n%s", id, i, page)
			}
			last = i
		}
		for _, want := range []string{`class="u-overdue" id="ob-BR-7K3F9Q-late-one"`, `class="u-urgent" id="ob-BR-7K3F9Q-us-ca-ag"`,
			`class="u-later" id="ob-BR-7K3F9Q-gdpr-art33"`, "overdue by 2h 00m", "Lead DPA &lt;script&gt;"} {
			if !strings.Contains(page, want) {
				t.Errorf("board lacks %q", want)
			}
		}
		if row := rowOf(page, `id="ob-BR-7K3F9Q-us-ca-residents"`); !strings.Contains(row, "waiting for discovered_at") || strings.Contains(row, "<time") {
			t.Errorf("a clock without its anchor shows a due time, or does not say what it waits for:\n%s", row)
		}
		if strings.Contains(page, "filed-one") {
			t.Error("a filed duty is on the board")
		}
		if got := strings.Contains(page, `data-action="file"`); got != wantActions {
			t.Errorf("filing buttons shown: %v, want %v", got, wantActions)
		}
	}
	check(e.admin, true)
	check(e.viewer, false)
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{"/board": "/board", "": "/x", "//evil.example": "/x", "https://evil.example": "/x",
		"/\\evil.example": "/x", "/a\r\nSet-Cookie: x": "/x", "/incidents/BR-7K3F9Q?x=1": "/incidents/BR-7K3F9Q?x=1",
		"/board\\..\\evil": "/x", "/\t/evil.example": "/x", "/board\x00": "/x", "/board\x7f": "/x", "/board\u0085": "/x"} {
		if got := localPath(in, "/x"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDashboardFormLimits: every dashboard POST, the sign-in form too, is
// a URL-encoded form of bounded size; multipart and oversized bodies get a
// page that says so, and nothing is changed.
func TestDashboardFormLimits(t *testing.T) {
	e := newDashEnv(t)
	c := e.browser()
	csrf := e.signIn(c, e.admin)
	_, login := e.get(e.browser(), "/login")
	loginCSRF := csrfOf(t, login)
	postRaw := func(path, contentType, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	multipart := "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf + "\r\n--b--\r\n"
	huge := url.Values{"csrf": {csrf}, "note": {strings.Repeat("x", dashFormLimit)}}.Encode()
	for _, tc := range []struct {
		name, path, ctype, body string
		status                  int
		says                    string
	}{
		{"multipart action", "/incidents/BR-7K3F9Q/close", "multipart/form-data; boundary=b", multipart, 415, "multipart is refused"},
		{"multipart sign-in", "/login", "multipart/form-data; boundary=b", strings.ReplaceAll(multipart, csrf, loginCSRF), 415, "multipart is refused"},
		{"JSON action", "/incidents/BR-7K3F9Q/close", "application/json", `{"csrf":"` + csrf + `"}`, 415, "Nothing was changed"},
		{"oversized action", "/incidents/BR-7K3F9Q/close", "application/x-www-form-urlencoded", huge, 413, "larger than 64 KB"},
		{"oversized sign-in", "/login", "application/x-www-form-urlencoded", url.Values{"csrf": {loginCSRF}, "token": {strings.Repeat("x", dashFormLimit)}}.Encode(), 413, "larger than 64 KB"},
	} {
		resp, body := postRaw(tc.path, tc.ctype, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) || sessionCookieOf(resp) != nil {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, resp.StatusCode, tc.status, tc.says, body)
		}
	}
	// A form within the limit still gets through to the handler.
	if resp, _ := e.post(c, "/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout within the limit: %d", resp.StatusCode)
	}
}

func TestClockLayout(t *testing.T) {
	anchor := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	due := anchor.Add(72 * time.Hour)
	cv := clock(&anchor, &due, anchor.Add(36*time.Hour), nil, time.UTC)
	if cv == nil || cv.NowX != 500 || !cv.NowInside || len(cv.Reminders) != 5 {
		t.Fatalf("clock = %+v", cv)
	}
	want := []string{"1d 0h", "2d 0h", "2d 12h", "2d 20h", "2d 23h"}
	for i, r := range cv.Reminders {
		if r.Label != want[i] || r.Passed != (i == 0) {
			t.Errorf("reminder %d = %+v, want %s passed=%v", i, r, want[i], i == 0)
		}
	}
	if !strings.Contains(cv.Label, "1d 12h elapsed, 1d 12h left") {
		t.Errorf("label %q", cv.Label)
	}
	// The label's times are the viewer's: 08:00 UTC is 17:00 in Tokyo.
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if got := clock(&anchor, &due, anchor.Add(36*time.Hour), nil, tokyo).Label; !strings.Contains(got, "from Mon 23 Nov 17:00 JST to Thu 26 Nov 17:00 JST") {
		t.Errorf("label in Tokyo = %q", got)
	}
	if clock(&anchor, nil, anchor, nil, time.UTC) != nil || clock(&due, &anchor, anchor, nil, time.UTC) != nil {
		t.Error("a clock without a window should not be drawn")
	}
}

// rowOf is the table row (or article) of page that starts at the tag
// holding marker, up to its closing tag.
func rowOf(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	for _, end := range []string{"</tr>", "</article>"} {
		if j := strings.Index(rest, end); j >= 0 {
			return rest[:j]
		}
	}
	return rest
}

// TestDashboardTokensPage: admins see every token (never a secret) and
// revoke one with a CSRF-protected form that works without JavaScript;
// others get 403, and a forged form changes nothing.
func TestDashboardTokensPage(t *testing.T) {
	e := newDashEnv(t)
	ctx := context.Background()
	secret, tok, err := e.store.CreateToken(ctx, "leaver", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := e.store.CreateCalendarToken(ctx, e.vicID)
	if err != nil {
		t.Fatal(err)
	}
	viewer := e.browser()
	vcsrf := e.signIn(viewer, e.viewer)
	if resp, _ := e.get(viewer, "/tokens"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer on /tokens: %d, want 403", resp.StatusCode)
	}
	id := strconv.FormatInt(tok.ID, 10)
	if resp, _ := e.post(viewer, "/tokens/"+id+"/revoke", url.Values{"csrf": {vcsrf}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer revoking: %d, want 403", resp.StatusCode)
	}

	admin := e.browser()
	csrf := e.signIn(admin, e.admin)
	resp, page := e.get(admin, "/tokens")
	if resp.StatusCode != 200 || !strings.Contains(page, `data-token="`+id+`"`) || !strings.Contains(page, "leaver") ||
		!strings.Contains(page, `action="/tokens/`+id+`/revoke"`) || !strings.Contains(page, `data-calendar-token="1"`) {
		t.Fatalf("tokens page: %d\n%s", resp.StatusCode, page)
	}
	for _, s := range []string{e.admin, e.viewer, secret, feed} {
		if strings.Contains(page, strings.SplitN(s, "_", 2)[1]) {
			t.Fatal("the tokens page shows a secret")
		}
	}
	// A form without the session's CSRF token is refused; nothing changes.
	if resp, _ := e.post(admin, "/tokens/"+id+"/revoke", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged revoke: %d, want 403", resp.StatusCode)
	}
	if _, err := e.store.AuthenticateToken(ctx, secret); err != nil {
		t.Fatalf("a refused form revoked the token: %v", err)
	}
	resp, _ = e.post(admin, "/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tokens" {
		t.Fatalf("revoke: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := e.store.AuthenticateToken(ctx, secret); !errors.Is(err, store.ErrTokenRevoked) {
		t.Fatalf("token after revoke on the page: %v", err)
	}
	_, page = e.get(admin, "/tokens")
	if !strings.Contains(page, "Revoked token "+id) || strings.Contains(page, `action="/tokens/`+id+`/revoke"`) {
		t.Fatalf("after revoke the page lacks the flash or still offers revoke:\n%s", page)
	}
	resp, _ = e.post(admin, "/tokens/calendar/1/revoke", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke calendar token: %d", resp.StatusCode)
	}
	if _, err := e.store.AuthenticateCalendarToken(ctx, feed); !errors.Is(err, store.ErrTokenRevoked) {
		t.Fatalf("calendar token after revoke on the page: %v", err)
	}
	resp, _ = e.post(admin, "/tokens/999/revoke", url.Values{"csrf": {csrf}})
	if _, page = e.get(admin, "/tokens"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(page, `There is no token &#34;999&#34;`) {
		t.Fatalf("revoke unknown: %d\n%s", resp.StatusCode, page)
	}
}
