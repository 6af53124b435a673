package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// rollDrill is the name of TestCluster's drill (e).
const rollDrill = "workers rolled to a new build with incidents open"

// subtestSelected reports whether go test's -run lets TestCluster's
// subtest name run (its second element, when it has one).
func subtestSelected(name string) bool {
	f := flag.Lookup("test.run")
	if f == nil {
		return true
	}
	parts := strings.SplitN(f.Value.String(), "/", 2)
	if len(parts) < 2 {
		return true
	}
	re, err := regexp.Compile(parts[1])
	return err != nil || re.MatchString(strings.ReplaceAll(name, " ", "_"))
}

// buildRollDrill starts `go build -tags rolldrill` of this command in the
// background, into the kept binaries' directory so an unchanged tree
// links nothing; the function it returns waits for the binary.
func buildRollDrill(t *testing.T, binDir string) func() (string, error) {
	t.Helper()
	out := filepath.Join(binDir, "rolldrill", "breachflow")
	done := make(chan error, 1)
	var took time.Duration
	go func() {
		started := time.Now()
		cmd := exec.Command("go", "build", "-tags", "rolldrill", "-o", out, ".")
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		raw, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build -tags rolldrill: %v\n%s", err, raw)
		}
		took = time.Since(started)
		done <- err
	}()
	return func() (string, error) {
		if err := <-done; err != nil {
			return "", err
		}
		t.Logf("go build -tags rolldrill took %s, beside the other drills", took.Round(time.Millisecond))
		return out, nil
	}
}

