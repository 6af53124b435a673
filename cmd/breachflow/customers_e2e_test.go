package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/internal/slacktest"
	"github.com/breachflow/breachflow/store"
	"github.com/emersion/go-smtp"
	"github.com/jordan-wright/email"
)

// customersPlaybook offers every customer in the US and China a
// credit-monitoring code, and sends the notices once the facts are
// reviewed.
const customersPlaybook = `id: customers-check
version: 1
title: Customers check
description: A review, then the customer notices with a remedy code.
remedy:
  product: credit-monitoring
  jurisdictions: [US, CN]
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

// The channels a customer can end with (breach.Reach).
const (
	viaEmail      = "email"
	viaLetter     = "letter"
	viaSubstitute = "substitute"
	viaFailed     = "failed"
)

// e2eCustomer is one imported customer and the one channel the test
// expects to reach them by in the end.
type e2eCustomer struct {
	ext, name, email, locale, country, subdivision string
	line1, city, region, postal                    string
	want                                           string
}

// Customers picked out by index; the rest follow customerAt's pattern.
const (
	bounceUS      = 5  // email refused for good (550), US address: letter
	bounceCN      = 6  // email refused for good, Chinese address: letter
	bounceNoAddr  = 7  // email refused for good, no address (US-NY): failed
	unprintableUS = 9  // no email, an address without postal code, fixed by a re-import: letter
	returnedUS    = 40 // no email, a letter that comes back: substitute
)

// customerAt is customer i of the 2,000: every 40th from 0 has no email
// and a US address (a letter), from 20 a Chinese one (a letter in
// zh-CN); from 10 neither email nor address in California (substitute
// notice), from 30 the same in China (failed: no substitute notice
// there); the others get email, in en in California (some with an
// address they will not need), in zh-CN in New York and in China.
func customerAt(i int) e2eCustomer {
	c := e2eCustomer{ext: fmt.Sprintf("C%04d", i), name: fmt.Sprintf("Customer %04d", i), email: fmt.Sprintf("c%04d@example.com", i),
		locale: "en", country: "US", subdivision: "US-CA", want: viaEmail}
	usAddr := func() { c.line1, c.city, c.postal = fmt.Sprintf("%d Paper Rd", i), "Oakland", "94607" }
	cnAddr := func() {
		c.locale, c.country, c.subdivision = "zh-CN", "CN", ""
		c.name = fmt.Sprintf("王小明%04d", i)
		c.line1, c.city, c.region, c.postal = fmt.Sprintf("朝阳区建国路%d号", i), "北京市", "北京", "100022"
	}
	switch {
	case i == bounceUS:
		usAddr()
		c.want = viaLetter
	case i == bounceCN:
		cnAddr()
		c.want = viaLetter
	case i == bounceNoAddr:
		c.subdivision, c.want = "US-NY", viaFailed
	case i == unprintableUS:
		usAddr()
		c.email, c.postal, c.want = "", "", viaLetter
	case i == returnedUS:
		usAddr()
		c.email, c.want = "", viaSubstitute
	case i%40 == 0:
		usAddr()
		c.email, c.want = "", viaLetter
	case i%40 == 20:
		cnAddr()
		c.email, c.want = "", viaLetter
	case i%40 == 10:
		c.email, c.want = "", viaSubstitute
	case i%40 == 30:
		cnAddr()
		c.email, c.line1, c.city, c.region, c.postal, c.want = "", "", "", "", "", viaFailed
	case i%4 == 1:
		c.locale, c.subdivision = "zh-CN", "US-NY"
	case i%8 == 3:
		cnAddr()
		c.want = viaEmail
	case i%8 == 2:
		usAddr()
	}
	return c
}

// TestCustomersEndToEnd is issue 17's "done when" in one run on the dev
// stack (embedded Temporal, SQLite, the SMTP catcher, the local Slack API
// server, HTTP): 2,000 customers in the US and China, some without email,
// some with a postal address, and a pool of 1,900 codes.
//
//   - A bad pool is refused by line; the send waits with "100 codes
//     missing" on the step, the timeline and in one Slack message, which a
//     recount of the same shortage does not repeat.
//   - An assigner killed half-way (SIGKILL) leaves its codes given once;
//     legal tops up in two goes (Slack hears of each shortage, then that
//     it is covered) and the notices go out.
//   - Email refused for good (550) leads to a letter where there is an
//     address; letters are generated (an unprintable address is reported
//     and the batch goes on), need a second person's grant, carry each
//     customer's own code (pdftotext), and a letter of each locale is drawn
//     (pdftoppm) and read back; legal records the printer; the customer
//     whose address could not be printed is imported again, fixed, and a
//     second batch holds their letter; one letter comes back.
//   - Reasons that quote an email address or the customer are refused and
//     write nothing; substitute notice covers the Californians nobody
//     reached.
//   - In the end every customer holds exactly one code, no code is held
//     twice, each has exactly one channel (email, letter, substitute
//     notice, or failed with a recorded reason) as designed, each code in
//     a mail or a letter is the store's, the notice page shows the right
//     code to the right token and nothing to a wrong one, the delivery
//     report and the regulator report count the channels, the audit
//     chain verifies and holds no customer's data, and no customer's data
//     reached Slack.
func TestCustomersEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	pdftotext, err1 := exec.LookPath("pdftotext")
	pdftoppm, err2 := exec.LookPath("pdftoppm")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext or pdftoppm is missing (Debian poppler-utils)")
		}
		t.Skip("pdftotext or pdftoppm is missing: apt-get install poppler-utils")
	}
	const customers, pool = 2000, 1900
	began := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "customers-check.yaml"), []byte(customersPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := devConfig(t, dir)
	cfg.PlaybookDir = pbDir
	fake := slacktest.New(t)
	cfg.SlackToken, cfg.SlackSigningKey, cfg.SlackAPIURL = "xoxb-test", slackSecret, fake.URL()
	if _, err := os.Stat(cfg.LetterFontCJK); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("letter fonts missing: %v", err)
		}
		t.Skipf("letter fonts missing (apt-get install fonts-droid-fallback): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	phase("the dev stack is up")
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token
	responder, _, _ := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	legal, _, _ := stack.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)
	viewer, _, _ := stack.store.CreateToken(ctx, "vic-viewer", breach.RoleViewer)

	code, inc := c.do("POST", "/v1/incidents", responder, map[string]any{"playbook": "customers-check", "title": "CRM export",
		"severity": "high", "aware_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"US-CA", "US-NY", "CN"},
		"data_categories": []string{"identity"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	var room slacktest.Channel
	eventually(t, time.Minute, "the incident room", func() bool {
		var ok bool
		room, ok = fake.ChannelByName("breach-" + strings.ToLower(id))
		return ok
	})
	phase("the incident room is made")
	for loc, txt := range map[string]map[string]string{
		"en":    {"what_happened": "A CRM export was public.", "what_we_are_doing": "We removed it.", "faq": "Is my card affected? No.", "contact": "Call 0800 123 456."},
		"zh-CN": {"what_happened": "一份客户数据导出文件曾被公开。", "what_we_are_doing": "我们已将其删除。", "faq": "我的银行卡受影响吗？不受影响。", "contact": "请致电 0800 123 456。"},
	} {
		if code, out := c.do("PUT", base+"/notices/texts/"+loc, legal, txt, nil); code != 200 {
			t.Fatalf("texts %s: %d %v", loc, code, out)
		}
	}

	// The customers, with addresses sealed at rest.
	var upload strings.Builder
	upload.WriteString("external_id,name,email,locale,country,subdivision,address_line1,city,address_region,postal_code\n")
	want := map[string]e2eCustomer{}
	for i := range customers {
		cu := customerAt(i)
		want[cu.ext] = cu
		fmt.Fprintf(&upload, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", cu.ext, cu.name, cu.email, cu.locale, cu.country, cu.subdivision,
			cu.line1, cu.city, cu.region, cu.postal)
	}
	if code, body := c.do("POST", base+"/subjects", responder, upload.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 || body["inserted"] != float64(customers) {
		t.Fatalf("import customers: %d %v", code, body)
	}
	ids, err := stack.store.ListSubjectIDs(ctx, id, 0, store.MaxSubjectPage)
	if err != nil || len(ids) != customers {
		t.Fatalf("subjects: %d %v", len(ids), err)
	}
	recs, err := stack.store.GetSubjects(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	extOf, sidOf := map[int64]string{}, map[string]int64{}
	for _, r := range recs {
		extOf[r.ID], sidOf[r.ExternalID] = r.ExternalID, r.ID
		if bytes.Contains(r.AddressSealed, []byte("Paper")) || bytes.Contains(r.AddressSealed, []byte("朝阳")) {
			t.Fatalf("subject %d's address is stored in the clear", r.ID)
		}
	}

	// A bad pool is refused whole, by line; then 1,900 codes.
	enrollBy := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	codesCSV := func(prefix string, from, n int) string {
		var b strings.Builder
		b.WriteString("code,product,enrollment_url,enroll_by\n")
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "%s-%05d,credit-monitoring,https://enroll.example-bureau.com/,%s\n", prefix, i, enrollBy)
		}
		return b.String()
	}
	csvHdr := map[string]string{"Content-Type": "text/csv"}
	bad := codesCSV("K", 0, 3) + "K-00001,credit-monitoring,https://enroll.example-bureau.com/," + enrollBy + "\n" +
		" ,credit-monitoring,https://enroll.example-bureau.com/," + enrollBy + "\n" +
		"K-77777,credit-monitoring,https://enroll.example-bureau.com/,2020-01-01\n"
	code, p := c.do("POST", base+"/remedy-codes", legal, bad, csvHdr)
	if code != 422 || !strings.Contains(fmt.Sprint(p["errors"]), "line 5: code") || !strings.Contains(fmt.Sprint(p["errors"]), "line 6: code") ||
		!strings.Contains(fmt.Sprint(p["errors"]), "line 7: enroll_by") || !strings.Contains(fmt.Sprint(p["detail"]), "nothing was imported") {
		t.Fatalf("bad pool: %d %v", code, p)
	}
	if code, _ := c.do("POST", base+"/remedy-codes", admin, codesCSV("X", 0, 1), csvHdr); code != 200 {
		t.Fatalf("admin import: %d", code) // admin is above legal; with the 1,899 below the pool is 1,900
	}
	if code, _ := c.do("POST", base+"/remedy-codes", admin, codesCSV("X", 0, 1), csvHdr); code != 422 {
		t.Fatalf("a code already in the pool: %d, want 422", code)
	}
	if code, _ := c.do("POST", base+"/remedy-codes", responder, codesCSV("Y", 0, 1), csvHdr); code != 403 {
		t.Fatalf("a responder importing codes: %d, want 403", code)
	}
	resp, err := http.Post(c.base+base+"/remedy-codes", "text/csv", strings.NewReader(codesCSV("Y", 0, 1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("import without a token: %d", resp.StatusCode)
	}
	if code, body := c.do("POST", base+"/remedy-codes", legal, codesCSV("K", 1, pool-1), csvHdr); code != 200 || body["added"] != float64(pool-1) {
		t.Fatalf("import pool: %d %v", code, body)
	}

	// Two mailboxes refuse for good; the review is done and the send starts.
	stack.mail.Refuse(func(rcpt string) error {
		for _, i := range []int{bounceUS, bounceCN, bounceNoAddr} {
			if rcpt == customerAt(i).email {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user " + rcpt}
			}
		}
		return nil
	})
	if code, body := c.do("POST", base+"/steps/review/complete", responder, map[string]any{"note": "ok"}, nil); code != 200 {
		t.Fatalf("complete review: %d %v", code, body)
	}

	// The send waits: 100 codes missing, on the step, the timeline and
	// in one message of the room; nothing is sent.
	waitingFor := func(prefix string) {
		t.Helper()
		var waiting string
		eventually(t, time.Minute, "the send to wait with "+prefix, func() bool {
			_, st := c.do("GET", base, legal, nil, nil)
			waiting = ""
			for _, s := range st["steps"].([]any) {
				if s.(map[string]any)["id"] == "customer-notices" {
					waiting, _ = s.(map[string]any)["waiting"].(string)
				}
			}
			return strings.HasPrefix(waiting, prefix)
		})
	}
	waitingFor("100 codes missing")
	phase("the send waits for codes")
	if _, st := c.do("GET", base, legal, nil, nil); !strings.Contains(fmt.Sprint(st["timeline"]), "100 codes missing") {
		t.Errorf("the timeline does not say 100 codes missing")
	}
	_, counts := c.do("GET", base+"/remedy-codes", legal, nil, nil)
	if cov := counts["coverage"].(map[string]any); cov["missing"] != 100.0 || cov["in_scope"] != float64(customers) {
		t.Fatalf("coverage %v", cov)
	}
	// roomSays lists the room's messages about the pool, in order.
	roomSays := func() []string {
		var out []string
		for _, m := range fake.Messages(room.ID) {
			if strings.Contains(m.Text, "Remedy codes") {
				out = append(out, m.Text)
			}
		}
		return out
	}
	eventually(t, 30*time.Second, "the room to hear of the shortage", func() bool { return len(roomSays()) > 0 })
	if says := roomSays(); len(says) != 1 || !strings.Contains(says[0], "Remedy codes short") || !strings.Contains(says[0], "100 codes missing") {
		t.Fatalf("the room was told %q, want one message of 100 codes missing", says)
	}
	// Asking again finds the same shortage: the room is not told again.
	if code, body := c.do("POST", base+"/notices/send", responder, map[string]any{}, nil); code != 202 {
		t.Fatalf("send again: %d %v", code, body)
	}
	eventually(t, 30*time.Second, "the second count on the timeline", func() bool {
		_, st := c.do("GET", base, legal, nil, nil)
		return strings.Count(fmt.Sprint(st["timeline"]), "100 codes missing") >= 2
	})
	if sent := len(stack.mail.All()); sent != 0 {
		t.Fatalf("%d notices went out while codes were missing", sent)
	}

	// An assigner killed half-way (SIGKILL) leaves its codes given once.
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "BREACHFLOW_TEST_SUBPROCESS=assign", "BREACHFLOW_DATABASE_URL="+cfg.DevDatabaseURL(),
		"BREACHFLOW_TEST_INCIDENT="+id)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for pages := 0; pages < customers/remedyAssignPage/2 && lines.Scan(); {
		if strings.HasPrefix(lines.Text(), "page ") {
			pages++
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	before, err := stack.store.RemedyCodesFor(ctx, id, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < customers/2 || len(before) >= pool {
		t.Fatalf("the killed assigner gave %d codes; want it stopped half-way (stderr %s)", len(before), stderr.String())
	}
	t.Logf("the assigner was killed after giving %d codes", len(before))

	// Legal tops up short, then enough; the room hears of each.
	if code, body := c.do("POST", base+"/remedy-codes", legal, codesCSV("T", 0, 40), csvHdr); code != 200 {
		t.Fatalf("top up: %d %v", code, body)
	}
	waitingFor("60 codes missing")
	eventually(t, 30*time.Second, "the room to hear of 60 codes missing", func() bool { return len(roomSays()) == 2 })
	if code, body := c.do("POST", base+"/remedy-codes", legal, codesCSV("T", 40, customers-pool-40), csvHdr); code != 200 {
		t.Fatalf("top up: %d %v", code, body)
	}

	phase("legal topped up")
	// The email run ends, and the step waits for the letters.
	eventually(t, 4*time.Minute, "the run to wait for letters", func() bool {
		_, st := c.do("GET", base, viewer, nil, nil)
		return strings.Contains(fmt.Sprint(st["timeline"]), "103 customers email could not reach wait for a letter")
	})
	phase("the email run ended")
	if s := c.stepState(viewer, id, "customer-notices"); s != "ready" {
		t.Fatalf("customer-notices = %s while customers wait for a letter, want ready", s)
	}
	says := roomSays()
	if len(says) != 3 || !strings.Contains(says[1], "60 codes missing") || !strings.Contains(says[2], "Remedy codes covered") {
		t.Errorf("the room was told %q, want 100 missing, 60 missing, covered", says)
	}
	codes, err := stack.store.RemedyCodesFor(ctx, id, ids)
	if err != nil {
		t.Fatal(err)
	}
	for sid, b := range before {
		if codes[sid].ID != b.ID {
			t.Fatalf("subject %d held code %d before the top-up and %d after", sid, b.ID, codes[sid].ID)
		}
	}
	_, counts = c.do("GET", base+"/remedy-codes", legal, nil, nil)
	if pl := counts["pool"].(map[string]any); pl["total"] != float64(customers) || pl["assigned"] != float64(customers) || pl["free"] != 0.0 {
		t.Errorf("pool after the send: %v", pl)
	}
	kr, err := codec.ParseKeys(readFile(t, filepath.Join(dir, "encryption-keys")))
	if err != nil {
		t.Fatal(err)
	}
	codeOf := map[int64]string{}
	for sid, rc := range codes {
		if codeOf[sid], err = remedy.Open(rc, kr); err != nil {
			t.Fatal(err)
		}
	}

	// Every mail carries its customer's code, the store's.
	linkRE := regexp.MustCompile(`/n/([A-Za-z0-9_-]{43})`)
	mailed := map[int64]int{}
	pageLink := map[string]string{} // locale → the first link of it
	pageOf := map[string]int64{}
	for _, m := range stack.mail.All() {
		sid, ok := subjectOf(m.MessageID, id)
		if !ok {
			continue
		}
		mailed[sid]++
		e, err := email.NewEmailFromReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(e.Text), codeOf[sid]) || !strings.Contains(string(e.HTML), codeOf[sid]) {
			t.Fatalf("the email to subject %d does not carry its code %s:\n%s", sid, codeOf[sid], e.Text)
		}
		loc := want[extOf[sid]].locale
		if _, ok := pageLink[loc]; !ok {
			link := linkRE.FindStringSubmatch(string(e.Text))
			if link == nil {
				t.Fatalf("the %s email has no notice-page link:\n%s", loc, e.Text)
			}
			pageLink[loc], pageOf[loc] = link[1], sid
		}
	}

	phase("the mails are checked")
	// Letters: before the batch exists, 103 customers wait.
	if code, out := c.do("GET", base+"/letters", legal, nil, nil); code != 200 || out["waiting"] != 103.0 {
		t.Fatalf("letters before a batch: %d %v, want 103 waiting", code, out)
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
	if batch["letters"] != 102.0 || batch["unprintable"] != 1.0 || len(un) != 1 ||
		un[0].(map[string]any)["subject_id"] != float64(sidOf[customerAt(unprintableUS).ext]) || un[0].(map[string]any)["reason"] != "no postal code" {
		t.Fatalf("batch = %v, unprintable = %v; want 102 letters and C%04d without a postal code", batch, un, unprintableUS)
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
	pdfSums := []string{fmt.Sprintf("%x", sha256.Sum256(pdf))}
	pdfFile := filepath.Join(t.TempDir(), "batch.pdf")
	if err := os.WriteFile(pdfFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	code, man, ct := get(batchPath+"/manifest.csv", legal)
	if code != 200 || !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("manifest: %d %s", code, ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(man)).ReadAll()
	if err != nil || len(rows) != 103 {
		t.Fatalf("manifest rows = %d (%v)", len(rows), err)
	}
	textOut, err := exec.Command(pdftotext, "-enc", "UTF-8", pdfFile, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(string(textOut), "\f")
	lettered := map[int64]bool{}
	drawn := map[string]bool{}
	for _, r := range rows[1:] {
		ref, first, n, paper, locale, name := r[0], atoi(t, r[1]), atoi(t, r[2]), r[3], r[4], r[5]
		sid, err := strconv.ParseInt(ref[strings.LastIndex(ref, ".")+1:], 10, 64)
		if err != nil || !strings.HasPrefix(ref, id+".letter.") {
			t.Fatalf("manifest reference %q", ref)
		}
		cu := want[extOf[sid]]
		lettered[sid] = true
		if cu.want != viaLetter && cu.ext != customerAt(returnedUS).ext {
			t.Errorf("the batch has a letter to %s, who is to be reached by %s", cu.ext, cu.want)
		}
		if name != cu.name || locale != cu.locale {
			t.Errorf("manifest row %v is not %s (%s, %s)", r, cu.ext, cu.name, cu.locale)
		}
		if wantPaper := map[string]string{"US": "Letter", "CN": "A4"}[cu.country]; paper != wantPaper {
			t.Errorf("%s's letter is on %s paper, want %s", cu.ext, paper, wantPaper)
		}
		text := strings.Join(pages[first-1:first-1+n], "\n")
		for _, w := range []string{cu.name, codeOf[sid], cu.line1, map[string]string{"en": "Notice of Data Breach", "zh-CN": "数据泄露通知"}[cu.locale]} {
			if !strings.Contains(text, w) {
				t.Errorf("the letter to %s (pages %d–%d) lacks %q:\n%s", cu.ext, first, first+n-1, w, text)
			}
		}
		if drawn[locale] {
			continue
		}
		// One letter of each locale drawn, and its page read back.
		drawn[locale] = true
		img := filepath.Join(t.TempDir(), "letter")
		if err := exec.Command(pdftoppm, "-png", "-r", "60", "-f", strconv.Itoa(first), "-l", strconv.Itoa(first), "-singlefile", pdfFile, img).Run(); err != nil {
			t.Fatalf("pdftoppm: %v", err)
		}
		ink := inkShare(t, img+".png")
		t.Logf("the %s letter's first page is drawn with %.1f%% ink", locale, 100*ink)
		if ink < 0.01 {
			t.Errorf("the %s letter's first page is drawn with %.4f ink: blank?", locale, ink)
		}
		one, err := exec.Command(pdftotext, "-enc", "UTF-8", "-f", strconv.Itoa(first), "-l", strconv.Itoa(first), pdfFile, "-").Output()
		if err != nil || !strings.Contains(string(one), cu.name) || !strings.Contains(string(one), codeOf[sid]) {
			t.Errorf("the drawn %s page lacks %s's name or code %s (%v):\n%s", locale, cu.ext, codeOf[sid], err, one)
		}
	}
	if !drawn["en"] || !drawn["zh-CN"] {
		t.Errorf("letters drawn: %v, want en and zh-CN", drawn)
	}

	phase("the letters are checked")
	// Legal records the handoff; the step is done: everyone is settled.
	if code, _ := c.do("POST", batchPath+"/printed", responder, map[string]any{"reference": "PRINT-1"}, nil); code != 403 {
		t.Fatalf("responder recording the printer: %d, want 403", code)
	}
	if code, out := c.do("POST", batchPath+"/printed", legal, map[string]any{}, nil); code != 422 {
		t.Fatalf("printed without a reference: %d %v, want 422", code, out)
	}
	// The batch keeps the hash of the PDF that was downloaded and printed.
	if code, out := c.do("POST", batchPath+"/printed", legal, map[string]any{"reference": "MAILHOUSE-2026-118"}, nil); code != 200 ||
		out["batch"].(map[string]any)["reference"] != "MAILHOUSE-2026-118" || out["batch"].(map[string]any)["pdf_sha256"] != pdfSums[0] {
		t.Fatalf("printed: %d %v, want the PDF's SHA-256 %s", code, out, pdfSums[0])
	}
	eventually(t, 60*time.Second, "customer-notices done after the printing", func() bool {
		return c.stepState(viewer, id, "customer-notices") == "done"
	})

	phase("the step is done")

	// C0009's address is fixed by importing them again: a second batch
	// holds their letter, with their code.
	fixed := customerAt(unprintableUS)
	fixed.postal = "94607"
	reimport := "external_id,name,email,locale,country,subdivision,address_line1,city,address_region,postal_code\n" +
		fmt.Sprintf("%s,%s,,%s,%s,%s,%s,%s,,%s\n", fixed.ext, fixed.name, fixed.locale, fixed.country, fixed.subdivision, fixed.line1, fixed.city, fixed.postal)
	if code, body := c.do("POST", base+"/subjects", responder, reimport, map[string]string{"Content-Type": "text/csv"}); code != 200 || body["updated"] != 1.0 {
		t.Fatalf("re-import C%04d: %d %v", unprintableUS, code, body)
	}
	if code, out := c.do("GET", base+"/letters", legal, nil, nil); code != 200 || out["waiting"] != 1.0 {
		t.Fatalf("letters after the fixed import: %d %v, want 1 waiting", code, out)
	}
	code, gen = c.do("POST", base+"/letters", responder, nil, nil)
	if code != 201 || gen["batch"].(map[string]any)["letters"] != 1.0 || gen["batch"].(map[string]any)["unprintable"] != 0.0 {
		t.Fatalf("the second batch: %d %v", code, gen)
	}
	batch2 := fmt.Sprintf("%s/letters/%v", base, gen["batch"].(map[string]any)["id"])
	code, pdf, _ = get(batch2+"/letters.pdf", legal)
	if code != 200 {
		t.Fatalf("the second batch's PDF: %d", code)
	}
	pdfSums = append(pdfSums, fmt.Sprintf("%x", sha256.Sum256(pdf)))
	if err := os.WriteFile(pdfFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	textOut, err = exec.Command(pdftotext, "-enc", "UTF-8", pdfFile, "-").Output()
	if sid := sidOf[fixed.ext]; err != nil || !strings.Contains(string(textOut), fixed.name) || !strings.Contains(string(textOut), codeOf[sid]) ||
		!strings.Contains(string(textOut), "94607") {
		t.Fatalf("the second batch lacks %s's name, code %s or postal code (%v):\n%s", fixed.ext, codeOf[sid], err, textOut)
	}
	lettered[sidOf[fixed.ext]] = true
	if code, out := c.do("POST", batch2+"/printed", legal, map[string]any{"reference": "MAILHOUSE-2026-119"}, nil); code != 200 {
		t.Fatalf("second batch printed: %d %v", code, out)
	}
	phase("the fixed address got its letter")
	// One letter comes back. Reasons that quote the customer are refused
	// and write nothing.
	// audited counts the audit chain's events of action.
	audited := func(action string) int {
		_, a := c.do("GET", base+"/audit", viewer, nil, nil)
		evs, _ := a["events"].([]any)
		n := 0
		for _, e := range evs {
			if e.(map[string]any)["action"] == action {
				n++
			}
		}
		return n
	}
	ret := func(token string, sid int64, reason string) (int, map[string]any) {
		return c.do("POST", base+"/letters/returns", token, map[string]any{"subject_id": sid, "reason": reason}, nil)
	}
	returned := sidOf[customerAt(returnedUS).ext]
	if code, out := ret(responder, returned, ""); code != 422 {
		t.Fatalf("return without a reason: %d %v, want 422", code, out)
	}
	for _, reason := range []string{"forwarded to nora.lee@example.net", "addressee " + customerAt(returnedUS).name + " unknown",
		"no " + customerAt(returnedUS).line1 + " here"} {
		code, out := ret(responder, returned, reason)
		if code != 422 || !strings.Contains(fmt.Sprint(out["errors"]), "reason") || strings.Contains(fmt.Sprint(out), reason) {
			t.Errorf("return with the reason %q: %d %v, want 422 naming the field and not echoing it", reason, code, out)
		}
	}
	if code, out := ret(responder, sidOf[customerAt(10).ext], "moved"); code != 404 {
		t.Fatalf("return of a letter never sent: %d %v, want 404", code, out)
	}
	if n := audited("letters.returned"); n != 0 {
		t.Errorf("refused returns wrote %d audit events", n)
	}
	if code, out := ret(responder, returned, "addressee unknown"); code != 200 {
		t.Fatalf("return: %d %v", code, out)
	}

	// Substitute notice for the Californians nobody reached.
	if code, out := c.do("POST", base+"/substitute-notice", responder, map[string]any{"basis": "contact_info", "reason": "x"}, nil); code != 403 {
		t.Fatalf("responder deciding substitute notice: %d %v, want 403", code, out)
	}
	if code, out := c.do("POST", base+"/substitute-notice", legal, map[string]any{"basis": "count", "reason": "many"}, nil); code != 422 {
		t.Fatalf("count basis with 2,000 customers: %d %v, want 422", code, out)
	}
	if code, out := c.do("POST", base+"/substitute-notice", legal, map[string]any{"basis": "contact_info",
		"reason": "asked c0010@example.com, no answer", "jurisdictions": []string{"US-CA"}}, nil); code != 422 || !strings.Contains(fmt.Sprint(out["errors"]), "reason") {
		t.Fatalf("substitute notice with an email address in its reason: %d %v, want 422", code, out)
	}
	if _, sup := c.do("GET", base+"/notices?status=suppressed", viewer, nil, nil); len(sup["notices"].([]any)) != 0 {
		t.Fatalf("a refused substitute notice suppressed %d notices", len(sup["notices"].([]any)))
	}
	code, sub := c.do("POST", base+"/substitute-notice", legal, map[string]any{"basis": "contact_info",
		"reason": "no usable email or address for these Californians", "jurisdictions": []string{"US-CA"}}, nil)
	if code != 200 || sub["covered"] != 51.0 {
		t.Fatalf("substitute notice: %d %v, want 51 covered", code, sub)
	}
	code, texts := c.do("GET", base+"/substitute-notice?locale=zh-CN", legal, nil, nil)
	if zh := fmt.Sprint(texts["texts"]); code != 200 || !strings.Contains(zh, "数据泄露通知") || !strings.Contains(zh, "一份客户数据导出文件曾被公开") || strings.Contains(zh, "王小明") {
		t.Fatalf("zh-CN substitute texts: %d %s", code, zh)
	}

	// Every customer: exactly one code, no code twice, exactly one channel.
	seen := map[int64]int64{}
	for sid, rc := range codes {
		if other, dup := seen[rc.ID]; dup {
			t.Fatalf("code %d was given to subjects %d and %d", rc.ID, other, sid)
		}
		seen[rc.ID] = sid
	}
	if len(codes) != customers {
		t.Fatalf("%d customers hold a code, want all %d", len(codes), customers)
	}
	type noticePair struct{ email, letter *store.Notice }
	notices := map[int64]*noticePair{}
	for after := int64(0); ; {
		page, err := stack.store.ListNotices(ctx, id, "", after, store.MaxNoticePage)
		if err != nil {
			t.Fatal(err)
		}
		for i := range page {
			n := &page[i]
			if notices[n.SubjectID] == nil {
				notices[n.SubjectID] = &noticePair{}
			}
			switch n.Kind {
			case breach.NoticeKindCustomer:
				notices[n.SubjectID].email = n
			case store.NoticeKindLetter:
				notices[n.SubjectID].letter = n
			default:
				t.Fatalf("notice %d of kind %q", n.ID, n.Kind)
			}
		}
		if len(page) < store.MaxNoticePage {
			break
		}
		after = page[len(page)-1].ID
	}
	byChannel := map[string]int{}
	reasons := map[string]int{}
	for _, sid := range ids {
		cu, np := want[extOf[sid]], notices[sid]
		if np == nil || np.email == nil {
			t.Fatalf("%s has no email notice recorded", cu.ext)
		}
		var got []string
		if np.email.Status == store.NoticeSent {
			got = append(got, viaEmail)
		}
		if np.letter != nil && np.letter.Status == store.NoticeSent {
			got = append(got, viaLetter)
		}
		if np.email.Status == store.NoticeSuppressed {
			got = append(got, viaSubstitute)
		}
		if len(got) == 0 && np.email.Status == store.NoticeFailed && (np.letter == nil || np.letter.Status == store.NoticeFailed) {
			got = append(got, viaFailed)
			if np.email.LastError == "" || (np.letter != nil && np.letter.LastError == "") {
				t.Errorf("%s failed without a recorded reason: %+v %+v", cu.ext, np.email, np.letter)
			}
			reasons[np.email.LastError]++
		}
		if len(got) != 1 || got[0] != cu.want {
			t.Errorf("%s reached by %v (email %s, letter %+v), want exactly %s", cu.ext, got, np.email.Status, np.letter, cu.want)
			continue
		}
		byChannel[got[0]]++
		if got[0] == viaSubstitute && !strings.HasPrefix(np.email.LastError, "substitute notice (Cal. Civ. Code 1798.82(j)): ") {
			t.Errorf("%s is covered by substitute notice without the decision as its reason: %q", cu.ext, np.email.LastError)
		}
		if (got[0] == viaEmail) != (mailed[sid] == 1) || mailed[sid] > 1 {
			t.Errorf("%s (%s) got %d mails", cu.ext, got[0], mailed[sid])
		}
		if got[0] == viaLetter && !lettered[sid] {
			t.Errorf("%s is counted lettered but is not in the batch", cu.ext)
		}
	}
	t.Logf("channels %v; failure reasons %v", byChannel, reasons)
	if byChannel[viaLetter] != 102 || byChannel[viaSubstitute] != 51 || byChannel[viaFailed] != 51 || byChannel[viaEmail] != customers-204 {
		t.Errorf("channels %v, want 1,796 email, 102 letter, 51 substitute, 51 failed", byChannel)
	}

	phase("every customer is checked")
	// The delivery report and the regulator report count the same.
	_, rep := c.do("GET", base+"/notices/report", viewer, nil, nil)
	letters := rep["letters"].(map[string]any)["total"].(map[string]any)
	mail := rep["delivery"].(map[string]any)["total"].(map[string]any)
	var sums []any
	for _, b := range rep["letter_batches"].([]any) {
		sums = append(sums, b.(map[string]any)["pdf_sha256"])
	}
	if fmt.Sprint(sums) != fmt.Sprint(pdfSums) {
		t.Errorf("the delivery report's batches have PDF hashes %v, want those of the PDFs printed %v", sums, pdfSums)
	}
	if letters["sent"] != 102.0 || letters["failed"] != 1.0 || letters["pending"] != 0.0 || letters["total"] != 103.0 {
		t.Errorf("letters in the report = %v, want 102 sent, 1 failed (returned)", letters)
	}
	if mail["sent"] != float64(customers-204) || mail["suppressed"] != 51.0 || mail["failed"] != 153.0 || mail["codes_assigned"] != float64(customers) {
		t.Errorf("email in the report = %v, want %d sent, 51 substitute, 153 failed (102 of them lettered), %d codes", mail, customers-204, customers)
	}
	_, st := c.do("GET", base, legal, nil, nil)
	caAG := ""
	for _, o := range st["obligations"].([]any) {
		if oid := o.(map[string]any)["id"].(string); strings.HasPrefix(oid, "us-ca-ag") {
			caAG = oid
		}
	}
	code, regRep := c.do("GET", base+"/obligations/"+caAG+"/report?format=json", legal, nil, nil)
	if code != 200 {
		t.Fatalf("regulator report: %d %v", code, regRep)
	}
	md := regRep["markdown"].(string)
	inCA := map[string]int{}
	for _, sid := range ids {
		if cu := want[extOf[sid]]; cu.subdivision == "US-CA" {
			inCA[cu.want]++
		}
	}
	for label, ch := range map[string]string{"Customers reached by email": viaEmail, "Customers reached by letter": viaLetter,
		"Customers covered by substitute notice": viaSubstitute, "Customers not reached (failed, reason recorded)": viaFailed} {
		line := fmt.Sprintf("- **%s:** %s (US-CA: %s)\n", label, thousandsOf(byChannel[ch]), thousandsOf(inCA[ch]))
		if !strings.Contains(md, line) {
			t.Errorf("the regulator report lacks %q:\n%s", line, md)
		}
	}

	// The notice page behind an email's link shows that customer's code,
	// counts the read and the acknowledgement; a wrong token, nothing.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for loc, tok := range pageLink {
		sid := pageOf[loc]
		page := getPage(t, c.base+"/n/"+tok)
		if page.status != 200 || !strings.Contains(page.body, codeOf[sid]) || !strings.Contains(page.body, `<html lang="`+loc+`">`) ||
			!strings.Contains(page.body, want[extOf[sid]].name) {
			t.Fatalf("the %s page: %d, code %s shown %v\n%s", loc, page.status, codeOf[sid], strings.Contains(page.body, codeOf[sid]), page.body)
		}
		for other, osid := range pageOf {
			if other != loc && strings.Contains(page.body, codeOf[osid]) {
				t.Errorf("the %s page shows the %s customer's code", loc, other)
			}
		}
		if loc == "zh-CN" && !strings.Contains(page.body, "我的银行卡受影响吗") {
			t.Errorf("the zh-CN page does not show legal's FAQ")
		}
		for range 2 { // idempotent
			resp, err := noRedirect.Post(c.base+"/n/"+tok+"/ack", "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 303 {
				t.Fatalf("ack: %d", resp.StatusCode)
			}
		}
		if again := getPage(t, c.base+"/n/"+tok); !strings.Contains(again.body, `id="acked"`) {
			t.Errorf("the page does not thank after the ack")
		}
	}
	if len(pageLink) != 2 {
		t.Fatalf("notice pages checked for %v; want en and zh-CN", pageLink)
	}
	for _, tok := range []string{strings.Repeat("A", 43), "nope"} {
		page := getPage(t, c.base+"/n/"+tok)
		if page.status != 404 || strings.Contains(page.body, "Customer") || strings.Contains(page.body, "K-0") || strings.Contains(page.body, id) {
			t.Errorf("wrong token %q: %d\n%s", tok, page.status, page.body)
		}
		resp, err := http.Post(c.base+"/n/"+tok+"/ack", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("ack with wrong token %q: %d", tok, resp.StatusCode)
		}
	}
	_, rep = c.do("GET", base+"/notices/report", legal, nil, nil)
	if tot := rep["delivery"].(map[string]any)["total"].(map[string]any); tot["read"] != 2.0 || tot["acknowledged"] != 2.0 {
		t.Errorf("report counts %v reads and %v acks, want 2 and 2 (a wrong token's counts nothing)", tot["read"], tot["acknowledged"])
	}
	wantRead := map[string]float64{}
	for _, sid := range pageOf {
		cu := want[extOf[sid]]
		j := cu.subdivision
		if j == "" {
			j = cu.country
		}
		wantRead[j]++
	}
	for _, j := range rep["delivery"].(map[string]any)["jurisdictions"].([]any) {
		row := j.(map[string]any)
		if w := wantRead[row["jurisdiction"].(string)]; row["read"] != w || row["acknowledged"] != w {
			t.Errorf("jurisdiction %v: %v reads, %v acks; want %v each", row["jurisdiction"], row["read"], row["acknowledged"], w)
		}
	}

	// The audit chain has it all, verifies, and names nobody; neither
	// does Slack, nor the notice list's reasons.
	_, audit := c.do("GET", base+"/audit", viewer, nil, nil)
	trail := fmt.Sprint(audit)
	for _, w := range []string{"letters.generated", "letters.printed", "letters.returned", "contacts.read", "contacts.read_refused", "substitute_notice.decided", "remedy.pool_topped_up"} {
		if !strings.Contains(trail, w) {
			t.Errorf("the audit chain lacks %s", w)
		}
	}
	if chain, _ := audit["chain"].(map[string]any); chain["ok"] != true {
		t.Errorf("the audit chain does not verify: %v", chain)
	}
	var slackSaid strings.Builder
	for _, method := range []string{"chat.postMessage", "chat.update", "conversations.create", "conversations.setTopic", "chat.postEphemeral"} {
		for _, r := range fake.Requests(method) {
			slackSaid.WriteString(fmt.Sprint(r.Form))
		}
	}
	_, failed := c.do("GET", base+"/notices?status=failed&limit=500", viewer, nil, nil)
	listed := fmt.Sprint(failed)
	for _, i := range []int{0, 5, 6, 7, 20, returnedUS} {
		cu := customerAt(i)
		for _, s := range []string{cu.name, codeOf[sidOf[cu.ext]], cu.line1, cu.email} {
			if s == "" {
				continue
			}
			if strings.Contains(trail, s) {
				t.Errorf("the audit chain holds %q", s)
			}
			if strings.Contains(slackSaid.String(), s) {
				t.Errorf("Slack was told %q", s)
			}
			if strings.Contains(listed, s) {
				t.Errorf("the notice list shows %q", s)
			}
		}
	}
	if !strings.Contains(listed, "550") {
		t.Errorf("the refused mailboxes' errors are not listed")
	}
	phase("done")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// thousandsOf writes n as the reports do: 1,796.
func thousandsOf(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// inkShare is the share of a PNG's pixels that are not near white.
func inkShare(t *testing.T, file string) float64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0xc000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(b.Dx()*b.Dy())
}
