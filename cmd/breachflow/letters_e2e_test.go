package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/emersion/go-smtp"
)

const lettersPlaybook = `id: letters-check
version: 1
title: Letters check
description: A review, then the customer notices.
steps:
  - id: review
    title: Review the facts
    kind: task
    owner: responder
  - id: customer-notices
    title: Send customer notices
    kind: customer_notices
    owner: responder
    after: [review]
`

// TestLettersEndToEnd runs the postal channel on the dev stack: customers
// without email and one whose email is refused for good (550 from the
// mail catcher) get letters, exactly those; an address without a postal
// code is reported and the batch goes on; the PDF and manifest need a
// second person's access grant, and the PDF (read back with pdftotext)
// holds the right customers in en and zh-CN; legal records the printer's
// reference, one letter comes back; the delivery report and the audit
// chain count it all, and no name or address reaches the audit chain;
// legal's substitute notice covers exactly the Californians nobody reached.
func TestLettersEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing (Debian poppler-utils)")
		}
		t.Skip("pdftotext is missing: apt-get install poppler-utils")
	}
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "letters-check.yaml"), []byte(lettersPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := devConfig(t, t.TempDir())
	cfg.PlaybookDir = pbDir
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := startDev(sctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	if _, err := os.Stat(cfg.LetterFontCJK); err != nil {
		t.Skipf("letter fonts missing (apt-get install fonts-droid-fallback): %v", err)
	}
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	legal, _, _ := stack.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)
	viewer, _, _ := stack.store.CreateToken(ctx, "vic-viewer", breach.RoleViewer)

	code, inc := c.do("POST", "/v1/incidents", responder, map[string]any{"playbook": "letters-check", "title": "Order export leaked",
		"severity": "high", "jurisdictions": []string{"US-CA", "CN"}, "data_categories": []string{"contact"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	// E1 is reached by email; E2's mailbox refuses for good; N1 (US) and
	// N2 (China) have no email; N3 has neither email nor address; N4's
	// address has no postal code.
	const upload = "external_id,name,email,locale,country,subdivision,address_line1,city,address_region,postal_code\n" +
		"E1,Erin Email,erin@example.com,en,US,US-CA,1 Ok St,Fresno,,93650\n" +
		"E2,Bob Bounce,bob@example.com,en,US,US-CA,2 Bounce Ave,San Jose,,95112\n" +
		"N1,Nora Nomail,,en,US,US-CA,3 Paper Rd,Oakland,,94607\n" +
		"N2,王小明,,zh-CN,CN,,朝阳区建国路88号,北京市,北京,100022\n" +
		"N3,Ned Nowhere,,en,US,US-CA,,,,\n" +
		"N4,Zoe Zipless,,en,US,US-CA,4 Lost Ln,Sacramento,,\n"
	if code, body := c.do("POST", base+"/subjects", responder, upload, map[string]string{"Content-Type": "text/csv"}); code != 200 || body["inserted"] != 6.0 {
		t.Fatalf("import: %d %v", code, body)
	}
	leaked := 0
	subjectID := map[string]int64{}
	ids, err := stack.store.ListSubjectIDs(ctx, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := stack.store.GetSubjects(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		subjectID[r.ExternalID] = r.ID
		if strings.Contains(string(r.AddressSealed), "Paper") || strings.Contains(string(r.AddressSealed), "朝阳") {
			leaked++
		}
	}
	if leaked != 0 {
		t.Fatalf("%d addresses stored in the clear", leaked)
	}
	for locale, body := range map[string]map[string]any{
		"en":    {"what_happened": "An order export was readable by anyone with its link.", "what_we_are_doing": "We removed the link and reviewed every access."},
		"zh-CN": {"what_happened": "一份订单导出文件可被任何持有链接的人读取。", "what_we_are_doing": "我们已删除该链接并审查了每一次访问。"},
	} {
		if code, out := c.do("PUT", base+"/notices/texts/"+locale, legal, body, nil); code != 200 {
			t.Fatalf("texts %s: %d %v", locale, code, out)
		}
	}
	stack.mail.Refuse(func(rcpt string) error {
		if rcpt == "bob@example.com" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user " + rcpt}
		}
		return nil
	})
	if code, body := c.do("POST", base+"/steps/review/complete", responder, map[string]any{"note": "ok"}, nil); code != 200 {
		t.Fatalf("complete review: %d %v", code, body)
	}
	// The email run ends, but the step waits for the letters.
	eventually(t, 90*time.Second, "the run waits for letters", func() bool {
		_, st := c.do("GET", base, viewer, nil, nil)
		return strings.Contains(fmt.Sprint(st["timeline"]), "4 customers email could not reach wait for a letter")
	})
	if s := c.stepState(viewer, id, "customer-notices"); s != "ready" {
		t.Fatalf("customer-notices = %s while 4 customers wait for a letter, want ready", s)
	}

	// Before anyone has a grant or a batch: four customers wait.
	if code, out := c.do("GET", base+"/letters", legal, nil, nil); code != 200 || out["waiting"] != 4.0 {
		t.Fatalf("letters before a batch: %d %v, want 4 waiting (E2, N1, N2, N4)", code, out)
	}
	if code, _ := c.do("POST", base+"/letters", viewer, nil, nil); code != 403 {
		t.Fatalf("viewer generating letters: %d, want 403", code)
	}
	code, gen := c.do("POST", base+"/letters", responder, nil, nil)
	if code != 201 {
		t.Fatalf("generate: %d %v", code, gen)
	}
	batch := gen["batch"].(map[string]any)
	un := gen["unprintable"].([]any)
	if batch["letters"] != 3.0 || batch["unprintable"] != 1.0 || len(un) != 1 ||
		un[0].(map[string]any)["subject_id"] != float64(subjectID["N4"]) || un[0].(map[string]any)["reason"] != "no postal code" {
		t.Fatalf("batch = %v, unprintable = %v; want 3 letters and N4 (subject %d) without a postal code", batch, un, subjectID["N4"])
	}
	if code, _ := c.do("POST", base+"/letters", responder, nil, nil); code != 409 {
		t.Fatalf("a second batch with nobody waiting: %d, want 409", code)
	}
	batchPath := fmt.Sprintf("%s/letters/%v", base, batch["id"])
	get := func(path, token string) (int, []byte, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header.Get("Content-Type")
	}
	// Names and addresses: two-person control, as for the call list.
	if code, body, _ := get(batchPath+"/letters.pdf", legal); code != 403 || !strings.Contains(string(body), "needs a second person's approval") {
		t.Fatalf("PDF without a grant: %d %s, want 403", code, body)
	}
	code, grant := c.do("POST", base+"/grants", legal, map[string]any{"reason": "hand letters to the printer", "duration": "1h"}, nil)
	if code != 201 {
		t.Fatalf("grant: %d %v", code, grant)
	}
	approver, _, _ := stack.store.CreateToken(ctx, "lars-legal", breach.RoleLegal)
	if code, out := c.do("POST", fmt.Sprintf("%s/grants/%v/approve", base, grant["id"]), approver, nil, nil); code != 200 {
		t.Fatalf("approve grant: %d %v", code, out)
	}
	code, pdf, ct := get(batchPath+"/letters.pdf", legal)
	if code != 200 || ct != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("PDF: %d %s %.40q", code, ct, pdf)
	}
	file := filepath.Join(t.TempDir(), "batch.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"Bob Bounce", "Nora Nomail", "王小明", "朝阳区建国路88号", "Notice of Data Breach", "数据泄露通知", "3 Paper Rd"} {
		if !strings.Contains(text, want) {
			t.Errorf("the batch PDF lacks %q", want)
		}
	}
	for _, not := range []string{"Erin Email", "Ned Nowhere", "Zoe Zipless"} {
		if strings.Contains(text, not) {
			t.Errorf("the batch PDF has a letter to %s, who needs none or cannot get one", not)
		}
	}
	code, man, ct := get(batchPath+"/manifest.csv", legal)
	if code != 200 || !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("manifest: %d %s", code, ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(man))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("manifest rows = %d (%v):\n%s", len(rows), err, man)
	}
	names := map[string]string{}
	for _, r := range rows[1:] {
		names[r[5]] = r[3] // name → paper
	}
	if names["Bob Bounce"] != "Letter" || names["Nora Nomail"] != "Letter" || names["王小明"] != "A4" {
		t.Errorf("manifest papers = %v, want Letter for the US, A4 for China", names)
	}

	// Legal records the handoff; then one letter comes back.
	if code, _ := c.do("POST", batchPath+"/printed", responder, map[string]any{"reference": "PRINT-1"}, nil); code != 403 {
		t.Fatalf("responder recording the printer: %d, want 403", code)
	}
	if code, out := c.do("POST", batchPath+"/printed", legal, map[string]any{}, nil); code != 422 {
		t.Fatalf("printed without a reference: %d %v, want 422", code, out)
	}
	if code, out := c.do("POST", batchPath+"/printed", legal, map[string]any{"reference": "MAILHOUSE-2026-118"}, nil); code != 200 ||
		out["batch"].(map[string]any)["reference"] != "MAILHOUSE-2026-118" {
		t.Fatalf("printed: %d %v", code, out)
	}
	// Every customer is now sent, lettered or failed with a reason.
	eventually(t, 60*time.Second, "customer-notices done after the printing", func() bool {
		return c.stepState(viewer, id, "customer-notices") == "done"
	})
	ret := func(token string, sid int64, reason string) (int, map[string]any) {
		return c.do("POST", base+"/letters/returns", token, map[string]any{"subject_id": sid, "reason": reason}, nil)
	}
	if code, out := ret(responder, subjectID["N1"], ""); code != 422 {
		t.Fatalf("return without a reason: %d %v, want 422", code, out)
	}
	if code, out := ret(responder, subjectID["N3"], "moved"); code != 404 {
		t.Fatalf("return of a letter never sent: %d %v, want 404", code, out)
	}
	if code, out := ret(responder, subjectID["N1"], "addressee unknown"); code != 200 {
		t.Fatalf("return: %d %v", code, out)
	}
	_, rep := c.do("GET", base+"/notices/report", viewer, nil, nil)
	letters := rep["letters"].(map[string]any)["total"].(map[string]any)
	email := rep["delivery"].(map[string]any)["total"].(map[string]any)
	if letters["sent"] != 2.0 || letters["failed"] != 2.0 || letters["pending"] != 0.0 || letters["total"] != 4.0 {
		t.Errorf("letters in the report = %v, want 2 sent (E2, N2), 2 failed (N4 unprintable, N1 returned)", letters)
	}
	if email["sent"] != 1.0 || email["failed"] != 5.0 {
		t.Errorf("email in the report = %v, want 1 sent, 5 failed", email)
	}
	// Legal gives substitute notice to the Californians nobody reached:
	// N1 (letter returned), N3 (no address), N4 (unprintable); not E2,
	// whose letter was printed, nor N2 in China.
	if code, out := c.do("POST", base+"/substitute-notice", responder, map[string]any{"basis": "contact_info", "reason": "x"}, nil); code != 403 {
		t.Fatalf("responder deciding substitute notice: %d %v, want 403", code, out)
	}
	if code, out := c.do("POST", base+"/substitute-notice", legal, map[string]any{"basis": "count", "reason": "many"}, nil); code != 422 {
		t.Fatalf("count basis with 6 customers: %d %v, want 422", code, out)
	}
	code, sub := c.do("POST", base+"/substitute-notice", legal, map[string]any{"basis": "contact_info",
		"reason": "no usable email or address for these Californians", "jurisdictions": []string{"US-CA"}}, nil)
	if code != 200 || sub["covered"] != 3.0 {
		t.Fatalf("substitute notice: %d %v, want 3 covered", code, sub)
	}
	_, suppressed := c.do("GET", base+"/notices?status=suppressed", viewer, nil, nil)
	covered := map[float64]bool{}
	for _, n := range suppressed["notices"].([]any) {
		m := n.(map[string]any)
		if !strings.HasPrefix(m["last_error"].(string), "substitute notice (Cal. Civ. Code 1798.82(j)): ") {
			t.Errorf("suppressed notice without the decision as its reason: %v", m)
		}
		covered[m["subject_id"].(float64)] = true
	}
	for _, ext := range []string{"N1", "N3", "N4"} {
		if !covered[float64(subjectID[ext])] {
			t.Errorf("%s is not covered by the substitute notice: %v", ext, suppressed)
		}
	}
	code, texts := c.do("GET", base+"/substitute-notice?locale=zh-CN", legal, nil, nil)
	zh := fmt.Sprint(texts["texts"])
	if code != 200 || !strings.Contains(zh, "数据泄露通知") || !strings.Contains(zh, "一份订单导出文件可被任何持有链接的人读取") || strings.Contains(zh, "王小明") {
		t.Fatalf("zh-CN substitute texts: %d %s", code, zh)
	}
	_, rep = c.do("GET", base+"/notices/report", viewer, nil, nil)
	if email := rep["delivery"].(map[string]any)["total"].(map[string]any); email["sent"] != 1.0 || email["failed"] != 2.0 || email["suppressed"] != 3.0 {
		t.Errorf("email after the substitute notice = %v, want 1 sent, 2 failed (E2 lettered, N2), 3 substituted", email)
	}
	_, audit := c.do("GET", base+"/audit", viewer, nil, nil)
	trail := fmt.Sprint(audit)
	for _, want := range []string{"letters.generated", "letters.printed", "letters.returned", "contacts.read", "contacts.read_refused", "substitute_notice.decided"} {
		if !strings.Contains(trail, want) {
			t.Errorf("the audit chain lacks %s", want)
		}
	}
	for _, secret := range []string{"Nora", "王小明", "Paper Rd", "朝阳", "bob@example.com"} {
		if strings.Contains(trail, secret) {
			t.Errorf("the audit chain holds %q", secret)
		}
	}
	if chain, _ := audit["chain"].(map[string]any); chain["ok"] != true {
		t.Errorf("the audit chain does not verify after the letters' events: %v", chain)
	}
}
