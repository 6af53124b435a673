package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/store"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// benchLaunchCommand is `breachflow bench launch`.
func benchLaunchCommand() *cobra.Command {
	var n, rate int
	cmd := &cobra.Command{
		Use:   "launch --launches N --rate R",
		Short: "Launch latency: N incidents through the API at R launches a second, p50/p99",
		Long: `Starts the embedded stack (SQLite store) and launches N incidents through
POST /v1/incidents at a steady R a second (open loop: a launch starts on
schedule whether or not earlier ones have answered), then prints the
latency percentiles of the answers and the rate achieved.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || rate < 1 {
				return fmt.Errorf("--launches and --rate: want at least 1")
			}
			return benchAPI(cmd.Context(), cmd.OutOrStdout(), n, rate, 0, 0)
		},
	}
	cmd.Flags().IntVar(&n, "launches", 1000, "incidents to launch")
	cmd.Flags().IntVar(&rate, "rate", 50, "launches a second")
	return cmd
}

// benchListCommand is `breachflow bench list`.
func benchListCommand() *cobra.Command {
	var n, rate, requests, launched int
	cmd := &cobra.Command{
		Use:   "list --incidents N --requests R",
		Short: "API latency of GET /v1/incidents and GET /v1/deadlines with N open incidents",
		Long: `Starts the embedded stack (SQLite store), launches --launched incidents
through the API (real workflows, at --rate a second), seeds N more open
incidents straight into the store's index (the incidents table and two
obligations each, as the workflows would index them: launching ten
thousand workflows takes far longer than the measurement), then times R
calls each of GET /v1/incidents (the first page, as admin and as a
responder, one restricted incident in ten that the responder is no member
of) and GET /v1/deadlines, one at a time, and prints p50/p99/max.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 0 || launched < 1 || rate < 1 || requests < 1 {
				return fmt.Errorf("--launched, --rate and --requests: want at least 1; --incidents at least 0")
			}
			return benchAPI(cmd.Context(), cmd.OutOrStdout(), launched, rate, requests, n)
		},
	}
	cmd.Flags().IntVar(&n, "incidents", 10000, "open incidents to seed into the store's index")
	cmd.Flags().IntVar(&launched, "launched", 20, "incidents to launch through the API first")
	cmd.Flags().IntVar(&rate, "rate", 10, "launches a second")
	cmd.Flags().IntVar(&requests, "requests", 200, "calls of each list route to time")
	return cmd
}

