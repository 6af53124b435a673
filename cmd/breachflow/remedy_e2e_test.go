package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/dburl"
	"github.com/jordan-wright/email"
)

// remedyPlaybook sends notices as soon as it is told to, and offers US
// customers a credit-monitoring code.
const remedyPlaybook = `id: remedy-check
version: 1
title: Remedy check
remedy:
  product: credit-monitoring
  jurisdictions: [US]
steps:
  - id: send
    title: Send customer notices
    kind: customer_notices
    owner: responder
`

// remedyAssignPage and the pause between pages make the killed assigner
// stop half-way: its pages commit one by one.
const remedyAssignPage = 100

// assignSubprocess is `BREACHFLOW_TEST_SUBPROCESS=assign`: it gives codes
// page by page with the store's own AssignRemedyCodes, printing each
// committed page, until the test kills it (SIGKILL, no goodbye).
func assignSubprocess() int {
	ctx := context.Background()
	st, err := dburl.Open(ctx, os.Getenv("BREACHFLOW_DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "assign:", err)
		return 1
	}
	id := os.Getenv("BREACHFLOW_TEST_INCIDENT")
	sc := store.RemedyScope{Product: "credit-monitoring", Jurisdictions: []string{"US"}}
	for after, page := int64(0), 1; ; page++ {
		ids, err := st.ListSubjectIDs(ctx, id, after, remedyAssignPage)
		if err != nil || len(ids) == 0 {
			fmt.Fprintln(os.Stderr, "assign: done", err)
			return 0
		}
		n, _, err := st.AssignRemedyCodes(ctx, id, sc, ids)
		if err != nil {
			fmt.Fprintln(os.Stderr, "assign:", err)
			return 1
		}
		fmt.Printf("page %d: %d codes\n", page, n)
		after = ids[len(ids)-1]
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRemedyCodesEndToEnd is issue 17's "done when" for remedy codes and
// the notice page, on the dev stack (embedded Temporal, SQLite, SMTP
// catcher, HTTP): 2,000 customers, a pool of 1,900 codes. A bad pool is
// refused by line; the send waits with "100 codes missing"; an assigner
// killed half-way leaves its codes given once; legal tops up and the
// notices go out, each in-scope customer with exactly one code, no code
// twice; the email's code is the store's; the page behind the email's
// link shows that code and counts the read and the acknowledgement; a
// wrong token shows nothing.
func TestRemedyCodesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	const customers, pool = 2000, 1900
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "remedy-check.yaml"), []byte(remedyPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := devConfig(t, dir)
	cfg.PlaybookDir = pbDir
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token
	legal, _, err := stack.store.CreateToken(ctx, "lou-legal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	code, inc := c.do("POST", "/v1/incidents", admin, map[string]any{"playbook": "remedy-check", "title": "CRM export",
		"severity": "high", "aware_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"US-CA"},
		"data_categories": []string{"identity"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	for loc, txt := range map[string]map[string]string{
		"en":    {"what_happened": "A CRM export was public.", "what_we_are_doing": "We removed it.", "faq": "Is my card affected? No.", "contact": "Call 0800 123 456."},
		"zh-CN": {"what_happened": "一份客户数据导出文件曾被公开。", "what_we_are_doing": "我们已将其删除。", "faq": "我的银行卡受影响吗？不受影响。", "contact": "请致电 0800 123 456。"},
	} {
		// The step's first run, with no customers yet, may still be going.
		eventually(t, 30*time.Second, "legal's "+loc+" texts to be taken", func() bool {
			code, _ := c.do("PUT", base+"/notices/texts/"+loc, legal, txt, nil)
			return code == 200
		})
	}
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision\n")
	for i := range customers {
		loc, sub := "en", "US-CA"
		if i%4 == 0 {
			loc, sub = "zh-CN", "US-NY"
		}
		fmt.Fprintf(&csv, "C%04d,Customer %04d,c%04d@example.com,%s,US,%s\n", i, i, i, loc, sub)
	}
	if code, body := c.do("POST", base+"/subjects", admin, csv.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("import customers: %d %v", code, body)
	}
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

	// A bad pool is refused whole, by line; a responder may not import.
	bad := codesCSV("K", 0, 3) + "K-00001,credit-monitoring,https://enroll.example-bureau.com/," + enrollBy + "\n" +
		" ,credit-monitoring,https://enroll.example-bureau.com/," + enrollBy + "\n" +
		"K-77777,credit-monitoring,https://enroll.example-bureau.com/,2020-01-01\n"
	code, p := c.do("POST", base+"/remedy-codes", legal, bad, csvHdr)
	if code != 422 || !strings.Contains(fmt.Sprint(p["errors"]), "line 5: code") || !strings.Contains(fmt.Sprint(p["errors"]), "line 6: code") ||
		!strings.Contains(fmt.Sprint(p["errors"]), "line 7: enroll_by") || !strings.Contains(fmt.Sprint(p["detail"]), "nothing was imported") {
		t.Fatalf("bad pool: %d %v", code, p)
	}
	if code, _ := c.do("POST", base+"/remedy-codes", admin, codesCSV("X", 0, 1), csvHdr); code != 200 {
		// admin is above legal; with the 1,899 below the pool is 1,900
		t.Fatalf("admin import: %d", code)
	}
	if code, _ := c.do("POST", base+"/remedy-codes", admin, codesCSV("X", 0, 1), csvHdr); code != 422 {
		t.Fatalf("a code already in the pool: %d, want 422", code)
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

	// The send waits: 100 codes missing, on the timeline and the step.
	if code, body := c.do("POST", base+"/notices/send", admin, map[string]any{}, nil); code != 202 {
		t.Fatalf("send: %d %v", code, body)
	}
	var waiting string
	eventually(t, time.Minute, "the send to wait for codes", func() bool {
		_, st := c.do("GET", base, legal, nil, nil)
		for _, s := range st["steps"].([]any) {
			if s.(map[string]any)["id"] == "send" {
				waiting, _ = s.(map[string]any)["waiting"].(string)
			}
		}
		return waiting != ""
	})
	if !strings.HasPrefix(waiting, "100 codes missing") {
		t.Fatalf("the step waits with %q, want 100 codes missing", waiting)
	}
	_, st := c.do("GET", base, legal, nil, nil)
	if !strings.Contains(fmt.Sprint(st["timeline"]), "100 codes missing") {
		t.Errorf("the timeline does not say 100 codes missing")
	}
	if sent := len(stack.mail.All()); sent != 0 {
		t.Fatalf("%d notices went out while codes were missing", sent)
	}
	_, counts := c.do("GET", base+"/remedy-codes", legal, nil, nil)
	if cov := counts["coverage"].(map[string]any); cov["missing"] != 100.0 || cov["in_scope"] != float64(customers) {
		t.Fatalf("coverage %v", cov)
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
	ids, err := stack.store.ListSubjectIDs(ctx, id, 0, store.MaxSubjectPage)
	if err != nil || len(ids) != customers {
		t.Fatalf("subjects: %d %v", len(ids), err)
	}
	before, err := stack.store.RemedyCodesFor(ctx, id, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < customers/2 || len(before) >= pool {
		t.Fatalf("the killed assigner gave %d codes; want it stopped half-way (stderr %s)", len(before), stderr.String())
	}
	t.Logf("the assigner was killed after giving %d codes", len(before))

	// Legal tops up; the waiting send goes on by itself.
	if code, body := c.do("POST", base+"/remedy-codes", legal, codesCSV("T", 0, customers-pool), csvHdr); code != 200 {
		t.Fatalf("top up: %d %v", code, body)
	}
	for deadline := time.Now().Add(4 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, r := c.do("GET", base+"/notices/report", legal, nil, nil)
		d, _ := r["delivery"].(map[string]any)
		tot, _ := d["total"].(map[string]any)
		if tot != nil && tot["sent"] == float64(customers) {
			break
		}
		if time.Now().After(deadline) {
			_, st := c.do("GET", base, legal, nil, nil)
			t.Fatalf("not every notice was sent: %v\ntimeline: %v", tot, st["timeline"])
		}
	}
	after, err := stack.store.RemedyCodesFor(ctx, id, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != customers {
		t.Fatalf("%d customers hold a code, want all %d", len(after), customers)
	}
	seen := map[int64]bool{}
	for sid, rc := range after {
		if seen[rc.ID] {
			t.Fatalf("code %d was given twice", rc.ID)
		}
		seen[rc.ID] = true
		if b, ok := before[sid]; ok && b.ID != rc.ID {
			t.Fatalf("subject %d held code %d before the top-up and %d after", sid, b.ID, rc.ID)
		}
	}
	_, counts = c.do("GET", base+"/remedy-codes", legal, nil, nil)
	if pl := counts["pool"].(map[string]any); pl["total"] != float64(customers) || pl["assigned"] != float64(customers) || pl["free"] != 0.0 {
		t.Errorf("pool after the send: %v", pl)
	}
	_, rep := c.do("GET", base+"/notices/report", legal, nil, nil)
	if tot := rep["delivery"].(map[string]any)["total"].(map[string]any); tot["codes_assigned"] != float64(customers) {
		t.Errorf("the delivery report counts %v codes", tot["codes_assigned"])
	}

	// The email carries the store's code for its customer and a link; the
	// page behind the link shows that code, counts the read and the ack.
	kr, err := codec.ParseKeys(readFile(t, filepath.Join(dir, "encryption-keys")))
	if err != nil {
		t.Fatal(err)
	}
	linkRE := regexp.MustCompile(`/n/([A-Za-z0-9_-]{43})`)
	checked := map[string]bool{}
	for _, m := range stack.mail.All() {
		sid, ok := subjectOf(m.MessageID, id)
		if !ok {
			continue
		}
		loc := "en"
		if strings.Contains(m.Subject, "数据泄露通知") {
			loc = "zh-CN"
		}
		if checked[loc] {
			continue
		}
		checked[loc] = true
		e, err := email.NewEmailFromReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		want, err := remedy.Open(after[sid], kr)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(e.Text), want) || !strings.Contains(string(e.HTML), want) {
			t.Fatalf("the %s email to subject %d does not carry its code %s:\n%s", loc, sid, want, e.Text)
		}
		link := linkRE.FindStringSubmatch(string(e.Text))
		if link == nil {
			t.Fatalf("the %s email has no notice-page link:\n%s", loc, e.Text)
		}
		page := getPage(t, c.base+"/n/"+link[1])
		if page.status != 200 || !strings.Contains(page.body, want) || !strings.Contains(page.body, `<html lang="`+loc+`">`) ||
			!strings.Contains(page.body, fmt.Sprintf("Customer %04d", sid-ids[0])) {
			t.Fatalf("the %s page: %d, code %s shown %v\n%s", loc, page.status, want, strings.Contains(page.body, want), page.body)
		}
		if loc == "zh-CN" && !strings.Contains(page.body, "我的银行卡受影响吗") {
			t.Errorf("the zh-CN page does not show legal's FAQ")
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for range 2 { // idempotent
			resp, err := noRedirect.Post(c.base+"/n/"+link[1]+"/ack", "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 303 {
				t.Fatalf("ack: %d", resp.StatusCode)
			}
		}
		if again := getPage(t, c.base+"/n/"+link[1]); !strings.Contains(again.body, `id="acked"`) {
			t.Errorf("the page does not thank after the ack")
		}
		if len(checked) == 2 {
			break
		}
	}
	if len(checked) != 2 {
		t.Fatalf("checked the emails of %v; want en and zh-CN", checked)
	}
	_, rep = c.do("GET", base+"/notices/report", legal, nil, nil)
	tot := rep["delivery"].(map[string]any)["total"].(map[string]any)
	if tot["read"] != 2.0 || tot["acknowledged"] != 2.0 {
		t.Errorf("report counts %v reads and %v acks, want 2 and 2", tot["read"], tot["acknowledged"])
	}
	for _, j := range rep["delivery"].(map[string]any)["jurisdictions"].([]any) {
		row := j.(map[string]any)
		if row["read"] != 1.0 || row["acknowledged"] != 1.0 {
			t.Errorf("jurisdiction %v: %v reads, %v acks; want one each (one en customer in US-CA, one zh-CN in US-NY)", row["jurisdiction"], row["read"], row["acknowledged"])
		}
	}
	// A wrong token (well-formed or not) shows a page that names nothing.
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
	if _, rep := c.do("GET", base+"/notices/report", legal, nil, nil); rep["delivery"].(map[string]any)["total"].(map[string]any)["acknowledged"] != 2.0 {
		t.Errorf("a wrong token's ack was counted")
	}
}

type pageResult struct {
	status int
	body   string
}

func getPage(t *testing.T, url string) pageResult {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageResult{resp.StatusCode, string(b)}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// subjectOf reads the subject id out of a customer notice's Message-ID.
func subjectOf(messageID, incidentID string) (int64, bool) {
	rest, ok := strings.CutPrefix(messageID, "<"+incidentID+".customer.")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(rest, "@breachflow>"), 10, 64)
	return n, err == nil
}
