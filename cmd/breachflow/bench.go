package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/templates"
	"github.com/breachflow/breachflow/workflows"
	"github.com/jordan-wright/email"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/api/serviceerror"
)

func benchCommand() *cobra.Command {
	bench := &cobra.Command{Use: "bench", Short: "Measure breachflow on this machine"}
	var n, pool, batches, sends int
	var cpuProfile, memProfile, databaseURL string
	notify := &cobra.Command{
		Use:   "notify --subjects N",
		Short: "Customer notices: the bare SMTP loop against the whole pipeline, to the same local sink",
		Long: `Sends N notices twice to an SMTP sink in a child process and prints both rates:

  (a) a bare loop: the same rendered notices through the same SMTP pool,
      with as many senders as the pipeline runs — the machine's limit;
  (b) the full pipeline on the embedded stack: CSV import over the API,
      legal's approval, the Temporal fan-out, the store, rendering, SMTP.

and their ratio, peak memory, and the CPU time import and sending cost per
1,000 customers: this process's (getrusage; the embedded Temporal server,
API, worker and a SQLite store run in it) and, with --database-url naming a
PostgreSQL server on this machine, its backends serving the run. The sink's
own CPU is printed apart: it is the relay's cost, not breachflow's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return fmt.Errorf("--subjects: want at least 1")
			}
			return benchNotify(cmd.Context(), cmd.OutOrStdout(), benchOptions{subjects: n, pool: pool, batches: batches, sends: sends,
				cpuProfile: cpuProfile, memProfile: memProfile, databaseURL: databaseURL})
		},
	}
	notify.Flags().IntVar(&n, "subjects", 10000, "how many customers to notify")
	notify.Flags().IntVar(&pool, "smtp-pool", 4, "SMTP connections (BREACHFLOW_SMTP_POOL)")
	notify.Flags().IntVar(&batches, "batches", 4, "notice batches at once (BREACHFLOW_NOTICE_BATCHES)")
	notify.Flags().IntVar(&sends, "sends", 8, "SMTP sends at once per batch (BREACHFLOW_NOTICE_CONCURRENCY)")
	notify.Flags().StringVar(&databaseURL, "database-url", "", "store the pipeline's data here (postgres://…; default a fresh SQLite file); the run leaves its incident in it")
	notify.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the pipeline run to this file")
	notify.Flags().StringVar(&memProfile, "memprofile", "", "write an allocation profile (since the process started) to this file after the pipeline run")
	bench.AddCommand(notify, benchAlertsCommand(), benchDetectCommand(), benchLaunchCommand(), benchListCommand(), benchClusterCommand(), benchSinkCommand())
	return bench
}

type benchOptions struct {
	subjects, pool, batches, sends int
	cpuProfile, memProfile         string
	databaseURL                    string
}

// benchPlaybook is the shortest playbook that sends customer notices:
// legal approves the wording, then every customer is notified.
const benchPlaybook = `id: bench-notices
version: 1
title: Notice benchmark
description: Approve the notice, then notify every affected customer.
steps:
  - id: approve-notice
    title: Approve notice wording
    kind: approval
    owner: legal
  - id: customer-notices
    title: Send customer notices
    kind: customer_notices
    owner: responder
    after: [approve-notice]
`

func benchNotify(ctx context.Context, out io.Writer, o benchOptions) error {
	sink, err := startSinkProcess()
	if err != nil {
		return err
	}
	defer sink.Close()
	fmt.Fprintf(out, "bench notify: %d subjects; SMTP pool %d; %d batches × %d sends at once; Go %s, %d CPUs\n",
		o.subjects, o.pool, o.batches, o.sends, runtime.Version(), runtime.NumCPU())

	bareHeap := watchHeap()
	bare, err := bareLoop(ctx, sink.Addr(), o)
	bareHeapPeak := bareHeap()
	if err != nil {
		return fmt.Errorf("bare loop: %w", err)
	}
	bareRate := float64(o.subjects) / bare.Seconds()
	fmt.Fprintf(out, "  bare loop      %7d notices in %8s  %8.0f/s   (heap peak %s)\n", o.subjects, bare.Round(time.Millisecond), bareRate, mib(bareHeapPeak))

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	pipeHeap := watchHeap()
	p, err := pipeline(ctx, sink, o)
	pipeHeapPeak := pipeHeap()
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	if o.memProfile != "" {
		if err := writeAllocProfile(o.memProfile); err != nil {
			return err
		}
	}
	sendRate := float64(o.subjects) / p.send.Seconds()
	e2e := p.imported + p.send
	fmt.Fprintf(out, "  import (API)   %7d rows    in %8s  %8.0f/s\n", o.subjects, p.imported.Round(time.Millisecond), float64(o.subjects)/p.imported.Seconds())
	fmt.Fprintf(out, "  pipeline send  %7d notices in %8s  %8.0f/s   ratio to bare %.0f%%   (heap peak %s)\n",
		o.subjects, p.send.Round(time.Millisecond), sendRate, 100*sendRate/bareRate, mib(pipeHeapPeak))
	fmt.Fprintf(out, "  import + send  %7d         in %8s  %8.0f/s   ratio to bare %.0f%%\n",
		o.subjects, e2e.Round(time.Millisecond), float64(o.subjects)/e2e.Seconds(), 100*float64(o.subjects)/e2e.Seconds()/bareRate)
	fmt.Fprintf(out, "  CPU import     %s\n", p.importCPU.perThousand(o.subjects, "rows"))
	fmt.Fprintf(out, "  CPU send       %s\n", p.sendCPU.perThousand(o.subjects, "notices"))
	all := cpuUse{process: p.importCPU.process + p.sendCPU.process, database: p.importCPU.database + p.sendCPU.database, dbSeen: p.sendCPU.dbSeen}
	fmt.Fprintf(out, "  CPU both       %s\n", all.perThousand(o.subjects, "customers"))
	fmt.Fprintf(out, "  CPU sink       %6.3f CPU-s per 1,000 notices (the SMTP sink's own process: the relay's cost, not breachflow's; not counted above)\n",
		p.sendCPU.sink.Seconds()*1000/float64(o.subjects))
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		fmt.Fprintf(out, "  peak RSS       %s (this process: embedded Temporal server, API, worker, store)\n", mib(uint64(ru.Maxrss)*1024))
	}
	total, err := sink.Total()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  sink received  %d messages; %d notices sent once each, %d runs, %d batches\n", total, p.sent, p.runs, p.batches)
	return nil
}

// writeAllocProfile writes the heap profile, whose alloc_space and
// alloc_objects views count every allocation since the process started.
func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// watchHeap samples the Go heap until the returned func is called, which
// answers the peak in bytes.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// benchIncident is what the notices say in both runs.
func benchIncident() *breach.Status {
	at := time.Now().UTC().Add(-2 * time.Hour)
	return &breach.Status{ID: "BR-BENCH0", Title: "Notice benchmark", LaunchedAt: at,
		Facts: breach.Facts{AwareAt: at, DataCategories: []string{"contact"}},
		NoticeTexts: map[string]breach.NoticeText{
			"en":    {WhatHappened: "A benchmark file was public.", WhatWeAreDoing: "We closed it."},
			"zh-CN": {WhatHappened: "一个基准测试文件曾被公开。", WhatWeAreDoing: "我们已将其关闭。"}}}
}

// bareLoop sends n notices, rendered once per locale, through one pooled
// mailer with batches×sends senders: no store, no Temporal, no per-notice
// rendering. It is the ceiling the pipeline is measured against.
func bareLoop(ctx context.Context, sinkAddr string, o benchOptions) (time.Duration, error) {
	mailer := &activities.Mailer{Addr: sinkAddr, TLS: "none", From: "security@localhost", PoolSize: o.pool}
	defer mailer.Close()
	org := templates.Organisation{Name: "Example Org", Email: "security@localhost"}
	var rendered [2]*templates.Notice
	for i, loc := range []string{"en", "zh-CN"} {
		nt, err := templates.RenderNotice(templates.NoticeInput{Incident: benchIncident(), Org: org, Locale: loc, Name: "Customer", GeneratedAt: time.Now()})
		if err != nil {
			return 0, err
		}
		rendered[i] = nt
	}
	jobs := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	start := time.Now()
	for range o.batches * o.sends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				nt := rendered[i%2]
				e := email.NewEmail()
				e.From, e.To, e.Subject = mailer.From, []string{fmt.Sprintf("c%d@example.com", i)}, nt.Subject
				e.Text, e.HTML = []byte(nt.Text), []byte(nt.HTML)
				e.Headers = textproto.MIMEHeader{}
				e.Headers.Set("Message-Id", fmt.Sprintf("<bare.%d@breachflow>", i))
				e.Headers.Set("Content-Language", nt.Locale)
				if err := mailer.SendEmail(ctx, e); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range o.subjects {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return took, nil
}

type pipelineRun struct {
	imported, send      time.Duration
	importCPU, sendCPU  cpuUse
	sent, runs, batches int
}

// pipeline runs the whole thing on a fresh embedded stack.
func pipeline(ctx context.Context, sink *sinkProcess, o benchOptions) (*pipelineRun, error) {
	dir, err := os.MkdirTemp("", "breachflow-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pbDir := filepath.Join(dir, "playbooks")
	if err := os.MkdirAll(pbDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(pbDir, "bench.yaml"), []byte(benchPlaybook), 0o600); err != nil {
		return nil, err
	}
	env := map[string]string{
		"BREACHFLOW_DATA_DIR": filepath.Join(dir, "data"), "BREACHFLOW_HTTP_ADDR": "127.0.0.1:0",
		"BREACHFLOW_DEV_TEMPORAL_PORT": "0", "BREACHFLOW_DEV_UI_PORT": "0",
		"BREACHFLOW_SMTP_ADDR": sink.Addr(), "BREACHFLOW_PLAYBOOK_DIR": pbDir,
		"BREACHFLOW_SMTP_POOL":          strconv.Itoa(o.pool),
		"BREACHFLOW_NOTICE_BATCHES":     strconv.Itoa(o.batches),
		"BREACHFLOW_NOTICE_CONCURRENCY": strconv.Itoa(o.sends),
	}
	var app string
	if o.databaseURL != "" {
		if env["BREACHFLOW_DATABASE_URL"], app, err = benchDatabaseURL(o.databaseURL); err != nil {
			return nil, err
		}
	}
	cfg, err := config.Flags(pflag.NewFlagSet("bench", pflag.ContinueOnError), func(k string) string { return env[k] })()
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stack, err := startDev(ctx, cfg, devOptions{Out: io.Discard, Logger: quiet, TemporalLogLevel: "fatal"})
	if err != nil {
		return nil, err
	}
	defer stack.Stop()
	meter := cpuMeter{sinkCPU: sink.CPU}
	if withDB, ok := stack.store.(interface{ DB() *sql.DB }); ok && app != "" && localPostgres(o.databaseURL) {
		meter.backends = watchBackends(withDB.DB(), app)
		defer meter.backends.Close()
	}
	api := &incidentAPI{base: "http://" + stack.httpAddr, token: stack.token, http: &http.Client{Timeout: time.Minute}}
	call := func(req apiRequest, out any) error {
		raw, err := api.do(ctx, req)
		if err != nil || out == nil {
			return err
		}
		return json.Unmarshal(raw, out)
	}

	var inc struct {
		ID string `json:"id"`
	}
	if err := call(apiRequest{method: "POST", path: "/v1/incidents", body: map[string]any{
		"playbook": "bench-notices", "title": "Notice benchmark", "severity": "high",
		"aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "data_categories": []string{"contact"},
		"jurisdictions": []string{"US-CA"},
	}}, &inc); err != nil {
		return nil, fmt.Errorf("launch: %w", err)
	}
	var csv bytes.Buffer
	csv.WriteString("external_id,name,email,locale,country,subdivision,tier\n")
	for i := range o.subjects {
		fmt.Fprintf(&csv, "C%d,Customer %d,c%d@example.com,%s,US,US-CA,low\n", i, i, i, []string{"en", "zh-CN"}[i%2])
	}
	before, err := sink.Total()
	if err != nil {
		return nil, err
	}
	run := &pipelineRun{}
	meter.mark(ctx)
	start := time.Now()
	if err := call(apiRequest{method: "POST", path: "/v1/incidents/" + inc.ID + "/subjects", upload: &csv, contentType: "text/csv"}, nil); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	run.imported = time.Since(start)
	run.importCPU = meter.since(ctx)
	for locale, text := range benchIncident().NoticeTexts {
		if err := call(apiRequest{method: "PUT", path: "/v1/incidents/" + inc.ID + "/notices/texts/" + locale,
			body: map[string]any{"what_happened": text.WhatHappened, "what_we_are_doing": text.WhatWeAreDoing}}, nil); err != nil {
			return nil, fmt.Errorf("notice texts %s: %w", locale, err)
		}
	}
	meter.mark(ctx)
	start = time.Now()
	if err := call(apiRequest{method: "POST", path: "/v1/incidents/" + inc.ID + "/steps/approve-notice/decide",
		body: map[string]any{"decision": "approve"}}, nil); err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	// Wait on the notice run's workflow rather than reading the incident
	// (and its delivery report, which counts every notice, page and code)
	// five times a second: that polling is no part of what a notice costs,
	// yet its CPU would be counted with the send's.
	noticesRun := stack.client.GetWorkflow(ctx, workflows.NoticesWorkflowID(inc.ID, "customer-notices"), "")
	// status reads the incident, failing when its notice run was refused.
	status := func() (*breach.Status, error) {
		var st breach.Status
		if err := call(apiRequest{method: "GET", path: "/v1/incidents/" + inc.ID}, &st); err != nil {
			return nil, err
		}
		for _, e := range st.Timeline {
			if e.Action == "notices.refused" {
				return nil, fmt.Errorf("the notice run was refused: %s", e.Note)
			}
		}
		return &st, nil
	}
	for {
		err := noticesRun.Get(ctx, nil)
		var missing *serviceerror.NotFound
		if !errors.As(err, &missing) {
			break // done, or failed: the incident's status below says which
		}
		if _, err := status(); err != nil {
			return nil, err
		}
		if time.Since(start) > time.Minute {
			return nil, errors.New("no notice run a minute after the approval")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for {
		st, err := status()
		if err != nil {
			return nil, err
		}
		if len(st.Notices) > 0 && st.Notices[0].FinishedAt != nil {
			r := st.Notices[0]
			if r.Error != "" || r.Result == nil {
				return nil, fmt.Errorf("the notice run failed: %s", r.Error)
			}
			run.send = r.FinishedAt.Sub(r.StartedAt)
			run.sendCPU = meter.since(ctx)
			run.sent = r.Result.Sent
			break
		}
		if time.Since(start) > 2*time.Hour {
			return nil, errors.New("no end to the notice run after 2 h")
		}
		time.Sleep(50 * time.Millisecond)
	}
	total, err := sink.Total()
	if err != nil {
		return nil, err
	}
	if got := total - before; got != o.subjects || run.sent != o.subjects {
		return nil, fmt.Errorf("the sink received %d messages and the store counts %d sent; want %d", got, run.sent, o.subjects)
	}
	var res workflows.NotifyResult
	if err := stack.client.GetWorkflow(ctx, workflows.NoticesWorkflowID(inc.ID, "customer-notices"), "").Get(ctx, &res); err == nil {
		run.runs, run.batches = res.Runs, res.Batches
	}
	return run, nil
}
