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
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/store"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// benchLaunchCommand is `breachflow bench launch`.
func benchLaunchCommand() *cobra.Command {
	var o apiBenchOptions
	cmd := &cobra.Command{
		Use:   "launch --launches N --rate R",
		Short: "Launch latency: N incidents through the API at R launches a second, p50/p99",
		Long: `Starts the embedded stack (SQLite store) and launches N incidents through
POST /v1/incidents at a steady R a second (open loop: a launch starts on
schedule whether or not earlier ones have answered), then prints the
latency percentiles of the answers and the rate achieved.

With --api URL it launches against a running deployment instead (the
cluster of deploy/cluster.sh: eval "$(deploy/cluster.sh env)"), as
BREACHFLOW_ADMIN_TOKEN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.launches < 1 || o.rate < 1 {
				return fmt.Errorf("--launches and --rate: want at least 1")
			}
			if o.api != "" {
				return benchLaunchAt(cmd.Context(), cmd.OutOrStdout(), o)
			}
			return benchAPI(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().IntVar(&o.launches, "launches", 1000, "incidents to launch")
	cmd.Flags().IntVar(&o.rate, "rate", 50, "launches a second")
	cmd.Flags().StringVar(&o.api, "api", "", "launch against the API at this URL (e.g. the cluster's http://127.0.0.1:8080) instead of an embedded stack")
	o.flags(cmd)
	return cmd
}

// benchListCommand is `breachflow bench list`.
func benchListCommand() *cobra.Command {
	var o apiBenchOptions
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
			if o.seeded < 0 || o.launches < 1 || o.rate < 1 || o.requests < 1 {
				return fmt.Errorf("--launched, --rate and --requests: want at least 1; --incidents at least 0")
			}
			return benchAPI(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().IntVar(&o.seeded, "incidents", 10000, "open incidents to seed into the store's index")
	cmd.Flags().IntVar(&o.launches, "launched", 20, "incidents to launch through the API first")
	cmd.Flags().IntVar(&o.rate, "rate", 10, "launches a second")
	cmd.Flags().IntVar(&o.requests, "requests", 200, "calls of each list route to time")
	o.flags(cmd)
	return cmd
}

// apiBenchOptions are the settings of bench launch and bench list.
type apiBenchOptions struct {
	launches, rate int
	// requests > 0 times the list routes after seeding seeded incidents.
	requests, seeded        int
	databaseURL, cpuProfile string
	// api, when set, is a running deployment's API (bench launch only).
	api string
}

// flags adds the options the two commands share.
func (o *apiBenchOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.databaseURL, "database-url", "", "the store (postgres://… of an empty database; default a fresh SQLite file)")
	cmd.Flags().StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed calls (the whole stack runs in this process) to this file")
}

// benchLaunchAt launches o.launches incidents at o.rate a second through
// the API of a running deployment (o.api) and prints the latencies.
func benchLaunchAt(ctx context.Context, out io.Writer, o apiBenchOptions) error {
	token := os.Getenv("BREACHFLOW_ADMIN_TOKEN")
	if token == "" {
		return errors.New("BREACHFLOW_ADMIN_TOKEN: required with --api (an admin token of that deployment)")
	}
	base := strings.TrimRight(o.api, "/")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	launched := runLoad(ctx, o.launches, loadPlan{Rate: o.rate}, func(ctx context.Context, _ int) error {
		return benchCall(ctx, client, "POST", base+"/v1/incidents", token, benchLaunchBody(), http.StatusCreated)
	})
	printLaunches(out, "the API at "+base, o, launched)
	if launched.Failed > 0 {
		return fmt.Errorf("%d launches failed", launched.Failed)
	}
	return nil
}

// benchCall sends one request of a benchmark through c, with a bearer
// token unless token is "" (c then carries a browser's cookies), and
// answers an error unless the status is want.
func benchCall(ctx context.Context, c *http.Client, method, url, token string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %.300s", method, req.URL.Path, resp.Status, raw)
	}
	return nil
}

// benchLaunchBody is the incident every launch benchmark launches.
func benchLaunchBody() []byte {
	launch, _ := json.Marshal(map[string]any{"playbook": "customer-data-breach", "title": "Bench incident", "severity": "high",
		"aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "data_categories": []string{"contact"},
		"jurisdictions": []string{"US-CA", "GB"}})
	return launch
}

// printLaunches prints a launch run's latencies and its failures: an
// overloaded deployment answers 503s, which are reported, not hidden.
func printLaunches(out io.Writer, where string, o apiBenchOptions, launched loadResult) {
	fmt.Fprintf(out, "launch, %s, %d incidents at %d/s (achieved %.1f/s):\n", where, o.launches, o.rate, float64(o.launches)/launched.Elapsed.Seconds())
	fmt.Fprintf(out, "  POST /v1/incidents  %s  (%d answered 201)\n", percentiles(launched.Took), len(launched.Took))
	if launched.Failed > 0 {
		fmt.Fprintf(out, "  %d of %d launches failed, the first: %v\n", launched.Failed, o.launches, launched.FirstErr)
	}
}

// benchAPI launches o.launches incidents at o.rate a second and prints the
// launch latencies; with o.requests > 0 it then seeds o.seeded more into
// the store's index and times the list routes.
func benchAPI(ctx context.Context, out io.Writer, o apiBenchOptions) error {
	dir, err := os.MkdirTemp("", "breachflow-bench-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := map[string]string{
		"BREACHFLOW_DATA_DIR": filepath.Join(dir, "data"), "BREACHFLOW_HTTP_ADDR": "127.0.0.1:0",
		"BREACHFLOW_DEV_TEMPORAL_PORT": "0", "BREACHFLOW_DEV_UI_PORT": "0", "BREACHFLOW_DEV_SMTP_ADDR": "127.0.0.1:0",
		"BREACHFLOW_DATABASE_URL": o.databaseURL,
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
	storeName := "SQLite"
	if o.databaseURL != "" {
		storeName = "PostgreSQL"
	}
	base := "http://" + stack.httpAddr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	// call sends with a bearer token, or (token "") as the browser whose
	// cookies browser keeps.
	browser := &http.Client{Timeout: time.Minute}
	call := func(ctx context.Context, method, path, token string, body []byte, want int) error {
		c := browser
		if token != "" {
			c = client
		}
		return benchCall(ctx, c, method, base+path, token, body, want)
	}

	launch := benchLaunchBody()
	launchProfile := o.cpuProfile
	if o.requests > 0 {
		launchProfile = "" // bench list profiles the list routes only
	}
	stopProfile, err := startCPUProfile(launchProfile)
	if err != nil {
		return err
	}
	launched := runLoad(ctx, o.launches, loadPlan{Rate: o.rate}, func(ctx context.Context, _ int) error {
		return call(ctx, "POST", "/v1/incidents", stack.token, launch, http.StatusCreated)
	})
	stopProfile()
	printLaunches(out, "embedded stack ("+storeName+")", o, launched)
	if launched.Failed > 0 && o.requests > 0 {
		return fmt.Errorf("%d launches failed", launched.Failed)
	}
	if o.requests == 0 {
		return nil
	}
	seedStart := time.Now()
	if err := seedIncidents(ctx, stack, o.seeded); err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d open incidents into the store's index in %s\n", o.seeded, time.Since(seedStart).Round(time.Millisecond))
	if withDB, ok := stack.store.(interface{ DB() *sql.DB }); ok && o.databaseURL != "" {
		// PostgreSQL plans by its statistics, which autovacuum refreshes
		// after a table has grown like this; a server running without it
		// (as test servers often do) would plan for empty tables.
		if _, err := withDB.DB().ExecContext(ctx, `ANALYZE incidents, obligations, incident_members`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	responder, err := benchToken(ctx, stack, "bench-responder", "responder")
	if err != nil {
		return err
	}
	if stopProfile, err = startCPUProfile(o.cpuProfile); err != nil {
		return err
	}
	defer stopProfile()
	if browser.Jar, err = signInBrowser(ctx, base, responder); err != nil {
		return err
	}
	fmt.Fprintf(out, "list routes with %d open incidents (%d launched, %d seeded), %d calls each, one at a time:\n",
		o.launches+o.seeded, o.launches, o.seeded, o.requests)
	for _, r := range []struct{ name, path, token string }{
		{"GET /v1/incidents (admin)", "/v1/incidents", stack.token},
		{"GET /v1/incidents (responder)", "/v1/incidents", responder},
		{"GET /v1/incidents?status=active&page_size=100", "/v1/incidents?status=active&page_size=100", stack.token},
		{"GET /v1/deadlines (admin)", "/v1/deadlines", stack.token},
		{"GET /v1/deadlines (responder)", "/v1/deadlines", responder},
		{"dashboard GET /board (responder)", "/board", ""},
		{"dashboard GET /incidents (responder)", "/incidents", ""},
	} {
		get := func(ctx context.Context, _ int) error { return call(ctx, "GET", r.path, r.token, nil, http.StatusOK) }
		if warm := runLoad(ctx, 5, loadPlan{}, get); warm.Failed > 0 { // the first few warm caches up
			return warm.FirstErr
		}
		timed := runLoad(ctx, o.requests, loadPlan{}, get)
		if timed.Failed > 0 {
			return timed.FirstErr
		}
		fmt.Fprintf(out, "  %-48s %s\n", r.name, percentiles(timed.Took))
	}
	return nil
}

// signInBrowser signs into the dashboard with token as its sign-in form
// does, and answers the cookies of the session.
func signInBrowser(ctx context.Context, base, token string) (http.CookieJar, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	b := &http.Client{Jar: jar, Timeout: time.Minute}
	get, err := http.NewRequestWithContext(ctx, "GET", base+"/login", nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.Do(get)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	var nonce string
	for _, c := range jar.Cookies(u) {
		if c.Name == "bf_login" {
			nonce = c.Value
		}
	}
	form := url.Values{"csrf": {nonce}, "token": {token}, "next": {"/board"}}
	post, err := http.NewRequestWithContext(ctx, "POST", base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = b.Do(post); err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/board" {
		return nil, fmt.Errorf("dashboard sign-in: %s, ended on %s", resp.Status, resp.Request.URL.Path)
	}
	return jar, nil
}

// benchToken creates an API token of role through the store.
func benchToken(ctx context.Context, stack *devStack, name, role string) (string, error) {
	secret, _, err := stack.store.CreateToken(ctx, name, role)
	if err != nil {
		return "", fmt.Errorf("token %s: %w", name, err)
	}
	return secret, nil
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