// Drill (e): the workers are rolled to a new build (the rolldrill build,
// whose one workflow change is behind GetVersion workflows.RollDrillChange:
// an approval step's approvers are mailed the moment it is ready) while
// incidents are open, with `deploy/cluster.sh roll`: replay of every open
// workflow first, then each worker started anew beside the old one, which
// is stopped with SIGTERM, then the API. A run decides the change's version
// where it first reaches the changed code: P readied its approval on the
// old build and keeps the old behaviour, even when its approval is readied
// again after the roll; A reaches its approval only after the roll and
// takes the new path, then closes on the new build; B is launched on the
// new build. No workflow task fails, and every history replays against
// the new build, while the old build can no longer replay A and B.
func testClusterRoll(t *testing.T, tc *testCluster, second string, build func() (string, error)) {
	began := time.Now()
	newBin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	waited := time.Since(began)
	launch := func(title string) string {
		t.Helper()
		code, inc := tc.c.do("POST", "/v1/incidents", tc.token, map[string]any{"playbook": "customer-data-breach", "title": title,
			"severity": "high", "aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
			"data_categories": []string{"contact"}, "jurisdictions": []string{"DE"}}, nil)
		if code != 201 {
			t.Fatalf("launch %s: %d %v", title, code, inc)
		}
		id := inc["id"].(string)
		if code, body := tc.c.do("PATCH", "/v1/incidents/"+id, tc.token, map[string]any{"risk": "high", "affected": map[string]int{"DE": 40}}, nil); code != 200 {
			t.Fatalf("patch %s: %d %v", id, code, body)
		}
		if code, body := tc.c.do("PUT", "/v1/incidents/"+id+"/notices/texts/en", tc.token,
			map[string]any{"what_happened": "A file was public.", "what_we_are_doing": "We closed it."}, nil); code != 200 {
			t.Fatalf("notice text %s: %d %v", id, code, body)
		}
		return id
	}
	ready := func(step string) func(map[string]any) bool {
		return func(st map[string]any) bool { return stepOf(t, st, step)["state"] == "ready" }
	}
	act := func(id, verb, step, by string, body map[string]any) {
		t.Helper()
		path := fmt.Sprintf("/v1/incidents/%s/steps/%s/%s", id, step, verb)
		if code, resp := tc.c.do("POST", path, by, body, nil); code != 200 {
			t.Fatalf("%s: %d %v", path, code, resp)
		}
	}

	// On the old build: P as far as its approval, A as far as the draft.
	p, a := launch("Roll drill: approval readied before the roll"), launch("Roll drill: approval readied after the roll")
	tc.drive(p, second, 2*time.Minute, ready("approve-notice"))
	tc.drive(a, second, 2*time.Minute, ready("draft-notice"))

	rollStart := time.Now()
	if out, err := tc.script("roll", newBin); err != nil {
		t.Fatalf("cluster.sh roll: %v\n%s", err, out)
	} else {
		t.Logf("cluster.sh roll took %s:\n%s", time.Since(rollStart).Round(time.Millisecond), out)
	}
	rolled := time.Now()
	oldBin := filepath.Join(tc.bin, "breachflow.prev")
	t.Cleanup(func() {
		// The next run's `go build` then finds the shipped build in place.
		_ = os.Rename(oldBin, filepath.Join(tc.bin, "breachflow"))
	})

	// A reaches its approval on the new build; P reaches its own again
	// (rejected, redrafted) and is approved by two people; B starts anew.
	act(a, "complete", "draft-notice", tc.token, map[string]any{"note": "drafted after the roll"})
	act(p, "decide", "approve-notice", tc.token, map[string]any{"decision": "reject", "reason": "redraft after the roll"})
	act(p, "complete", "draft-notice", tc.token, map[string]any{"note": "redrafted after the roll"})
	act(p, "decide", "approve-notice", tc.token, map[string]any{"decision": "approve"})
	act(p, "decide", "approve-notice", second, map[string]any{"decision": "approve"})
	b := launch("Roll drill: launched on the new build")
	tc.drive(b, second, 2*time.Minute, ready("approve-notice"))
	workToClose(t, tc.c, tc.token, second, a)
	drove := time.Now()

	// The new path, where and only where a run first reached it on the
	// new build: in the timeline, in the mail, and as a version marker.
	asked := func(id string) func(mailcatcher.Message) bool {
		return func(m mailcatcher.Message) bool {
			return strings.Contains(m.Subject, "["+id+"] Reminder: Step: Approve notice wording")
		}
	}
	want := map[string]int{p: 0, a: 1, b: 1}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range []string{a, b} {
		if _, err := tc.sink.Wait(ctx, asked(id)); err != nil {
			t.Errorf("%s: no mail asking legal to approve: %v", id, err)
		}
	}
	time.Sleep(time.Second) // a repeat, or P's mail, would be as quick
	hc := tc.historyClient()
	for _, id := range []string{p, a, b} {
		if n := count(tc.sink, asked(id)); n != want[id] {
			t.Errorf("%s: %d mails asking legal to approve, want %d", id, n, want[id])
		}
		_, st := tc.c.do("GET", "/v1/incidents/"+id, tc.token, nil, nil)
		var entries []time.Time
		for _, e := range st["timeline"].([]any) {
			if e := e.(map[string]any); e["action"] == "step.approval_requested" {
				at, _ := time.Parse(time.RFC3339Nano, e["at"].(string))
				entries = append(entries, at)
			}
		}
		h := hc.history(id)
		markers := hc.rollMarkers(h)
		if len(entries) != want[id] || len(markers) != want[id] {
			t.Errorf("%s: %d step.approval_requested entries and %d %s markers, want %d of each", id, len(entries), len(markers), workflows.RollDrillChange, want[id])
		}
		for _, at := range append(entries, markers...) {
			if at.Before(rolled.Add(-time.Second)) { // the server's clock is this machine's
				t.Errorf("%s took the new path at %s, before the roll ended at %s", id, at, rolled)
			}
		}
		for _, ev := range h.GetEvents() {
			if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
				a := ev.GetWorkflowTaskFailedEventAttributes()
				t.Errorf("%s: workflow task failed (event %d, %s): %s", id, ev.GetEventId(), a.GetCause(), a.GetFailure().GetMessage())
			}
		}
	}
	if st := tc.status(a); st["status"] != "closed" {
		t.Errorf("%s is %v after the drive to close on the new build", a, st["status"])
	}
	if out, err := tc.breachflow("audit", "verify", a); err != nil {
		t.Errorf("breachflow audit verify %s: %v\n%s", a, err, out)
	}

	// Every history replays against the new build; the old build can no
	// longer replay the runs that took the new path (why a roll goes
	// forward), and `breachflow replay` names them.
	replay := func(bin string, ids ...string) (string, error) {
		args := []string{"replay"}
		for _, id := range ids {
			args = append(args, "--workflow", id)
		}
		return tc.exec(bin, args...)
	}
	if out, err := replay(newBin, p, a, b); err != nil {
		t.Errorf("the new build does not replay the drill's histories: %v\n%s", err, out)
	}
	if out, err := replay(oldBin, p); err != nil {
		t.Errorf("the old build does not replay %s, which never took the new path: %v\n%s", p, err, out)
	}
	out, err := replay(oldBin, a, b)
	if err == nil || !strings.Contains(out, "FAIL "+workflows.IncidentWorkflowID(a)) || !strings.Contains(out, "FAIL "+workflows.IncidentWorkflowID(b)) {
		t.Errorf("the old build's replay of %s and %s, which took the new path: %v\n%s\nwant both named as failing", a, b, err, out)
	}
	t.Logf("roll drill: waited %s for the rolldrill build; roll %s; incidents driven on the new build in %s; whole drill %s; P %s kept the old path, A %s took the new one after the roll, B %s from launch; no workflow task failed",
		waited.Round(time.Millisecond), rolled.Sub(rollStart).Round(time.Millisecond), drove.Sub(rolled).Round(time.Millisecond),
		time.Since(began).Round(time.Millisecond), p, a, b)
}

