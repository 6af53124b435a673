package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/spf13/cobra"
)

// benchClusterCommand measures sending on a running cluster
// (deploy/cluster.sh bench): the same incident run twice, first with one
// notices worker (--stop takes the second away), then with two (--start
// brings it back). The ratio says whether sending scales out.
func benchClusterCommand() *cobra.Command {
	var n int
	var base, stopCmd, startCmd string
	cmd := &cobra.Command{
		Use:   "cluster --api URL --stop CMD --start CMD",
		Short: "Notices per second on a running cluster with one notices worker, then with two",
		Long: `Launches customer-data-breach on a running cluster through its API,
imports N customers, works the incident to its customer notices (two legal
approvals: BREACHFLOW_ADMIN_TOKEN's and a legal token it creates) and
reads the send's duration from the incident's notice run. It does that
twice: after running --stop (which should leave one notices worker), and
after running --start (two workers). deploy/cluster.sh bench runs it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token := os.Getenv("BREACHFLOW_ADMIN_TOKEN")
			if token == "" {
				return errors.New("BREACHFLOW_ADMIN_TOKEN: required (an admin token of the cluster)")
			}
			if n < 1 {
				return errors.New("--subjects: want at least 1")
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			api := &incidentAPI{base: base, token: token, http: &http.Client{Timeout: time.Minute}}
			legal, err := benchLegalToken(ctx, api)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "bench cluster: %d customers per run, API %s\n", n, base)
			var rates [2]float64
			for i, hook := range []string{stopCmd, startCmd} {
				if hook != "" {
					sh := exec.CommandContext(ctx, "sh", "-c", hook)
					sh.Stdout, sh.Stderr = io.Discard, os.Stderr
					if err := sh.Run(); err != nil {
						return fmt.Errorf("%q: %w", hook, err)
					}
				}
				took, err := benchClusterRun(ctx, api, legal, n)
				if err != nil {
					return fmt.Errorf("run with %d notices worker(s): %w", i+1, err)
				}
				rates[i] = float64(n) / took.Seconds()
				fmt.Fprintf(out, "  %d notices worker(s)  %7d notices in %8s  %8.0f/s\n", i+1, n, took.Round(time.Millisecond), rates[i])
			}
			fmt.Fprintf(out, "  two workers / one    %.2f\n", rates[1]/rates[0])
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "subjects", 20000, "customers per run")
	cmd.Flags().StringVar(&base, "api", "http://127.0.0.1:8080", "the cluster's API")
	cmd.Flags().StringVar(&stopCmd, "stop", "", "shell command that leaves one notices worker running")
	cmd.Flags().StringVar(&startCmd, "start", "", "shell command that starts the second notices worker again")
	return cmd
}

func benchLegalToken(ctx context.Context, api *incidentAPI) (string, error) {
	raw, err := api.do(ctx, apiRequest{method: "POST", path: "/v1/tokens", body: map[string]any{
		"name": fmt.Sprintf("bench-legal-%d", time.Now().Unix()), "role": breach.RoleLegal, "expires_in": "24h"}})
	if err != nil {
		return "", fmt.Errorf("create a legal token: %w", err)
	}
	var tok struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Secret == "" {
		return "", fmt.Errorf("create a legal token: no secret in the answer")
	}
	return tok.Secret, nil
}

// benchClusterRun works one incident to the end of its customer notices
// and answers how long the sending took, by the workflow's own clock.
func benchClusterRun(ctx context.Context, api *incidentAPI, legal string, n int) (time.Duration, error) {
	call := func(who string, req apiRequest, out any) error {
		a := *api
		a.token = who
		raw, err := a.do(ctx, req)
		if err != nil || out == nil {
			return err
		}
		return json.Unmarshal(raw, out)
	}
	admin := api.token
	var inc struct {
		ID string `json:"id"`
	}
	if err := call(admin, apiRequest{method: "POST", path: "/v1/incidents", body: map[string]any{
		"playbook": "customer-data-breach", "title": "Cluster benchmark", "severity": "high",
		"aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "data_categories": []string{"contact"},
		"jurisdictions": []string{"US-CA"}}}, &inc); err != nil {
		return 0, fmt.Errorf("launch: %w", err)
	}
	base := "/v1/incidents/" + inc.ID
	var csv bytes.Buffer
	csv.WriteString("external_id,name,email,locale,country,subdivision,tier\n")
	for i := range n {
		fmt.Fprintf(&csv, "C%d,Customer %d,%s.c%d@example.com,en,US,US-CA,low\n", i, i, inc.ID, i)
	}
	if err := call(admin, apiRequest{method: "POST", path: base + "/subjects", upload: &csv, contentType: "text/csv"}, nil); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	// The shipped playbook offers US customers credit monitoring, and
	// the send waits until the remedy pool covers every one of them.
	var pool bytes.Buffer
	pool.WriteString("code,product,enrollment_url,enroll_by\n")
	enrollBy := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	for i := range n {
		fmt.Fprintf(&pool, "BENCH-%s-%06d,credit-monitoring,https://enroll.example-bureau.com/,%s\n", inc.ID, i, enrollBy)
	}
	if err := call(admin, apiRequest{method: "POST", path: base + "/remedy-codes", upload: &pool, contentType: "text/csv"}, nil); err != nil {
		return 0, fmt.Errorf("remedy pool: %w", err)
	}
	if err := call(admin, apiRequest{method: "PATCH", path: base, body: map[string]any{"risk": "high"}}, nil); err != nil {
		return 0, fmt.Errorf("risk: %w", err)
	}
	if err := call(admin, apiRequest{method: "PUT", path: base + "/notices/texts/en", body: map[string]any{
		"what_happened": "A benchmark file was public.", "what_we_are_doing": "We closed it."}}, nil); err != nil {
		return 0, fmt.Errorf("notice text: %w", err)
	}
	deadline := time.Now().Add(time.Hour)
	for time.Now().Before(deadline) {
		var st breach.Status
		if err := call(admin, apiRequest{method: "GET", path: base}, &st); err != nil {
			return 0, err
		}
		if len(st.Notices) > 0 && st.Notices[0].FinishedAt != nil {
			r := st.Notices[0]
			if r.Error != "" || r.Result == nil || r.Result.Sent != n {
				return 0, fmt.Errorf("the notice run ended with %q, %+v", r.Error, r.Result)
			}
			return r.FinishedAt.Sub(r.StartedAt), nil
		}
		acted := false
		for _, s := range st.Steps {
			if s.State != breach.StepReady || s.Kind == "customer_notices" {
				continue
			}
			who, path, body := admin, base+"/steps/"+s.ID+"/complete", map[string]any{"note": "benchmark"}
			if s.Kind == "approval" {
				path, body = base+"/steps/"+s.ID+"/decide", map[string]any{"decision": "approve"}
				if len(s.Approvals) > 0 {
					who = legal
				}
			}
			// A step another poll already moved answers 409: fine.
			_ = call(who, apiRequest{method: "POST", path: path, body: body}, nil)
			acted = true
		}
		for _, o := range st.Obligations {
			if o.Recipient == "regulator" && o.Status == breach.ObligationPending {
				_ = call(admin, apiRequest{method: "POST", path: base + "/obligations/" + o.ID + "/file",
					body: map[string]any{"reference": "BENCH", "delay_reason": "benchmark"}}, nil)
				acted = true
			}
		}
		if !acted {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return 0, errors.New("no end to the notice run within an hour")
}
