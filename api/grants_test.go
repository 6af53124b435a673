package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
)

// call sends a JSON request with token and decodes the JSON answer.
func (e *dashEnv) call(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Errorf("%s %s: %d answered %q, want problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// TestContactsNeedASecondPersonsGrant: the outreach call list names
// high-tier customers, so reading it needs an access grant that a second
// person approved. The requester cannot approve their own grant; the read
// is allowed only for the requester and only within the time box; every
// read and refused read is in the audit chain, which still verifies.
func TestContactsNeedASecondPersonsGrant(t *testing.T) {
	e := newDashEnvWith(t, func(d *Deps) { d.SubjectKey = []byte(strings.Repeat("k", 32)) })
	ctx := context.Background()
	rita, _, _ := e.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	ron, _, _ := e.store.CreateToken(ctx, "ron-responder", breach.RoleResponder)
	lena, _, _ := e.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)
	inc, _, err := e.store.CreateIncident(ctx, store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: "high"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/v1/incidents/" + inc.ID
	req, _ := http.NewRequest("POST", e.srv.URL+base+"/subjects",
		strings.NewReader("external_id,name,email,tier\nK-1,Hana Key,hana@example.com,high\nK-2,Lou Low,lou@example.com,low\n"))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("import: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, _, _, err := e.store.CreateOutreachTasks(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	auditCount := func(action, actor string) int {
		events, _ := e.store.ListAudit(ctx, inc.ID)
		n := 0
		for _, ev := range events {
			if ev.Action == action && ev.Actor == actor {
				n++
			}
		}
		return n
	}
	read := func(token string) (int, map[string]any) { return e.call("GET", base+"/outreach", token, nil) }

	// Without a grant: refused, named, audited, and no contact in the answer.
	code, body := read(rita)
	if code != 403 || !strings.Contains(fmt.Sprint(body["detail"]), NeedsGrant) || strings.Contains(fmt.Sprint(body), "hana@example.com") {
		t.Fatalf("read without a grant: %d %v", code, body)
	}
	if n := auditCount("contacts.read_refused", "rita-responder"); n != 1 {
		t.Fatalf("%d refused reads audited, want 1", n)
	}

	// Bad requests write nothing.
	for _, bad := range []map[string]any{
		{"reason": "call them", "duration": "9h"},
		{"reason": "  ", "duration": "2h"},
		{"reason": "call them", "duration": "soon"},
	} {
		if code, body := e.call("POST", base+"/grants", rita, bad); code != 422 {
			t.Fatalf("grant request %v: %d %v, want 422", bad, code, body)
		}
	}
	if code, _ := e.call("POST", base+"/grants", e.viewer, map[string]any{"reason": "curious", "duration": "1h"}); code != 403 {
		t.Fatalf("a viewer's grant request: %d, want 403", code)
	}
	if gs, _ := e.store.ListGrants(ctx, inc.ID); len(gs) != 0 {
		t.Fatalf("refused requests stored %+v", gs)
	}

	code, g := e.call("POST", base+"/grants", rita, map[string]any{"reason": "account managers call the key accounts", "duration": "2h"})
	if code != 201 || g["status"] != "requested" || g["requested_by"] != "rita-responder" || g["duration"] != "2h0m0s" ||
		!strings.Contains(fmt.Sprint(g["needs"]), "second person with the legal role") {
		t.Fatalf("grant request: %d %v", code, g)
	}
	gid := fmt.Sprint(g["id"])
	// Requested is not granted.
	if code, _ := read(rita); code != 403 {
		t.Fatalf("read with a requested grant: %d, want 403", code)
	}
	// The requester cannot approve (even holding the right role), nor a responder.
	if code, _ := e.call("POST", base+"/grants/"+gid+"/approve", ron, nil); code != 403 {
		t.Fatalf("a responder's approval: %d, want 403", code)
	}
	code, g2 := e.call("POST", base+"/grants", lena, map[string]any{"reason": "check the list", "duration": "1h"})
	if code != 201 {
		t.Fatalf("lena's request: %d %v", code, g2)
	}
	if code, body := e.call("POST", base+"/grants/"+fmt.Sprint(g2["id"])+"/approve", lena, nil); code != 403 ||
		!strings.Contains(fmt.Sprint(body["detail"]), "needs a second person's approval") {
		t.Fatalf("self-approval: %d %v, want 403", code, body)
	}
	if code, _ := e.call("POST", base+"/grants/999/approve", lena, nil); code != 404 {
		t.Fatalf("unknown grant: %d, want 404", code)
	}

	code, a := e.call("POST", base+"/grants/"+gid+"/approve", lena, nil)
	if code != 200 || a["status"] != "approved" || a["approved_by"] != "lena-legal" || a["expires_at"] == nil {
		t.Fatalf("second-person approval: %d %v", code, a)
	}
	if code, _ := e.call("POST", base+"/grants/"+gid+"/approve", e.admin, nil); code != 409 {
		t.Fatalf("approving twice: %d, want 409", code)
	}

	// Inside the time box the requester reads the contacts; nobody else does.
	code, body = read(rita)
	if code != 200 || !strings.Contains(fmt.Sprint(body), "hana@example.com") || !strings.Contains(fmt.Sprint(body), "Hana Key") {
		t.Fatalf("read within the grant: %d %v", code, body)
	}
	if code, _ := read(ron); code != 403 {
		t.Fatalf("another responder's read on rita's grant: %d, want 403", code)
	}
	if code, _ := e.call("GET", "/v1/incidents/"+otherIncident(t, e)+"/outreach", rita, nil); code != 403 {
		t.Fatalf("read of another incident on this grant: %d, want 403", code)
	}
	e.advance(2*time.Hour - time.Minute)
	if code, _ := read(rita); code != 200 {
		t.Fatalf("read a minute before the box ends: %d, want 200", code)
	}
	e.advance(time.Minute)
	code, body = read(rita)
	if code != 403 || !strings.Contains(fmt.Sprint(body["detail"]), "expired") {
		t.Fatalf("read after the time box: %d %v", code, body)
	}
	_, list := e.call("GET", base+"/grants", lena, nil)
	if gs, _ := list["grants"].([]any); len(gs) != 2 || gs[0].(map[string]any)["status"] != "expired" {
		t.Fatalf("grants after the box: %v", list)
	}

	for _, c := range []struct {
		action, actor string
		want          int
	}{
		{"grant.requested", "rita-responder", 1}, {"grant.approved", "lena-legal", 1},
		{"contacts.read", "rita-responder", 2}, {"contacts.read_refused", "rita-responder", 3},
		{"contacts.read_refused", "ron-responder", 1}, {"grant.expired_use", "rita-responder", 1},
		{"grant.approved", "ada-admin", 0},
	} {
		if n := auditCount(c.action, c.actor); n != c.want {
			t.Errorf("%s by %s audited %d times, want %d", c.action, c.actor, n, c.want)
		}
	}
	events, _ := e.store.ListAudit(ctx, inc.ID)
	for _, ev := range events {
		if strings.Contains(string(ev.Details), "hana@example.com") || strings.Contains(string(ev.Details), "Hana") {
			t.Errorf("audit event %s names a customer: %s", ev.Action, ev.Details)
		}
	}
	if r, err := e.store.VerifyAudit(ctx, inc.ID); err != nil || !r.OK {
		t.Fatalf("audit chain = %+v, %v", r, err)
	}
}

func otherIncident(t *testing.T, e *dashEnv) string {
	t.Helper()
	inc, _, err := e.store.CreateIncident(context.Background(), store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: "low"})
	if err != nil {
		t.Fatal(err)
	}
	return inc.ID
}