// status answers an incident's status through the API.
func (tc *testCluster) status(id string) map[string]any {
	tc.t.Helper()
	code, st := tc.c.do("GET", "/v1/incidents/"+id, tc.token, nil, nil)
	if code != 200 {
		tc.t.Fatalf("GET %s: %d %v", id, code, st)
	}
	return st
}

// exec runs a breachflow binary with the cluster's variables.
func (tc *testCluster) exec(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = tc.processEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// historyReader reads workflow histories from the cluster with its codec.
type historyReader struct {
	t    *testing.T
	tc   *testCluster
	keys *codec.Keyring
}

func (tc *testCluster) historyClient() *historyReader {
	keys, err := codec.ParseKeys(tc.envOf("BREACHFLOW_ENCRYPTION_KEYS"))
	if err != nil {
		tc.t.Fatal(err)
	}
	return &historyReader{t: tc.t, tc: tc, keys: keys}
}

// history is the latest run's history of the incident id.
func (r *historyReader) history(id string) *historypb.History {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := workflows.Dial(ctx, r.tc.envOf("BREACHFLOW_TEMPORAL_ADDRESS"), r.tc.envOf("BREACHFLOW_TEMPORAL_NAMESPACE"), r.keys,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	h, err := fetchHistory(ctx, c, workflows.IncidentWorkflowID(id), "")
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// rollMarkers are the times of the history's version markers of
// workflows.RollDrillChange.
func (r *historyReader) rollMarkers(h *historypb.History) []time.Time {
	dc := codec.DataConverter(r.keys)
	var at []time.Time
	for _, ev := range h.GetEvents() {
		m := ev.GetMarkerRecordedEventAttributes()
		if m == nil || m.GetMarkerName() != "Version" {
			continue
		}
		var change string
		if err := dc.FromPayloads(m.GetDetails()["change-id"], &change); err != nil {
			r.t.Fatalf("version marker of event %d: %v", ev.GetEventId(), err)
		}
		if change == workflows.RollDrillChange {
			at = append(at, ev.GetEventTime().AsTime())
		}
	}
	return at
}
