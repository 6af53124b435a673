package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachflow/breachflow/workflows"
)

// scrape is the text of GET /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, raw)
	}
	return string(raw)
}

// The Temporal SDK's metrics of the stack's client and workers are on
// breachflow's /metrics beside the API's own, and they come from the
// incident the test launches.
func TestMetricsShowTemporalSDKBesideBreachflow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}

	before := scrape(t, c.base)
	if strings.Contains(before, `workflow_type="Incident"`) {
		t.Fatalf("Incident workflow metrics before any launch:\n%s", before)
	}
	if v := sample(t, before, "breachflow_obligations_past_due"); v != 0 {
		t.Fatalf("breachflow_obligations_past_due = %v on a fresh stack", v)
	}
	// Aware 80 hours ago in Germany: GDPR Art. 33's 72 hours have passed.
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{
		"playbook": "customer-data-breach", "title": "metrics probe", "severity": "low",
		"aware_at": time.Now().Add(-80 * time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"DE"},
		"data_categories": []string{"contact"}}, nil)
	if code != 201 && code != 202 {
		t.Fatalf("launch = %d %v", code, inc)
	}
	want := []string{
		`temporal_workflow_task_execution_latency_seconds_bucket{`,
		`temporal_activity_execution_latency_seconds_count{`,
		`temporal_request_total{`,
		`temporal_workflow_task_schedule_to_start_latency_seconds_count{`,
		`workflow_type="Incident"`,
		`breachflow_http_requests_total{method="POST",route="/v1/incidents"`,
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		text := scrape(t, c.base)
		var missing []string
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = append(missing, w)
			}
		}
		open := sample(t, text, `breachflow_open_obligations{status="pending"}`) + sample(t, text, `breachflow_open_obligations{status="overdue"}`)
		if past := sample(t, text, "breachflow_obligations_past_due"); past < 1 || open < past {
			missing = append(missing, fmt.Sprintf("past due %v ≥ 1 and open obligations %v ≥ past due", past, open))
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s /metrics lacks %q; the breachflow_ and temporal_ series it has:\n%s", missing, temporalLines(text))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sample is the value of the series named exactly so in text, 0 when absent.
func sample(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	return 0
}

func temporalLines(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "# TYPE temporal_") || strings.HasPrefix(l, "breachflow_o") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// `breachflow worker` with BREACHFLOW_METRICS_ADDR serves the Temporal
// SDK's metrics of its workers on that address.
func TestWorkerServesTemporalMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	dir := t.TempDir()
	cfg := devConfig(t, dir)
	cfg.WorkerQueues = "incidents" // the notices queue is the child process's
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{Out: &bytes.Buffer{}, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	keys, err := os.ReadFile(filepath.Join(dir, "encryption-keys"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(os.Args[0])
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(),
		"BREACHFLOW_TEST_SUBPROCESS=worker",
		"BREACHFLOW_WORKER_QUEUES=notices",
		"BREACHFLOW_METRICS_ADDR="+addr,
		"BREACHFLOW_TEMPORAL_ADDRESS="+stack.temporal.FrontendHostPort(),
		"BREACHFLOW_DATABASE_URL="+cfg.DevDatabaseURL(),
		"BREACHFLOW_ENCRYPTION_KEYS="+strings.TrimSpace(string(keys)),
		"BREACHFLOW_ACTOR_KEY="+cfg.ActorKey,
		"BREACHFLOW_HMAC_KEY="+cfg.HMACKey,
		"BREACHFLOW_AUDIT_KEYS="+cfg.AuditKeys,
		"BREACHFLOW_SMTP_ADDR="+stack.mail.Addr(),
		"BREACHFLOW_SMTP_INSECURE=true",
	)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	want := `temporal_num_pollers{`
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text := string(raw)
			if resp.StatusCode == 200 && strings.Contains(text, want) && strings.Contains(text, `task_queue="`+workflows.NoticesTaskQueue+`"`) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker's /metrics lacks %s for %s:\n%s", want, workflows.NoticesTaskQueue, temporalLines(text))
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("GET %s/metrics: %v; worker said:\n%s", addr, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
