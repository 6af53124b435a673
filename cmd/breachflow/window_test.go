package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/sdk/client"
)

// TestNoticesWindowSurvivesAKilledWorker runs two `breachflow worker
// --queue notices` processes, SIGKILLs one a quarter of the way through
// the send, and leaves the other to carry on alone. The batches the
// killed worker held must not hold up the rest: the longest pause at the
// SMTP peer between the kill and the last notice stays within a few
// seconds (the heartbeat timeout plus a retry's backoff), every customer
// ends with one sent notice in the store, the peer saw every Message-ID,
// and a repeat is only ever a notice claimed twice (its batch was in
// flight at the kill), bounded by what the killed worker had in flight.
func TestNoticesWindowSurvivesAKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and two worker processes")
	}
	const n, perWorker = 3000, 4
	dir := t.TempDir()
	sink, err := mailcatcher.Start("127.0.0.1:0", 3*n)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close(context.Background())
	cfg := devConfig(t, dir)
	cfg.SMTPAddr = sink.Addr()
	cfg.WorkerQueues = "incidents" // the notices queue is the child processes'
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	id, status := launchWithCustomers(t, c, stack, n)

	keys, err := os.ReadFile(filepath.Join(dir, "encryption-keys"))
	if err != nil {
		t.Fatal(err)
	}
	env := noticesWorkerEnv(stack, sink.Addr(), strings.TrimSpace(string(keys)),
		"BREACHFLOW_NOTICE_BATCHES="+strconv.Itoa(perWorker),
		"BREACHFLOW_NOTICE_RATE=300") // each; slow enough that the kill lands mid-send
	victim, victimOut := startWorkerProcess(t, env)
	survivor, survivorOut := startWorkerProcess(t, env)
	defer func() {
		_ = survivor.Process.Kill()
		_ = survivor.Wait()
	}()
	run, err := stack.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.NoticesWorkflowID(id, "window-test"), TaskQueue: workflows.TaskQueue},
		workflows.NotifyCustomers, &workflows.NotifyInput{IncidentID: id, Incident: status})
	if err != nil {
		t.Fatal(err)
	}
	mine := func(m mailcatcher.Message) bool { return strings.HasPrefix(m.MessageID, "<"+id+".customer.") }
	deadline := time.Now().Add(3 * time.Minute)
	for count(sink, mine) < n/4 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d notices sent in 3 minutes; workers said:\n%s\n%s", count(sink, mine), victimOut, survivorOut)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := victim.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	_ = victim.Wait()
	atKill := count(sink, mine)
	var res workflows.NotifyResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("notice run: %v\nsurvivor said:\n%s", err, survivorOut)
	}
	if res.Tally.Sent != n || res.Tally.Total != n {
		t.Fatalf("tally %+v, want all %d sent", res.Tally, n)
	}

	var after []time.Time
	seen := map[string]int{}
	for _, m := range sink.All() {
		if !mine(m) {
			continue
		}
		seen[m.MessageID]++
		if m.ReceivedAt.After(killedAt) {
			after = append(after, m.ReceivedAt)
		}
	}
	sort.Slice(after, func(i, j int) bool { return after[i].Before(after[j]) })
	gap, prev := time.Duration(0), killedAt
	for _, at := range after {
		gap = max(gap, at.Sub(prev))
		prev = at
	}
	attempts, sent := sentAttempts(t, c, stack.token, id)
	// The bound: the killed worker's batches in flight.
	repeats := checkSentOnce(t, seen, attempts, sent, n, perWorker*workflows.DefaultNoticeBatch)
	t.Logf("%d notices, two workers: killed one after %d were sent; all sent %s after the kill; longest pause at the SMTP peer %s; %d repeats (same Message-IDs); %d batches, %d runs, %d sweeps",
		n, atKill, prev.Sub(killedAt).Round(time.Millisecond), gap.Round(time.Millisecond), repeats, res.Batches, res.Runs, res.Sweeps)
	if maxGap := 8 * time.Second; gap > maxGap {
		t.Errorf("sending paused %s after the kill; a lost batch must not hold up the rest (want at most %s)", gap.Round(time.Millisecond), maxGap)
	}
}

// launchWithCustomers launches an incident, imports n customers and
// returns its id and the status a notice run is started with, carrying
// legal's texts as the incident would hand them over.
func launchWithCustomers(t *testing.T, c apiClient, stack *devStack, n int) (string, *breach.Status) {
	t.Helper()
	id, _ := launchUSCustomers(t, c, stack.token, "Window test", "", n)
	q, err := stack.client.QueryWorkflow(context.Background(), workflows.IncidentWorkflowID(id), "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var status breach.Status
	if err := q.Get(&status); err != nil {
		t.Fatal(err)
	}
	status.NoticeTexts = map[string]breach.NoticeText{"en": {WhatHappened: "A file was public.", WhatWeAreDoing: "We closed it."}}
	status.Timeline, status.Steps, status.Obligations = nil, nil, nil
	return id, &status
}

// noticesWorkerEnv is the environment of a `breachflow worker` serving
// the notices queue of stack, sending to smtpAddr.
func noticesWorkerEnv(stack *devStack, smtpAddr, keys string, extra ...string) []string {
	env := append(os.Environ(),
		"BREACHFLOW_TEST_SUBPROCESS=worker",
		"BREACHFLOW_WORKER_QUEUES=notices",
		"BREACHFLOW_TEMPORAL_ADDRESS="+stack.temporal.FrontendHostPort(),
		"BREACHFLOW_DATABASE_URL="+stack.cfg.DevDatabaseURL(),
		"BREACHFLOW_ENCRYPTION_KEYS="+keys,
		"BREACHFLOW_HMAC_KEY="+stack.cfg.HMACKey,
		"BREACHFLOW_ACTOR_KEY="+stack.cfg.ActorKey,
		"BREACHFLOW_AUDIT_KEYS="+stack.cfg.AuditKeys,
		"BREACHFLOW_SMTP_ADDR="+smtpAddr,
		"BREACHFLOW_SMTP_INSECURE=true", // the test's catcher, on loopback
	)
	return append(env, extra...)
}

// startWorkerProcess starts the test binary as `breachflow worker` with
// env; its output is kept for failure messages.
func startWorkerProcess(t *testing.T, env []string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	return cmd, &out
}
