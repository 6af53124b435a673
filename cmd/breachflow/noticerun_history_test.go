package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestNoticeRunBatches sends 1,100 customers' notices through the bench
// playbook and reads the notice run's history: a new run cuts its ranges
// into batches of workflows.DefaultNoticeBatch, one SendNoticeBatch
// activity each, and every customer is mailed once. With
// BREACHFLOW_WRITE_HISTORIES=1 the history is saved for the replay test
// as workflows/testdata/history-notices-run.json (history-notices-v0-batch200.json
// was written so by the code before "cost13-notice-batch-500", whose runs
// made batches of 200: it must keep replaying with them).
func TestNoticeRunBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	const customers = 1100
	dir := t.TempDir()
	pbDir := filepath.Join(dir, "playbooks")
	if err := os.MkdirAll(pbDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pbDir, "bench.yaml"), []byte(benchPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	sink, err := mailcatcher.Start("127.0.0.1:0", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close(context.Background())
	cfg := devConfig(t, filepath.Join(dir, "data"))
	cfg.EncryptionKeys = replayKey
	cfg.PlaybookDir = pbDir
	cfg.SMTPAddr = sink.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	c := apiClient{t: t, base: "http://" + stack.httpAddr}

	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{
		"playbook": "bench-notices", "title": "Notice batches", "severity": "high",
		"aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "data_categories": []string{"contact"},
		"jurisdictions": []string{"US-CA"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision,tier\n")
	for i := range customers {
		fmt.Fprintf(&csv, "C%d,Customer %d,c%d@example.com,en,US,US-CA,low\n", i, i, i)
	}
	if code, body := c.do("POST", base+"/subjects", stack.token, csv.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 || body["inserted"] != float64(customers) {
		t.Fatalf("import: %d %v", code, body)
	}
	if code, body := c.do("PUT", base+"/notices/texts/en", stack.token, map[string]any{
		"what_happened": "A file was public.", "what_we_are_doing": "We closed it."}, nil); code != 200 {
		t.Fatalf("notice text: %d %v", code, body)
	}
	if code, body := c.do("POST", base+"/steps/approve-notice/decide", stack.token, map[string]any{"decision": "approve"}, nil); code != 200 {
		t.Fatalf("approve: %d %v", code, body)
	}
	wfID := workflows.NoticesWorkflowID(id, "customer-notices")
	eventually(t, 2*time.Minute, "the notice run to end", func() bool {
		return stack.client.GetWorkflow(ctx, wfID, "").Get(ctx, nil) == nil
	})
	var hist historypb.History
	it := stack.client.GetWorkflowHistory(ctx, wfID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	batches := 0
	for _, ev := range hist.Events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "SendNoticeBatch" {
			batches++
		}
	}
	want := (customers + workflows.DefaultNoticeBatch - 1) / workflows.DefaultNoticeBatch
	if batches != want {
		t.Errorf("the run scheduled %d batches for %d customers, want %d (batches of %d)", batches, customers, want, workflows.DefaultNoticeBatch)
	}
	if got := sink.Total(); got != customers {
		t.Errorf("the sink received %d notices, want %d", got, customers)
	}
	if os.Getenv("BREACHFLOW_WRITE_HISTORIES") != "" {
		raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "workflows", "testdata", "history-notices-run.json"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
