package main

import (
	"strings"
	"testing"
)

// TestIncidentCmdGrants: `incident grant request|approve|list` call the
// grant routes with what was typed and say what the API answered.
func TestIncidentCmdGrants(t *testing.T) {
	const requested = `{"id": 7, "scope": "contacts", "requested_by": "rita", "requester_role": "responder", "reason": "call the key accounts",
	 "duration": "2h0m0s", "status": "requested", "requested_at": "2026-11-23T09:00:00Z",
	 "needs": "approval by a second person with the legal role (not rita)"}`
	const approved = `{"id": 7, "scope": "contacts", "requested_by": "rita", "reason": "call the key accounts", "duration": "2h0m0s",
	 "status": "approved", "requested_at": "2026-11-23T09:00:00Z", "approved_by": "lena", "expires_at": "2026-11-23T11:05:00Z"}`
	tests := []struct {
		name  string
		args  []string
		route string
		resp  string
		body  string
		says  string
	}{
		{name: "request", args: []string{"grant", "request", "BR-7K3F9Q", "--reason", "call the key accounts", "--duration", "2h"},
			route: "POST /v1/incidents/BR-7K3F9Q/grants", resp: requested, body: `{"duration":"2h","reason":"call the key accounts"}`,
			says: "Requested access grant 7 on BR-7K3F9Q for 2h0m0s; it needs approval by a second person with the legal role (not rita)."},
		{name: "approve", args: []string{"grant", "approve", "BR-7K3F9Q", "7"},
			route: "POST /v1/incidents/BR-7K3F9Q/grants/7/approve", resp: approved,
			says: "Approved access grant 7: rita may read the contacts of BR-7K3F9Q until 2026-11-23 11:05"},
		{name: "list", args: []string{"grant", "list", "BR-7K3F9Q"},
			route: "GET /v1/incidents/BR-7K3F9Q/grants", resp: `{"grants": [` + approved + `], "max_duration": "8h"}`,
			says: "approved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, map[string]cannedResponse{tt.route: {status: 200, body: tt.resp}})
			out, err := runIncident(t, envFor(f), tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			c := f.only(t)
			assertAuthorized(t, c, "tok-123")
			if tt.body != "" {
				assertBody(t, c, tt.body)
			}
			assertContains(t, out, tt.says)
			if tt.name == "list" && !strings.Contains(strings.Join(lineWith(t, out, "7"), " "), "rita 2h0m0s approved lena") {
				t.Errorf("list line: %q", out)
			}
		})
	}
	if _, err := runIncident(t, envFor(newFakeAPI(t, nil)), "grant", "approve", "BR-7K3F9Q", "seven"); err == nil ||
		!strings.Contains(err.Error(), "a grant number") {
		t.Errorf("a non-numeric grant: %v", err)
	}
}
