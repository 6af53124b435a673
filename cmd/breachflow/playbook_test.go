package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/templates"
	"github.com/emersion/go-smtp"
	"github.com/jordan-wright/email"
)

// TestCustomerDataBreachThroughAPI drives the customer-data-breach playbook
// from launch to close through the HTTP API against the embedded Temporal
// server, then shows the audit chain verifying, and failing once a row is
// altered in the store.
func TestCustomerDataBreachThroughAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	started := time.Now()
	cfg := devConfig(t, t.TempDir())
	cfg.EncryptionKeys = replayKey // its history is saved for the replay test
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := startDev(sctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	legal, _, _ := stack.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)
	legal2, _, _ := stack.store.CreateToken(ctx, "li-legal", breach.RoleLegal)
	viewer, _, _ := stack.store.CreateToken(ctx, "vic-viewer", breach.RoleViewer)

	code, inc := c.do("POST", "/v1/incidents", responder, map[string]any{
		"playbook": "customer-data-breach", "title": "Support tool exposed tickets", "severity": "high",
		"aware_at": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"DE", "US-CA"},
		"data_categories": []string{"contact"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id

	stepState := func(step string) string { return c.stepState(viewer, id, step) }
	waitReady := func(step string) {
		t.Helper()
		eventually(t, 30*time.Second, step+" ready", func() bool { return stepState(step) == "ready" })
	}
	complete := func(token, step string, want int) map[string]any {
		t.Helper()
		code, body := c.do("POST", base+"/steps/"+step+"/complete", token, map[string]any{"note": "done: " + step}, nil)
		if code != want {
			t.Fatalf("complete %s: %d %v, want %d", step, code, body, want)
		}
		return body
	}

	waitReady("triage")
	if code, _ := c.do("POST", base+"/steps/triage/complete", viewer, map[string]any{}, nil); code != 403 {
		t.Fatalf("viewer completing a step: %d, want 403", code)
	}
	complete(legal, "triage", 403) // the step belongs to responders
	complete(responder, "contain-source", 409)
	complete(responder, "triage", 200)
	for _, s := range []string{"contain-source", "preserve-evidence"} {
		waitReady(s)
		complete(responder, s, 200)
	}
	waitReady("scope-impact")
	complete(responder, "scope-impact", 422) // needs the affected counts
	// The responder uploads the CRM export: 501 Californians, 2 Germans,
	// a duplicate and a bad row. The counts become the affected fact.
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision,tier\n")
	for i := 0; i < 501; i++ {
		fmt.Fprintf(&csv, "C%d,Customer %d,c%d@example.com,en,US,US-CA,low\n", i, i, i)
	}
	csv.WriteString("Z1,张伟,zhang@example.com,zh-CN,US,US-CA,low\n")
	csv.WriteString("D1,Dora,dora@example.de,de,DE,,high\nD2,\"=HYPERLINK(\"\"http://evil\"\")\",dirk@example.de,de,DE,,medium\n")
	csv.WriteString("C7,Customer 7 again,c7@example.com,en,US,US-CA,low\nX1,Bad,not-an-email,en,US,US-CA,low\n")
	upload := func(body, ct string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", c.base+base+"/subjects", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+responder)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := upload("external_id,email\nA,\xff\xfe@x.com\n", "text/csv"); code != 422 {
		t.Fatalf("non-UTF-8 upload: %d, want 422", code)
	}
	code, imported := upload(csv.String(), "text/csv")
	if code != 200 {
		t.Fatalf("import: %d %v", code, imported)
	}
	rep := imported["report"].(map[string]any)
	if imported["inserted"].(float64) != 504 || len(rep["rejected"].([]any)) != 1 || rep["duplicates"].(float64) != 1 {
		t.Fatalf("import report: inserted %v, %v", imported["inserted"], rep)
	}
	if !strings.Contains(fmt.Sprint(imported["obligations"]), "us-ca-ag") {
		t.Fatalf("501 Californians should bring the California AG duty: %v", imported["obligations"])
	}
	if code, again := upload(csv.String(), "text/csv"); code != 200 || again["inserted"].(float64) != 0 {
		t.Fatalf("re-upload: %d inserted %v, want 0 new subjects", code, again["inserted"])
	}
	_, st0 := c.do("GET", base, viewer, nil, nil)
	if aff := st0["facts"].(map[string]any)["affected"].(map[string]any); aff["US-CA"].(float64) != 502 || aff["DE"].(float64) != 2 {
		t.Fatalf("affected after import = %v", aff)
	}
	var leaked int
	db := stack.store.(interface{ DB() *sql.DB }).DB()
	if err := db.QueryRow(`SELECT count(*) FROM subjects WHERE CAST(email_sealed AS TEXT) LIKE '%example.com%' OR CAST(name_sealed AS TEXT) LIKE '%Customer%'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("plaintext in the subjects table: %d rows (%v)", leaked, err)
	}
	complete(responder, "scope-impact", 200)
	if code, _ := c.do("PATCH", base, responder, map[string]any{"risk": "high"}, nil); code != 403 {
		t.Fatalf("responder setting risk: %d, want 403", code)
	}
	if code, body := c.do("PATCH", base, legal, map[string]any{"risk": "high"}, nil); code != 200 {
		t.Fatalf("legal setting risk: %d %v", code, body)
	}
	waitReady("assess-risk")
	complete(legal, "assess-risk", 200)
	// Legal reads the notice each locale will receive before deciding:
	// the texts only legal can write are marked, never the English title.
	preview := func(locale string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", c.base+base+"/notices/preview?format=text&locale="+locale, nil)
		req.Header.Set("Authorization", "Bearer "+legal)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Language") != templates.NormalizeLocale(locale) {
			t.Fatalf("notice preview %s: %d %q", locale, resp.StatusCode, resp.Header.Get("Content-Language"))
		}
		return string(page), resp.Header.Get("Notice-Texts-Missing")
	}
	page, missing := preview("zh_CN")
	if !strings.Contains(page, "数据泄露通知") || strings.Contains(page, "Support tool exposed tickets") ||
		!strings.Contains(page, "[DRAFT: legal has not written what_happened for zh-CN yet]") || missing != "what_happened, what_we_are_doing" {
		t.Fatalf("zh-CN preview before legal's texts (missing %q):\n%s", missing, page)
	}
	texts := func(token, locale string, body map[string]any) (int, map[string]any) {
		return c.do("PUT", base+"/notices/texts/"+locale, token, body, nil)
	}
	enTexts := map[string]any{"what_happened": "Our support tool showed some customers' tickets to other customers.",
		"what_we_are_doing": "We took the tool offline and are reviewing every ticket it showed."}
	zhTexts := map[string]any{"what_happened": "我们的客服工具曾向部分客户显示了其他客户的工单。",
		"what_we_are_doing": "我们已将该工具下线，并正在逐一核查其显示过的工单。"}
	for _, tc := range []struct {
		token, locale string
		body          map[string]any
		want          int
	}{
		{viewer, "en", enTexts, 403},
		{responder, "en", enTexts, 403},
		{legal, "fr", enTexts, 422},
		{legal, "en", map[string]any{"what_happened": "only this"}, 422},
		{legal, "en", map[string]any{"what_happened": strings.Repeat("x", 4001), "what_we_are_doing": "y"}, 422},
		{legal, "en", enTexts, 200},
	} {
		if code, body := texts(tc.token, tc.locale, tc.body); code != tc.want {
			t.Fatalf("PUT texts %s: %d %v, want %d", tc.locale, code, body, tc.want)
		}
	}
	if page, missing := preview("en"); !strings.Contains(page, enTexts["what_happened"].(string)) || missing != "" {
		t.Fatalf("en preview lacks legal's text (missing %q):\n%s", missing, page)
	}
	waitReady("draft-notice")
	complete(responder, "draft-notice", 200)
	waitReady("approve-notice")
	if code, body := c.do("POST", base+"/steps/approve-notice/decide", legal, map[string]any{"decision": "reject", "reason": "add the DPO contact"}, map[string]string{"Idempotency-Key": "rej-1"}); code != 200 {
		t.Fatalf("reject: %d %v", code, body)
	}
	// A retried request with the same key is answered, not applied twice.
	if code, _ := c.do("POST", base+"/steps/approve-notice/decide", legal, map[string]any{"decision": "reject", "reason": "add the DPO contact"}, map[string]string{"Idempotency-Key": "rej-1"}); code != 200 {
		t.Fatalf("repeated reject with the same key: %d, want 200", code)
	}
	waitReady("draft-notice")
	complete(responder, "draft-notice", 200)
	waitReady("approve-notice")
	if code, body := c.do("POST", base+"/steps/approve-notice/decide", legal, map[string]any{"decision": "approve"}, nil); code != 200 {
		t.Fatalf("approve: %d %v", code, body)
	}
	// Two-person control: one legal approval leaves the notice waiting and
	// says who is still needed; the same person again is refused.
	_, st := c.do("GET", base, viewer, nil, nil)
	approval := stepOf(t, st, "approve-notice")
	approvals, _ := approval["approvals"].([]any)
	needs, _ := approval["needs"].(map[string]any)
	if approval["state"] != "ready" || len(approvals) != 1 || approvals[0].(map[string]any)["by"] != "lena-legal" ||
		needs["count"] != 1.0 || fmt.Sprint(needs["roles"]) != "[legal]" || stepState("customer-notices") != "pending" {
		t.Fatalf("after one legal approval: %v; want ready, lena's approval, 1 more legal needed", approval)
	}
	if code, body := c.do("POST", base+"/steps/approve-notice/decide", legal, map[string]any{"decision": "approve"}, nil); code != 409 ||
		!strings.Contains(fmt.Sprint(body["detail"]), "already approved by lena-legal; needs a second approver") {
		t.Fatalf("the same person approving twice: %d %v, want 409 naming the second approver", code, body)
	}
	if code, body := c.do("POST", base+"/steps/approve-notice/decide", legal2, map[string]any{"decision": "approve"}, nil); code != 200 {
		t.Fatalf("second legal approval: %d %v", code, body)
	}
	if s := stepState("approve-notice"); s != "done" {
		t.Fatalf("approve-notice = %s after two distinct legal approvals, want done", s)
	}
	if code, _ := c.do("POST", base+"/steps/approve-notice/decide", legal, map[string]any{"decision": "approve"}, nil); code != 409 {
		t.Fatalf("second decision: %d, want 409", code)
	}
	// One personal call per high-tier customer (Dora); the last one done
	// completes the outreach step and releases the mass notice.
	waitReady("high-tier-outreach")
	// Dora's contact is key-account data: reading the call list needs a
	// second person's approval of the responder's access grant.
	if code, body := c.do("GET", base+"/outreach", responder, nil, nil); code != 403 ||
		!strings.Contains(fmt.Sprint(body["detail"]), "needs a second person's approval of an access grant") {
		t.Fatalf("call list without a grant: %d %v, want 403", code, body)
	}
	code, grant := c.do("POST", base+"/grants", responder, map[string]any{"reason": "account managers call Dora", "duration": "1h"}, nil)
	if code != 201 {
		t.Fatalf("grant request: %d %v", code, grant)
	}
	approvePath := fmt.Sprintf("%s/grants/%v/approve", base, grant["id"])
	if code, _ := c.do("POST", approvePath, legal, nil, nil); code != 200 {
		t.Fatalf("grant approval by legal: %d", code)
	}
	var tasks []any
	eventually(t, 30*time.Second, "outreach tasks opened", func() bool {
		_, out := c.do("GET", base+"/outreach", responder, nil, nil)
		tasks, _ = out["tasks"].([]any)
		return len(tasks) > 0
	})
	task := tasks[0].(map[string]any)
	if len(tasks) != 1 || task["email"] != "dora@example.de" || task["status"] != "open" {
		t.Fatalf("outreach tasks = %v, want one open call to Dora", tasks)
	}
	if code, _ := c.do("GET", base+"/outreach", viewer, nil, nil); code != 403 {
		t.Fatalf("viewer reading the call list: %d, want 403", code)
	}
	// One mailbox is full for good (550) during the send.
	stack.mail.Refuse(func(rcpt string) error {
		if rcpt == "c42@example.com" {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "mailbox " + rcpt + " full"}
		}
		return nil
	})
	taskPath := fmt.Sprintf("%s/outreach/%d/done", base, int64(task["id"].(float64)))
	code, done := c.do("POST", taskPath, responder, map[string]any{"note": "called, talking points given"}, nil)
	if code != 200 || done["step_completed"] != true || done["open"].(float64) != 0 {
		t.Fatalf("outreach done: %d %v", code, done)
	}
	if stepState("high-tier-outreach") != "done" {
		t.Fatal("the last call did not complete the outreach step")
	}
	// The step's run is refused while the Chinese-speaking customer's
	// texts are not written, and nothing goes to anyone.
	const zhMissing = "zh-CN: what_happened and what_we_are_doing are not written (1 customer)"
	eventually(t, 30*time.Second, "automatic run refused", func() bool {
		_, st := c.do("GET", base, viewer, nil, nil)
		return strings.Contains(fmt.Sprint(st["timeline"]), "notices.refused") && strings.Contains(fmt.Sprint(st["timeline"]), zhMissing)
	})
	if code, body := c.do("POST", base+"/notices/send", responder, nil, nil); code != 409 || !strings.Contains(fmt.Sprint(body["detail"]), zhMissing) {
		t.Fatalf("send without zh-CN texts: %d %v, want 409 naming zh-CN", code, body)
	}
	for _, m := range stack.mail.All() {
		if strings.HasPrefix(m.MessageID, "<"+id+".customer.") {
			t.Fatalf("customer notice %s went out before every locale's texts were written", m.MessageID)
		}
	}
	if code, body := texts(legal, "zh-CN", zhTexts); code != 200 {
		t.Fatalf("PUT zh-CN texts: %d %v", code, body)
	}
	if page, _ := preview("zh-CN"); !strings.Contains(page, zhTexts["what_happened"].(string)) {
		t.Fatalf("zh-CN preview lacks legal's text:\n%s", page)
	}
	// The wording changed after its approval, so it needs approving again
	// (two legal approvals of the new version) before anything is sent.
	if code, body := c.do("POST", base+"/notices/send", responder, nil, nil); code != 409 {
		t.Fatalf("send of a wording changed after approval: %d %v, want 409", code, body)
	}
	waitReady("approve-notice")
	for _, who := range []string{legal, legal2} {
		if code, body := c.do("POST", base+"/steps/approve-notice/decide", who, map[string]any{"decision": "approve"}, nil); code != 200 {
			t.Fatalf("approval of the new wording: %d %v", code, body)
		}
	}
	if code, body := c.do("POST", base+"/notices/send", responder, nil, nil); code != 202 {
		t.Fatalf("send with every locale's texts: %d %v", code, body)
	}
	// The playbook offers its US customers credit monitoring: the send
	// waits until legal's code pool covers all 502, then goes on by itself.
	eventually(t, 30*time.Second, "the send to wait for remedy codes", func() bool {
		_, st := c.do("GET", base, viewer, nil, nil)
		return strings.Contains(fmt.Sprint(st["timeline"]), "502 codes missing")
	})
	var pool strings.Builder
	pool.WriteString("code,product,enrollment_url,enroll_by\n")
	for i := range 510 {
		fmt.Fprintf(&pool, "CM-%04d,credit-monitoring,https://enroll.example-bureau.com/,%s\n", i, time.Now().AddDate(0, 6, 0).Format(time.DateOnly))
	}
	if code, body := c.do("POST", base+"/remedy-codes", legal, pool.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("remedy codes: %d %v", code, body)
	}
	// Approved and past outreach: the step sends every notice by itself,
	// once each, and completes when every notice is settled.
	eventually(t, 90*time.Second, "customer-notices completed by the send run", func() bool { return stepState("customer-notices") == "done" })
	countSent := func() int {
		_, sent := c.do("GET", base+"/notices?status=sent&limit=10000", viewer, nil, nil)
		return len(sent["notices"].([]any))
	}
	if n := countSent(); n != 503 {
		t.Fatalf("%d notices sent, want 503 (one bounced)", n)
	}
	_, failed := c.do("GET", base+"/notices?status=failed", viewer, nil, nil)
	fl := failed["notices"].([]any)
	if len(fl) != 1 || !strings.Contains(fl[0].(map[string]any)["last_error"].(string), "552") || strings.Contains(fl[0].(map[string]any)["last_error"].(string), "@") {
		t.Fatalf("failed notices = %v, want one with the 552 reply and no address", fl)
	}
	report := func() map[string]map[string]any {
		_, rep := c.do("GET", base+"/notices/report", viewer, nil, nil)
		rows := map[string]map[string]any{}
		for _, r := range rep["delivery"].(map[string]any)["jurisdictions"].([]any) {
			row := r.(map[string]any)
			rows[row["jurisdiction"].(string)] = row
		}
		return rows
	}
	if rows := report(); rows["US-CA"]["sent"] != 501.0 || rows["US-CA"]["failed"] != 1.0 || rows["DE"]["sent"] != 2.0 ||
		rows["US-CA"]["codes_assigned"] != 502.0 || rows["DE"]["codes_assigned"] != 0.0 {
		t.Fatalf("delivery report per jurisdiction = %v", rows)
	}
	// The run reached the Californians and the Germans: their duties to
	// the customers are filed by the system, the bounce counted in the note,
	// and they leave the board; no one has to record a filing for them.
	obligation := func(obID string) map[string]any {
		_, st := c.do("GET", base, viewer, nil, nil)
		for _, o := range st["obligations"].([]any) {
			if ob := o.(map[string]any); ob["id"] == obID {
				return ob
			}
		}
		return nil
	}
	eventually(t, 30*time.Second, "subjects duties filed by the system", func() bool {
		return obligation("us-ca-residents")["status"] == "filed" && obligation("gdpr-art34")["status"] == "filed"
	})
	firstRun := "notices/" + id + "/customer-notices"
	for obID, note := range map[string]string{
		"us-ca-residents": "customer notices US-CA: 501 sent, 1 failed: see GET /v1/incidents/" + id + "/notices?status=failed",
		"gdpr-art34":      "customer notices DE: 2 sent (delivery report",
	} {
		ob := obligation(obID)
		if ob["filed_by"] != "system" || ob["reference"] != firstRun || !strings.HasPrefix(fmt.Sprint(ob["filing_note"]), note) || ob["filed_at"] == nil {
			t.Fatalf("%s = %v, want filed by the system with reference %s and a note starting %q", obID, ob, firstRun, note)
		}
	}
	eventually(t, 30*time.Second, "settled duties off the board", func() bool {
		_, board := c.do("GET", "/v1/deadlines?incident="+id+"&status=pending,overdue", legal, nil, nil)
		listed := fmt.Sprint(board["deadlines"])
		return strings.Contains(listed, "gdpr-art33") && !strings.Contains(listed, "us-ca-residents") && !strings.Contains(listed, "gdpr-art34")
	})
	customerMail := func() map[string]int {
		seen := map[string]int{}
		for _, m := range stack.mail.All() {
			if strings.HasPrefix(m.MessageID, "<"+id+".customer.") {
				seen[m.MessageID]++
			}
		}
		return seen
	}
	onceEach := func(want int) {
		t.Helper()
		seen := customerMail()
		if len(seen) != want {
			t.Fatalf("the SMTP peer saw %d distinct customer Message-IDs, want %d", len(seen), want)
		}
		for mid, n := range seen {
			if n != 1 {
				t.Fatalf("%s delivered %d times", mid, n)
			}
		}
	}
	onceEach(503)
	// The customer whose name is a spreadsheet formula gets it as text:
	// escaped in the HTML part, as written in the plain-text part.
	var formula *email.Email
	for _, m := range stack.mail.All() {
		if len(m.To) == 1 && m.To[0] == "dirk@example.de" {
			if formula, err = email.NewEmailFromReader(bytes.NewReader(m.Raw)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if formula == nil || !strings.Contains(string(formula.HTML), "=HYPERLINK(&#34;http://evil&#34;)") ||
		!strings.Contains(string(formula.Text), `=HYPERLINK("http://evil")`) {
		t.Fatalf("the notice to the customer named by a formula is missing or does not carry the name as escaped text")
	}
	// The Chinese-speaking customer reads legal's Chinese text under 发生了什么.
	var zh *email.Email
	for _, m := range stack.mail.All() {
		if len(m.To) == 1 && m.To[0] == "zhang@example.com" {
			if zh, err = email.NewEmailFromReader(bytes.NewReader(m.Raw)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if zh == nil {
		t.Fatal("no notice reached the zh-CN customer")
	}
	if text := strings.ReplaceAll(string(zh.Text), "\r\n", "\n"); !strings.Contains(text, "发生了什么\n\n"+zhTexts["what_happened"].(string)) ||
		!strings.Contains(text, zhTexts["what_we_are_doing"].(string)) || strings.Contains(text, "Support tool exposed tickets") {
		t.Fatalf("the zh-CN notice does not carry legal's zh-CN texts:\n%s", text)
	}
	// Another run sends nothing new.
	if code, body := c.do("POST", base+"/notices/send", responder, nil, nil); code != 202 {
		t.Fatalf("another send run: %d %v", code, body)
	}
	runFinished := func(n int) func() bool {
		return func() bool {
			_, st := c.do("GET", base, viewer, nil, nil)
			runs, _ := st["notice_runs"].([]any)
			return len(runs) == n && runs[n-1].(map[string]any)["finished_at"] != nil
		}
	}
	eventually(t, 60*time.Second, "second run finished", runFinished(2))
	onceEach(503)
	// The mailbox is emptied: a retry sends the one failed notice, once.
	stack.mail.Refuse(nil)
	if code, body := c.do("POST", base+"/notices/retry", responder, nil, nil); code != 202 || body["moved"] != 1.0 {
		t.Fatalf("retry: %d %v", code, body)
	}
	eventually(t, 60*time.Second, "retry run finished", runFinished(3))
	onceEach(504)
	if n := countSent(); n != 504 {
		t.Fatalf("%d notices sent after the retry, want 504", n)
	}
	// The later runs leave the system's filing alone; legal amends it.
	if ob := obligation("us-ca-residents"); ob["reference"] != firstRun || ob["supplements"] != nil {
		t.Fatalf("us-ca-residents after the retry = %v, want the first run's filing untouched", ob)
	}
	if code, body := c.do("POST", base+"/obligations/us-ca-residents/file", legal, map[string]any{
		"reference": "notices/" + id + "/customer-notices-3", "note": "the bounced notice was delivered on retry", "supplement": true}, nil); code != 200 {
		t.Fatalf("supplement to the system's filing: %d %v", code, body)
	}
	if ob := obligation("us-ca-residents"); ob["filed_by"] != "system" || len(ob["supplements"].([]any)) != 1 {
		t.Fatalf("us-ca-residents after the supplement = %v", ob)
	}
	// The dev outbox lists the notices without giving out the addresses.
	if code, out := c.do("GET", "/dev/outbox", responder, nil, nil); code != 200 || strings.Contains(fmt.Sprint(out), "dora@example.de") ||
		!strings.Contains(fmt.Sprint(out), "d…@example.de") {
		t.Fatalf("dev outbox: %d, want the customers' addresses masked", code)
	}
	if code, _ := c.do("POST", base+"/notices/retry", responder, nil, nil); code != 409 {
		t.Fatalf("retry with nothing failed: %d, want 409", code)
	}
	if code, _ := c.do("GET", base+"/notices?status=bogus", viewer, nil, nil); code != 400 {
		t.Fatalf("bad status filter: %d, want 400", code)
	}
	if code, _ := c.do("POST", base+"/remediations", responder, map[string]any{"title": "Rotate the support tool's API keys", "owner": "it-ops"}, nil); code != 201 {
		t.Fatalf("add remediation: %d", code)
	}
	waitReady("remediation")
	complete(responder, "remediation", 200)

	code, blocked := c.do("POST", base+"/close", responder, map[string]any{"note": "too early"}, nil)
	if code != 409 || !strings.Contains(fmt.Sprint(blocked["blockers"]), "remediation R1") {
		t.Fatalf("early close: %d %v, want 409 listing the open remediation", code, blocked)
	}
	if code, _ := c.do("POST", base+"/remediations/R1/done", responder, map[string]any{"evidence": "keys rotated 14:02"}, nil); code != 200 {
		t.Fatalf("remediation done: %d", code)
	}
	_, st = c.do("GET", base, viewer, nil, nil)
	for _, o := range st["obligations"].([]any) {
		ob := o.(map[string]any)
		if ob["status"] == "filed" || ob["status"] == "waived" || ob["exempt"] == true {
			continue
		}
		obID := ob["id"].(string)
		if ob["recipient"] == "regulator" {
			code, body := c.do("POST", base+"/obligations/"+obID+"/file", legal, map[string]any{"reference": "REF-" + obID, "delay_reason": "test"}, nil)
			if code != 200 {
				t.Fatalf("file %s: %d %v", obID, code, body)
			}
		} else if ob["recipient"] == "subjects" {
			t.Fatalf("subjects duty %s is %s after every notice went out", obID, ob["status"])
		} else if code, body := c.do("POST", base+"/obligations/"+obID+"/waive", legal, map[string]any{"reason": "covered by the customer notice"}, nil); code != 200 {
			t.Fatalf("waive %s: %d %v", obID, code, body)
		}
	}
	eventually(t, 30*time.Second, "regulator-notices done by the filings", func() bool { return stepState("regulator-notices") == "done" })
	waitReady("post-incident-review")
	complete(responder, "post-incident-review", 200)
	code, closed := c.do("POST", base+"/close", responder, map[string]any{"note": "closed after review"}, nil)
	if code != 200 || closed["status"] != "closed" {
		t.Fatalf("close: %d %v", code, closed)
	}
	if code, _ := c.do("POST", base+"/steps/triage/complete", responder, map[string]any{}, nil); code != 409 {
		t.Fatalf("action on a closed incident: %d, want 409", code)
	}
	// A run whose notices settle the customers' duties, for the replay
	// test (written with BREACHFLOW_WRITE_HISTORIES=1).
	saveHistory(t, stack, id, "notices-settle-customer-data-breach")

	var audit map[string]any
	eventually(t, 30*time.Second, "audit of the close", func() bool {
		_, audit = c.do("GET", base+"/audit", viewer, nil, nil)
		return strings.Contains(fmt.Sprint(audit["events"]), "incident.closed")
	})
	chain := audit["chain"].(map[string]any)
	if chain["ok"] != true || chain["events"].(float64) < 30 {
		t.Fatalf("audit chain = %v", chain)
	}
	t.Logf("customer-data-breach closed through the API in %s with %v audit events", time.Since(started).Round(time.Millisecond), chain["events"])

	// An auditor's worst case: someone edits a row behind the application's back.
	db = stack.store.(interface{ DB() *sql.DB }).DB()
	if _, err := db.Exec(`DROP TRIGGER IF EXISTS audit_events_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_events SET actor = 'mallory' WHERE incident_id = ? AND seq = 3`, id); err != nil {
		t.Fatal(err)
	}
	_, audit = c.do("GET", base+"/audit", viewer, nil, nil)
	chain = audit["chain"].(map[string]any)
	if chain["ok"] != false || chain["broken_at"].(float64) != 3 {
		t.Fatalf("tampered chain = %v, want broken at 3", chain)
	}
}
