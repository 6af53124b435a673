package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeLaunchBody is the README's launch body with its shell variables
// ($now, $aware, $discovered) set to at.
func readmeLaunchBody(t *testing.T, at time.Time) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)/v1/incidents <<JSON\n(.*?)\nJSON\n`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("the README has no launch body (curl … <<JSON … JSON)")
	}
	ts := at.UTC().Format(time.RFC3339)
	return strings.NewReplacer("$now", ts, "$aware", ts, "$discovered", ts).Replace(m[1])
}

// obligation returns the obligation id of an incident status.
func obligation(st map[string]any, id string) map[string]any {
	obs, _ := st["obligations"].([]any)
	for _, o := range obs {
		if m, _ := o.(map[string]any); m["id"] == id {
			return m
		}
	}
	return nil
}

// timelineHas reports whether the status's timeline has action on target.
func timelineHas(st map[string]any, action, target string) bool {
	tl, _ := st["timeline"].([]any)
	for _, e := range tl {
		if m, _ := e.(map[string]any); m["action"] == action && m["target"] == target {
			return true
		}
	}
	return false
}

// TestDevReadmeLaunchStartsEveryClock launches the README's example on the
// dev stack: California's 30-day clock runs (from the discovery the example
// sends, or assumed from awareness when it is left out, until stated), and
// the playbook's containment actions complete through the dev recorder.
func TestDevReadmeLaunchStartsEveryClock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token
	if stack.actions == nil {
		t.Fatal("dev started no action recorder though no webhook is configured")
	}

	now := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	code, st := c.do("POST", "/v1/incidents", admin, readmeLaunchBody(t, now), map[string]string{"Idempotency-Key": "readme-1"})
	if code != 201 {
		t.Fatalf("README launch: %d %v", code, st)
	}
	ca := obligation(st, "us-ca-residents")
	if ca == nil || ca["due_at"] == nil {
		t.Fatalf("us-ca-residents after the README's launch: %v; want a due time", ca)
	}
	id := fmt.Sprint(st["id"])
	if code, again := c.do("POST", "/v1/incidents", admin, readmeLaunchBody(t, now), map[string]string{"Idempotency-Key": "readme-1"}); code != 200 || again["id"] != id {
		t.Errorf("the same README launch again: %d %v", code, again["id"])
	}
	if code, p := c.do("POST", "/v1/incidents", admin, readmeLaunchBody(t, now.Add(-time.Hour)), map[string]string{"Idempotency-Key": "readme-1"}); code != 422 || !strings.Contains(fmt.Sprint(p["detail"]), "readme-1") {
		t.Errorf("the key with other times: %d %v, want 422 naming the key", code, p)
	}

	// Without discovered_at: assumed from aware_at, and the clock runs.
	noDiscovery := strings.Replace(readmeLaunchBody(t, now), `"discovered_at":"`+now.Format(time.RFC3339)+`",`, "", 1)
	noDiscovery = strings.Replace(noDiscovery, "SIEM-4411", "SIEM-4412", 1)
	code, st2 := c.do("POST", "/v1/incidents", admin, noDiscovery, nil)
	facts, _ := st2["facts"].(map[string]any)
	if code != 201 || facts["discovered_at"] != now.Format(time.RFC3339) || fmt.Sprint(facts["assumed"]) != "[discovered_at]" {
		t.Fatalf("launch without discovered_at: %d facts %v; want it assumed from aware_at", code, facts)
	}
	if ca := obligation(st2, "us-ca-residents"); ca == nil || ca["due_at"] == nil {
		t.Fatalf("us-ca-residents with an assumed discovery: %v; want a due time", ca)
	}
	id2 := fmt.Sprint(st2["id"])
	stated := now.Add(-2 * time.Hour).Format(time.RFC3339)
	code, patched := c.do("PATCH", "/v1/incidents/"+id2, admin, map[string]any{"discovered_at": stated}, nil)
	facts, _ = patched["facts"].(map[string]any)
	if code != 200 || facts["discovered_at"] != stated || facts["assumed"] != nil {
		t.Fatalf("PATCH discovered_at: %d facts %v; want it stated, no longer assumed", code, facts)
	}

	// The containment actions run through the recorder once triage is done.
	if code, body := c.do("POST", "/v1/incidents/"+id+"/steps/triage/complete", admin, map[string]any{"note": "confirmed"}, nil); code != 200 {
		t.Fatalf("complete triage: %d %v", code, body)
	}
	for _, step := range []string{"rotate-credentials", "disable-accounts"} {
		eventually(t, 30*time.Second, step+" done by its webhook", func() bool {
			_, st := c.do("GET", "/v1/incidents/"+id, admin, nil, nil)
			return c.stepState(admin, id, step) == "done" && timelineHas(st, "action.succeeded", "step:"+step)
		})
	}
	_, st = c.do("GET", "/v1/incidents/"+id, admin, nil, nil)
	if timelineHas(st, "action.failed", "step:rotate-credentials") || timelineHas(st, "action.failed", "step:disable-accounts") {
		t.Error("an action failed before it succeeded")
	}
	code, list := c.do("GET", "/dev/actions", admin, nil, nil)
	got := fmt.Sprint(list["actions"])
	if code != 200 || !strings.Contains(got, "rotate-credentials") || !strings.Contains(got, "disable-account") || !strings.Contains(got, id) {
		t.Errorf("/dev/actions: %d %v; want both calls for %s", code, list, id)
	}
}
