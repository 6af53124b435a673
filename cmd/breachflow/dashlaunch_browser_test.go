package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestDashboardLaunchFactsCustomersInBrowser carries an incident through
// the dashboard's launch form, facts form and customer upload in headless
// Chromium set to Berlin time, against the real dev stack, each page
// checked with axe-core.
func TestDashboardLaunchFactsCustomersInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and a browser")
	}
	chromium := findChromium(t)
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "Rita Responder", breach.RoleResponder)
	legal, _, _ := stack.store.CreateToken(ctx, "Lena Legal", breach.RoleLegal)
	api := apiClient{t: t, base: "http://" + stack.httpAddr}
	p := newPage(t, chromium, api.base)
	p.run("Berlin time", chromedp.ActionFunc(func(ctx context.Context) error {
		return emulation.SetTimezoneOverride("Europe/Berlin").Do(ctx)
	}))
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// The launch: aware 30 hours ago, typed in Berlin time.
	awareUTC := time.Now().Add(-30 * time.Hour).UTC().Truncate(time.Minute)
	var id string

	t.Run("launch", func(t *testing.T) {
		p := p
		p.t = t
		p.signIn(responder)
		p.open("/launch")
		p.run("launch form", chromedp.WaitVisible("#launch-form", chromedp.ByQuery))
		if tz := p.value(`#launch-form input[name="tz"]`); tz != "Europe/Berlin" {
			t.Fatalf("the form's zone is %q, want the browser's Europe/Berlin", tz)
		}
		if got := p.text("#pb-customer-data-breach-desc"); got == "" || p.count(`[data-playbook="customer-data-breach"] .pb-steps li`) < 5 {
			t.Errorf("the playbook's description %q or steps are not shown", got)
		}
		p.checkAccessible("launch form")

		// Bad input: no title, an unknown jurisdiction, members of an
		// unrestricted incident. Every problem shows beside its field, in
		// the API's words, and what was typed stays.
		p.run("launch with problems",
			chromedp.Click("#pb-customer-data-breach", chromedp.ByQuery),
			chromedp.SetValue("#fact-aware_at", awareUTC.In(berlin).Format("2006-01-02T15:04"), chromedp.ByQuery),
			chromedp.SendKeys("#fact-jurisdictions", "DE, XX-99", chromedp.ByQuery),
			chromedp.SendKeys("#launch-members", "someone", chromedp.ByQuery),
			chromedp.Click("#launch-submit", chromedp.ByQuery),
			chromedp.WaitVisible("#launch-errors", chromedp.ByQuery))
		code, prob := api.do("POST", "/v1/incidents", responder, map[string]any{"playbook": "customer-data-breach",
			"jurisdictions": []string{"DE", "XX-99"}, "members": []string{"someone"}}, nil)
		if code != 422 {
			t.Fatalf("the API took the bad launch: %d %v", code, prob)
		}
		for _, e := range prob["errors"].([]any) {
			fe := e.(map[string]any)
			field, _, _ := strings.Cut(fe["field"].(string), "[")
			sel := map[string]string{"title": "#title-error", "jurisdictions": "#fact-jurisdictions-error", "members": "#members-error"}[field]
			if sel == "" {
				t.Errorf("the API names a field the test does not expect: %v", fe)
				continue
			}
			if got := p.text(sel); !strings.Contains(got, fe["message"].(string)) {
				t.Errorf("%s shows %q, the API says %q", sel, got, fe["message"])
			}
		}
		var described string
		p.run("title's description", chromedp.AttributeValue("#launch-title", "aria-describedby", &described, nil, chromedp.ByQuery))
		if !strings.Contains(described, "title-error") {
			t.Errorf("the title's error is not tied to it: aria-describedby=%q", described)
		}
		if v := p.value("#fact-jurisdictions"); v != "DE, XX-99" {
			t.Errorf("the typed jurisdictions became %q", v)
		}
		if v := p.value("#fact-aware_at"); v != awareUTC.In(berlin).Format("2006-01-02T15:04") {
			t.Errorf("the typed aware at became %q", v)
		}
		var checked bool
		p.run("playbook kept", chromedp.JavascriptAttribute("#pb-customer-data-breach", "checked", &checked, chromedp.ByQuery))
		if !checked {
			t.Error("the chosen playbook was lost")
		}
		p.checkAccessible("launch form with errors")

		p.run("launch",
			chromedp.SendKeys("#launch-title", "CRM export on a public bucket", chromedp.ByQuery),
			chromedp.SetValue("#fact-jurisdictions", "DE, US-CA", chromedp.ByQuery),
			clearValue("#launch-members"),
			chromedp.Click(`#fact-data_categories input[value="contact"]`, chromedp.ByQuery),
			chromedp.Click("#launch-submit", chromedp.ByQuery),
			chromedp.WaitVisible("#flash", chromedp.ByQuery))
		var loc string
		p.run("location", chromedp.Location(&loc))
		id = loc[strings.LastIndex(loc, "/")+1:]
		if flash := p.text("#flash"); flash != "Launched "+id+"." {
			t.Fatalf("flash %q at %s", flash, loc)
		}
		_, st := api.do("GET", "/v1/incidents/"+id, responder, nil, nil)
		facts, _ := st["facts"].(map[string]any)
		if st["title"] != "CRM export on a public bucket" || facts["aware_at"] != awareUTC.Format(time.RFC3339) ||
			fmt.Sprint(facts["jurisdictions"]) != "[DE US-CA]" || fmt.Sprint(facts["data_categories"]) != "[contact]" {
			t.Fatalf("launched %v with facts %v; want aware_at %s (typed in Berlin time)", st["title"], facts, awareUTC.Format(time.RFC3339))
		}

		// The same form sent twice (a double click) launches once.
		p.open("/launch")
		var urls []string
		p.run("submit twice", chromedp.Evaluate(`(async () => {
			const f = document.getElementById("launch-form");
			f.querySelector("#pb-customer-data-breach").checked = true;
			f.querySelector("#launch-title").value = "Sent twice";
			const body = new URLSearchParams(new FormData(f));
			const a = await fetch("/launch", {method: "POST", body: body});
			const b = await fetch("/launch", {method: "POST", body: body});
			return [a.url, b.url];
		})()`, &urls, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		if len(urls) != 2 || urls[0] != urls[1] || !strings.Contains(urls[0], "/incidents/BR-") || strings.HasSuffix(urls[0], id) {
			t.Errorf("a double submit led to %v, want one new incident", urls)
		}
	})
	if id == "" {
		t.Fatal("nothing launched")
	}

	t.Run("facts", func(t *testing.T) {
		p := p
		p.t = t
		for _, step := range []string{"triage", "contain-source", "preserve-evidence"} {
			eventually(t, 30*time.Second, step+" ready", func() bool { return api.stepState(responder, id, step) == "ready" })
			if code, body := api.do("POST", "/v1/incidents/"+id+"/steps/"+step+"/complete", stack.token, map[string]any{"note": "done"}, nil); code != 200 {
				t.Fatalf("complete %s: %d %v", step, code, body)
			}
		}
		eventually(t, 30*time.Second, "scope-impact ready", func() bool { return api.stepState(responder, id, "scope-impact") == "ready" })
		p.signOut()
		p.signIn(legal)
		p.open("/incidents/" + id)
		// The step that needs a fact says so and links to its input.
		p.run("needs link", chromedp.WaitVisible(`#step-scope-impact [data-needs-facts] a[href="#fact-affected"]`, chromedp.ByQuery),
			chromedp.Click(`#step-scope-impact [data-needs-facts] a`, chromedp.ByQuery))
		if n := p.count(`#facts-form #fact-affected`); n != 1 {
			t.Fatalf("the link's target #fact-affected is not the facts form's input (%d)", n)
		}
		// Known times are shown in the browser's zone.
		if v := p.value("#fact-aware_at"); v != awareUTC.In(berlin).Format("2006-01-02T15:04") {
			t.Errorf("aware at shown as %q, want Berlin time %s", v, awareUTC.In(berlin).Format("2006-01-02T15:04"))
		}
		p.checkAccessible("incident page with the facts form")

		// A time in the future is refused beside its field.
		future := time.Now().Add(48 * time.Hour).In(berlin).Format("2006-01-02T15:04")
		p.run("preview a bad change", chromedp.SetValue("#fact-determined_at", future, chromedp.ByQuery),
			chromedp.Click("#facts-preview", chromedp.ByQuery), chromedp.WaitVisible("#facts-errors", chromedp.ByQuery))
		if got := p.text("#fact-determined_at-error"); !strings.Contains(got, "future") {
			t.Errorf("determined_at error %q", got)
		}
		p.checkAccessible("facts form with errors")

		assessed := time.Now().Add(-time.Hour).UTC().Truncate(time.Minute)
		// Affected counts and risk high: the preview lists what the what-if
		// API says changes, before anything is saved.
		p.run("preview", clearValue("#fact-determined_at"),
			chromedp.SetValue("#fact-affected", "DE=1200, US-CA=600", chromedp.ByQuery),
			chromedp.SetValue("#fact-risk", "high", chromedp.ByQuery),
			chromedp.SetValue("#fact-assessed_at", assessed.In(berlin).Format("2006-01-02T15:04"), chromedp.ByQuery),
			chromedp.Click("#facts-preview", chromedp.ByQuery), chromedp.WaitVisible("#facts-changes", chromedp.ByQuery))
		patch := map[string]any{"affected": map[string]int{"DE": 1200, "US-CA": 600}, "risk": "high", "assessed_at": assessed.Format(time.RFC3339)}
		code, w := api.do("POST", "/v1/incidents/"+id+"/assessments", legal, patch, nil)
		if code != 200 {
			t.Fatalf("what-if: %d %v", code, w)
		}
		checkChanges(t, p, w)
		if got := p.text(`#clock-changes [data-id="gdpr-art34"]`); !strings.Contains(got, "GDPR Art. 34") || !strings.Contains(got, "becomes due") && !strings.Contains(got, "is owed now") {
			t.Errorf("GDPR Art. 34 line: %q", got)
		}
		if _, st := api.do("GET", "/v1/incidents/"+id, legal, nil, nil); st["facts"].(map[string]any)["risk"] != "unassessed" {
			t.Fatal("the preview saved the change")
		}
		p.checkAccessible("facts preview")
		p.run("save", chromedp.Click("#facts-save", chromedp.ByQuery), chromedp.WaitVisible("#flash", chromedp.ByQuery))
		if flash := p.text("#flash"); !strings.Contains(flash, "Facts changed: assessed_at, affected, risk") {
			t.Fatalf("flash %q", flash)
		}
		_, st := api.do("GET", "/v1/incidents/"+id, legal, nil, nil)
		facts, _ := st["facts"].(map[string]any)
		if facts["risk"] != "high" || fmt.Sprint(facts["affected"]) != "map[DE:1200 US-CA:600]" || obligation(st, "gdpr-art34") == nil {
			t.Fatalf("after saving: facts %v", facts)
		}
		if p.count(`#step-scope-impact [data-needs-facts]`) != 0 {
			t.Error("scope-impact still says it needs a fact")
		}

		// Back to risk none: Art. 34 is no longer owed. Previewed only.
		p.run("preview risk none", chromedp.SetValue("#fact-risk", "none", chromedp.ByQuery),
			chromedp.Click("#facts-preview", chromedp.ByQuery), chromedp.WaitVisible("#facts-changes", chromedp.ByQuery))
		_, w = api.do("POST", "/v1/incidents/"+id+"/assessments", legal, map[string]any{"risk": "none"}, nil)
		checkChanges(t, p, w)
		if got := p.text(`#clock-changes [data-id="gdpr-art34"]`); !strings.Contains(got, "no longer owed") {
			t.Errorf("GDPR Art. 34 line: %q", got)
		}
	})

	t.Run("customers", func(t *testing.T) {
		p := p
		p.t = t
		p.signOut()
		p.signIn(responder)
		p.open("/incidents/" + id)
		dir := t.TempDir()
		file := filepath.Join(dir, "customers.csv")
		bad := "external_id,name,email,locale,country,subdivision,tier\n" +
			"C1,Carla Customer,carla@example.com,en,US,US-CA,low\n" +
			"C2,Carl Customer,carl@example.com,en,US,US-CA,medium\n" +
			"D1,Dora Kunde,dora@example.de,de,DE,,high\n" +
			"X1,Xaver Bad,not-an-email,de,DE,,low\n" +
			"C1,Carla Customer,carla@example.com,en,US,US-CA,low\n"
		if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		p.run("upload", chromedp.WaitVisible("#subjects-form", chromedp.ByQuery),
			chromedp.SetUploadFiles("#subjects-file", []string{file}, chromedp.ByQuery),
			chromedp.Click("#subjects-upload", chromedp.ByQuery),
			chromedp.WaitVisible("#import-report", chromedp.ByQuery))
		if got := p.text("#import-accepted") + " " + p.text("#import-rejected") + " " + p.text("#import-duplicates"); got != "4 1 1" {
			t.Errorf("accepted, rejected, duplicates = %s, want 4 1 1", got)
		}
		if got := p.text(`#rejected-lines tr[data-line="5"]`); !strings.Contains(got, "email") {
			t.Errorf("line 5's reason: %q", got)
		}
		if got := p.text(`#import-jurisdictions tr[data-jurisdiction="US-CA"]`); got != "US-CA\t2\t2" && strings.Join(strings.Fields(got), " ") != "US-CA 2 2" {
			t.Errorf("US-CA row %q", got)
		}
		var html string
		p.run("report html", chromedp.OuterHTML("main", &html, chromedp.ByQuery))
		for _, pii := range []string{"Carla", "carla@", "Dora", "Xaver", "not-an-email"} {
			if strings.Contains(html, pii) {
				t.Errorf("the report shows customer data %q", pii)
			}
		}
		p.checkAccessible("import report")

		// Corrected and uploaded again: the line is taken, nothing doubles.
		if err := os.WriteFile(file, []byte(strings.Replace(bad, "not-an-email", "xaver@example.de", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		p.run("upload again", chromedp.SetUploadFiles("#subjects-file", []string{file}, chromedp.ByQuery),
			chromedp.Click("#subjects-upload", chromedp.ByQuery),
			chromedp.WaitVisible("#import-report", chromedp.ByQuery))
		if p.count("#rejected-lines") != 0 || p.text("#import-inserted") != "1" || p.text("#import-updated") != "4" {
			t.Errorf("second upload: %d rejected tables, inserted %s, updated %s; want none, 1, 4 (the duplicate row counts too)",
				p.count("#rejected-lines"), p.text("#import-inserted"), p.text("#import-updated"))
		}
		_, st := api.do("GET", "/v1/incidents/"+id, responder, nil, nil)
		facts, _ := st["facts"].(map[string]any)
		if fmt.Sprint(facts["affected"]) != "map[DE:2 US-CA:2]" {
			t.Errorf("affected after the import: %v, want the stored counts DE 2, US-CA 2", facts["affected"])
		}
	})
}

// checkChanges compares the preview's duty lines with a what-if answer.
func checkChanges(t *testing.T, p page, w map[string]any) {
	t.Helper()
	for kind, key := range map[string]string{"added": "added", "removed": "removed", "moved": "changed"} {
		list, _ := w[key].([]any)
		if n := p.count(`#clock-changes [data-change="` + kind + `"]`); n != len(list) {
			t.Errorf("the preview lists %d %s duties, the what-if %d: %v", n, kind, len(list), list)
		}
		for _, d := range list {
			dm := d.(map[string]any)
			if p.count(`#clock-changes [data-change="`+kind+`"][data-id="`+dm["id"].(string)+`"]`) != 1 {
				t.Errorf("the preview lacks %s duty %s", kind, dm["id"])
			}
		}
	}
}

// value is the current value of the form control sel.
func (p page) value(sel string) string {
	p.t.Helper()
	var v string
	p.run("value of "+sel, chromedp.Value(sel, &v, chromedp.ByQuery))
	return v
}

// clearValue empties the form control sel (chromedp.SetValue cannot set "").
func clearValue(sel string) chromedp.Action {
	return chromedp.Evaluate(`document.querySelector(`+strconv.Quote(sel)+`).value = ""`, nil)
}
