package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/actionrecorder"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/templates"
	"github.com/jordan-wright/email"
)

// bearerGet calls path with the API token and returns status and body.
func (e *dashEnv) bearerGet(path, token string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDevOutbox(t *testing.T) {
	catcher, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = catcher.Close(context.Background()) })
	e := newDashEnvWith(t, func(d *Deps) { d.Outbox = catcher })

	// Nothing caught yet: an empty list, not null.
	if code, body := e.bearerGet("/dev/outbox", e.admin); code != 200 || strings.TrimSpace(body) != `{"messages":[]}` {
		t.Fatalf("empty outbox: %d %s", code, body)
	}

	// A customer notice as activities/notify sends it, over real SMTP.
	aware := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	notice, err := templates.RenderNotice(templates.NoticeInput{
		Incident: &breach.Status{ID: "BR-7K3F9Q", Title: "CRM export on a public bucket",
			Summary: "A CRM export was stored in a publicly readable bucket.",
			Facts:   breach.Facts{AwareAt: aware, DataCategories: []string{"contact"}},
			NoticeTexts: map[string]breach.NoticeText{"en": {WhatHappened: "A CRM export was stored in a publicly readable bucket.",
				WhatWeAreDoing: "We closed the bucket."}}},
		Org:    templates.Organisation{Name: "Example Org", Email: "security@localhost"},
		Locale: "en", Name: "Dora Datenschutz", GeneratedAt: aware,
	})
	if err != nil {
		t.Fatal(err)
	}
	send := func(to, subject, text string, notice bool) {
		t.Helper()
		m := email.NewEmail()
		m.From, m.To, m.Subject, m.Text = "security@localhost", []string{to}, subject, []byte(text)
		m.Headers = textproto.MIMEHeader{}
		if notice {
			m.Headers.Set("Content-Language", "en")
		}
		if err := m.Send(catcher.Addr(), nil); err != nil {
			t.Fatal(err)
		}
	}
	send("dora@example.de", notice.Subject, notice.Text, true)
	send("legal@localhost", "GDPR Art. 33: 30 minutes left", "Reply to legal@localhost or security@localhost.\nBR-7K3F9Q is due soon.\n", false)

	code, body := e.bearerGet("/dev/outbox", e.admin)
	var out struct {
		Messages []mailcatcher.Message `json:"messages"`
	}
	if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil || len(out.Messages) != 2 {
		t.Fatalf("outbox: %d %v %s", code, err, body)
	}
	if strings.Contains(body, "dora@") || strings.Contains(body, "Dora") || !strings.Contains(body, "d…@example.de") {
		t.Fatalf("outbox JSON shows a customer:\n%s", body)
	}

	browser := e.browser()
	e.signIn(browser, e.admin)
	resp, page := e.get(browser, "/outbox")
	if resp.StatusCode != 200 {
		t.Fatalf("outbox page: %d", resp.StatusCode)
	}
	for _, want := range []string{"What Happened", "publicly readable bucket", "d…@example.de", "customer&#39;s name hidden", "BR-7K3F9Q is due soon", "l…@localhost or security@localhost"} {
		if !strings.Contains(page, want) {
			t.Errorf("outbox page lacks %q", want)
		}
	}
	for _, never := range []string{"dora@example.de", "Dora", "Datenschutz", "legal@localhost"} {
		if strings.Contains(page, never) {
			t.Errorf("outbox page shows %q", never)
		}
	}
}

// TestDevActions: the dev recorder's calls are listed at GET /dev/actions
// and on the dashboard's outbox page, next to the mail.
func TestDevActions(t *testing.T) {
	catcher, err := mailcatcher.Start("127.0.0.1:0", 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = catcher.Close(context.Background()) })
	secret := []byte("dev-webhook-secret-0123")
	rec, err := actionrecorder.Start("127.0.0.1:0", secret, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close(context.Background()) })
	e := newDashEnvWith(t, func(d *Deps) { d.Outbox, d.Actions = catcher, rec })

	if code, body := e.bearerGet("/dev/actions", e.admin); code != 200 || strings.TrimSpace(body) != `{"actions":[]}` {
		t.Fatalf("no actions yet: %d %s", code, body)
	}
	body := `{"delivery_id":"d-77","incident_id":"BR-7K3F9Q","step":"disable-accounts","action":"disable-account","requested_by":"system","params":{}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", rec.URL("disable-account"), strings.NewReader(body))
	req.Header.Set(activities.HeaderTimestamp, ts)
	req.Header.Set(activities.HeaderSignature, activities.Sign(secret, ts, []byte(body)))
	req.Header.Set(activities.HeaderDelivery, "d-77")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("signed call: %v %v", resp, err)
	}
	resp.Body.Close()

	code, list := e.bearerGet("/dev/actions", e.admin)
	var got struct{ Actions []actionrecorder.Call }
	if err := json.Unmarshal([]byte(list), &got); code != 200 || err != nil || len(got.Actions) != 1 || got.Actions[0].Step != "disable-accounts" {
		t.Fatalf("/dev/actions: %d %s", code, list)
	}
	if code, _ := e.bearerGet("/dev/actions", e.viewer); code != http.StatusForbidden {
		t.Errorf("viewer reads /dev/actions: %d, want 403", code)
	}
	browser := e.browser()
	e.signIn(browser, e.admin)
	_, page := e.get(browser, "/outbox")
	if row := rowOf(page, `data-delivery="d-77"`); !strings.Contains(row, "disable-account") || !strings.Contains(row, "BR-7K3F9Q") {
		t.Errorf("outbox page does not list the recorded action:\n%s", page)
	}
}