// benchAPI launches n incidents at rate a second and prints the launch
// latencies; with requests > 0 it then seeds seeded more into the store's
// index and times the list routes.
func benchAPI(ctx context.Context, out io.Writer, n, rate, requests, seeded int) error {
	dir, err := os.MkdirTemp("", "breachflow-bench-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := map[string]string{
		"BREACHFLOW_DATA_DIR": filepath.Join(dir, "data"), "BREACHFLOW_HTTP_ADDR": "127.0.0.1:0",
		"BREACHFLOW_DEV_TEMPORAL_PORT": "0", "BREACHFLOW_DEV_UI_PORT": "0", "BREACHFLOW_DEV_SMTP_ADDR": "127.0.0.1:0",
	}
	cfg, err := config.Flags(pflag.NewFlagSet("bench", pflag.ContinueOnError), func(k string) string { return env[k] })()
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stack, err := startDev(ctx, cfg, devOptions{Out: io.Discard, Logger: quiet, TemporalLogLevel: "fatal"})
	if err != nil {
		return err
	}
	defer stack.Stop()
	base := "http://" + stack.httpAddr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	call := func(method, path, token string, body []byte, want int) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != want {
			return took, fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, raw)
		}
		return took, nil
	}

	launch, _ := json.Marshal(map[string]any{"playbook": "customer-data-breach", "title": "Bench incident", "severity": "high",
		"aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "data_categories": []string{"contact"},
		"jurisdictions": []string{"US-CA", "GB"}})
	var (
		mu       sync.Mutex
		took     []time.Duration
		failed   int
		firstErr error
		wg       sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	start := time.Now()
	for range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := call("POST", "/v1/incidents", stack.token, launch, http.StatusCreated)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			took = append(took, d)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Fprintf(out, "launch, embedded stack (SQLite), %d incidents at %d/s (achieved %.1f/s):\n", n, rate, float64(n)/elapsed.Seconds())
	fmt.Fprintf(out, "  POST /v1/incidents  %s  (%d answered 201)\n", percentiles(took), len(took))
	if failed > 0 {
		// Reported, not hidden: an overloaded machine answers 503s.
		fmt.Fprintf(out, "  %d of %d launches failed, the first: %v\n", failed, n, firstErr)
		if requests > 0 {
			return fmt.Errorf("%d launches failed", failed)
		}
	}
	if requests == 0 {
		return nil
	}
	seedStart := time.Now()
	if err := seedIncidents(ctx, stack, seeded); err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d open incidents into the store's index in %s\n", seeded, time.Since(seedStart).Round(time.Millisecond))
	responder, err := benchToken(ctx, stack, "bench-responder", "responder")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "list routes with %d open incidents (%d launched, %d seeded), %d calls each, one at a time:\n", n+seeded, n, seeded, requests)
	for _, r := range []struct{ name, path, token string }{
		{"GET /v1/incidents (admin)", "/v1/incidents", stack.token},
		{"GET /v1/incidents (responder)", "/v1/incidents", responder},
		{"GET /v1/incidents?status=active&page_size=100", "/v1/incidents?status=active&page_size=100", stack.token},
		{"GET /v1/deadlines (admin)", "/v1/deadlines", stack.token},
		{"GET /v1/deadlines (responder)", "/v1/deadlines", responder},
	} {
		var ds []time.Duration
		for i := range requests + 5 {
			d, err := call("GET", r.path, r.token, nil, http.StatusOK)
			if err != nil {
				return err
			}
			if i >= 5 { // the first few warm caches up
				ds = append(ds, d)
			}
		}
		fmt.Fprintf(out, "  %-48s %s\n", r.name, percentiles(ds))
	}
	return nil
}

// benchToken creates an API token of role through the store.
func benchToken(ctx context.Context, stack *devStack, name, role string) (string, error) {
	secret, _, err := stack.store.CreateToken(ctx, name, role)
	if err != nil {
		return "", fmt.Errorf("token %s: %w", name, err)
	}
	return secret, nil
}

// percentiles formats p50, p99 and the maximum of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("p50 %8s  p99 %8s  max %8s", r(at(0.50)), r(at(0.99)), r(s[len(s)-1]))
}

// seedIncidents writes n open incidents into the store's index as
// launches and their workflows would: the incident row (one in ten
// restricted to a member who is not the bench's responder) and two
// pending obligations with due times spread over the next days.
func seedIncidents(ctx context.Context, stack *devStack, n int) error {
	now := time.Now().UTC()
	for i := range n {
		in := store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: []string{"low", "medium", "high", "critical"}[i%4],
			CreatedBy: "bench", CreatedAt: now.Add(-time.Duration(n-i) * time.Second), Title: fmt.Sprintf("Seeded incident %d", i)}
		if i%10 == 0 {
			in.Restricted, in.Members = true, []string{"someone-else"}
		}
		rec, _, err := stack.store.CreateIncident(ctx, in)
		if err != nil {
			return fmt.Errorf("seed incident %d: %w", i, err)
		}
		due1, due2 := now.Add(time.Duration(i%500)*time.Hour/4), now.Add(time.Duration(i%97)*time.Hour)
		rows := []store.ObligationRow{
			{ObligationID: "uk-gdpr-art33", Regime: "UK GDPR Art. 33", Jurisdiction: "GB", Recipient: "regulator", RecipientName: "ICO",
				Deadline: "72 hours", DueAt: &due1, Status: store.ObligationPending},
			{ObligationID: "ca-1798.82", Regime: "Cal. Civ. Code 1798.82", Jurisdiction: "US-CA", Recipient: "subjects", RecipientName: "affected residents",
				Deadline: "most expedient time", Standard: "without unreasonable delay", DueAt: &due2, Status: store.ObligationPending},
		}
		if err := stack.store.PutObligations(ctx, rec.ID, rows); err != nil {
			return fmt.Errorf("seed obligations of %s: %w", rec.ID, err)
		}
	}
	return nil
}
