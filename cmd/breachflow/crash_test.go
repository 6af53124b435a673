package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/sdk/client"
)

// TestMain lets the test binary stand in for `breachflow worker` in a
// child process, so a test can kill a worker for real.
func TestMain(m *testing.M) {
	if os.Getenv("BREACHFLOW_TEST_SUBPROCESS") == "assign" {
		os.Exit(assignSubprocess()) // remedy_e2e_test.go, for TestCustomersEndToEnd
	}
	if os.Getenv("BREACHFLOW_TEST_SUBPROCESS") == "worker" {
		root := rootCommand()
		root.SetArgs([]string{"worker"})
		if err := root.Execute(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) == 3 && os.Args[1] == "bench" && os.Args[2] == "sink" {
		// bench notify's SMTP sink (benchsink.go) starts this binary so.
		root := rootCommand()
		root.SetArgs(os.Args[1:])
		if err := root.Execute(); err != nil {
			fmt.Fprintln(os.Stderr, "bench sink:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestNoticeWorkerKilledMidSend kills the worker process that sends the
// notices (SIGKILL, no goodbye) a quarter of the way through, and starts
// another. Every customer ends with exactly one sent notice; the SMTP peer
// saw every Message-ID; a repeat is possible only for the notices of the
// batches in flight at the kill, and carries the same Message-ID.
// BREACHFLOW_CRASH_SUBJECTS sets N (default 5,000; the figure is 20,000).
func TestNoticeWorkerKilledMidSend(t *testing.T) {
	n := 5000
	if v := os.Getenv("BREACHFLOW_CRASH_SUBJECTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			t.Fatalf("BREACHFLOW_CRASH_SUBJECTS=%q", v)
		}
	}
	const batches, batchSize = 4, workflows.DefaultNoticeBatch
	dir := t.TempDir()
	sink, err := mailcatcher.Start("127.0.0.1:0", 3*n)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close(context.Background())
	cfg := devConfig(t, dir)
	cfg.SMTPAddr = sink.Addr()
	cfg.WorkerQueues = "incidents" // the notices queue is the child process's
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token

	id, _ := launchUSCustomers(t, c, admin, "Crash test", "", n)
	st, err := stack.client.QueryWorkflow(ctx, workflows.IncidentWorkflowID(id), "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var status breach.Status
	if err := st.Get(&status); err != nil {
		t.Fatal(err)
	}
	// The run is started here directly, so it carries legal's texts as
	// the incident would hand them over.
	status.NoticeTexts = map[string]breach.NoticeText{
		"en":    {WhatHappened: "A file was public.", WhatWeAreDoing: "We closed it."},
		"zh-CN": {WhatHappened: "一个文件曾被公开。", WhatWeAreDoing: "我们已将其关闭。"}}
	status.Timeline, status.Steps, status.Obligations = nil, nil, nil

	keys, err := os.ReadFile(filepath.Join(dir, "encryption-keys"))
	if err != nil {
		t.Fatal(err)
	}
	startWorker := func(name string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0])
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(),
			"BREACHFLOW_TEST_SUBPROCESS=worker",
			"BREACHFLOW_WORKER_QUEUES=notices",
			"BREACHFLOW_TEMPORAL_ADDRESS="+stack.temporal.FrontendHostPort(),
			"BREACHFLOW_DATABASE_URL="+cfg.DevDatabaseURL(),
			"BREACHFLOW_ENCRYPTION_KEYS="+strings.TrimSpace(string(keys)),
			"BREACHFLOW_HMAC_KEY="+cfg.HMACKey,
			"BREACHFLOW_ACTOR_KEY="+cfg.ActorKey,
			"BREACHFLOW_AUDIT_KEYS="+cfg.AuditKeys,
			"BREACHFLOW_SMTP_ADDR="+sink.Addr(),
			"BREACHFLOW_SMTP_INSECURE=true", // the test's catcher, on loopback
			"BREACHFLOW_NOTICE_BATCHES="+strconv.Itoa(batches),
			"BREACHFLOW_NOTICE_RATE=2000", // slow enough to be caught mid-send
		)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s worker: %v", name, err)
		}
		return cmd, &out
	}
	first, firstOut := startWorker("first")
	run, err := stack.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.NoticesWorkflowID(id, "crash-test"), TaskQueue: workflows.TaskQueue},
		workflows.NotifyCustomers, &workflows.NotifyInput{IncidentID: id, Incident: &status})
	if err != nil {
		t.Fatal(err)
	}
	mine := func(m mailcatcher.Message) bool { return strings.HasPrefix(m.MessageID, "<"+id+".customer.") }
	deadline := time.Now().Add(3 * time.Minute)
	for count(sink, mine) < n/4 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d notices sent in 3 minutes; worker said:\n%s", count(sink, mine), firstOut)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := count(sink, mine)
	killedAt := time.Now()
	second, secondOut := startWorker("second")
	defer func() {
		_ = second.Process.Kill()
		_ = second.Wait()
	}()
	var res workflows.NotifyResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("notice run: %v\nsecond worker said:\n%s", err, secondOut)
	}
	if res.Tally.Sent != n || res.Tally.Total != n {
		t.Fatalf("tally %+v, want all %d sent", res.Tally, n)
	}
	// The killed worker's batches were taken back by their own retries
	// (Temporal declared the attempts dead); no sweep was needed.
	if res.Sweeps != 0 {
		t.Errorf("the run needed %d sweeps: the retried batches did not take back their claims", res.Sweeps)
	}
	seen := map[string]int{}
	for _, m := range sink.All() {
		if mine(m) {
			seen[m.MessageID]++
		}
	}
	// Attempts per notice, from the API: a repeat must be a notice whose
	// batch was in flight, i.e. claimed twice.
	attempts, sent := sentAttempts(t, c, admin, id)
	repeats := checkSentOnce(t, seen, attempts, sent, n, batches*batchSize)
	t.Logf("%d notices: killed the worker after %d were sent; all sent %s after the kill, with %d repeats (same Message-IDs) and %d runs",
		n, atKill, time.Since(killedAt).Round(time.Millisecond), repeats, res.Runs)
}

func count(c *mailcatcher.Catcher, match func(mailcatcher.Message) bool) int {
	k := 0
	for _, m := range c.All() {
		if match(m) {
			k++
		}
	}
	return k
}
