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
	"time"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// benchAlertsCommand is `breachflow bench alerts`.
func benchAlertsCommand() *cobra.Command {
	var copies, distinct, senders int
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Alert intake on the embedded stack: repeats de-duplicated, and new alerts stored and routed to triage",
		Long: `Starts the embedded stack with one alert source and sends, over HTTP from --senders at once:

  (a) --copies copies of one Alertmanager alert: one is stored and routed,
      the rest only raise its count (the de-duplication path);
  (b) --distinct different alerts no rule launches: each is sealed, stored
      and queued for triage (the accept path).

and prints each rate in alerts per second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchAlerts(cmd.Context(), cmd.OutOrStdout(), copies, distinct, senders)
		},
	}
	cmd.Flags().IntVar(&copies, "copies", 10000, "copies of one alert")
	cmd.Flags().IntVar(&distinct, "distinct", 10000, "distinct alerts")
	cmd.Flags().IntVar(&senders, "senders", 8, "concurrent HTTP senders")
	return cmd
}

func benchAlerts(ctx context.Context, out io.Writer, copies, distinct, senders int) error {
	if copies < 1 || distinct < 1 || senders < 1 {
		return fmt.Errorf("--copies, --distinct and --senders: want at least 1")
	}
	dir, err := os.MkdirTemp("", "breachflow-bench-alerts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const token = "tok-bench-source-000000001"
	env := map[string]string{
		"BREACHFLOW_DATA_DIR": filepath.Join(dir, "data"), "BREACHFLOW_HTTP_ADDR": "127.0.0.1:0",
		"BREACHFLOW_DEV_TEMPORAL_PORT": "0", "BREACHFLOW_DEV_UI_PORT": "0", "BREACHFLOW_DEV_SMTP_ADDR": "127.0.0.1:0",
		"BREACHFLOW_ALERT_SOURCES": "bench:" + token, "BREACHFLOW_ALERT_RATE": "1000000", "BREACHFLOW_ALERT_BURST": "1000000",
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
	url := "http://" + stack.httpAddr + "/v1/alerts?format=alertmanager"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}, Timeout: time.Minute}
	body := func(name, instance string) []byte {
		b, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "alerts": []map[string]any{{
			"status": "firing", "startsAt": "2026-11-23T02:10:00Z",
			"labels":      map[string]string{"alertname": name, "severity": "warning", "instance": instance},
			"annotations": map[string]string{"summary": name + " on " + instance},
		}}})
		return b
	}
	run := func(n int, mk func(i int) []byte) (time.Duration, error) {
		res := runLoad(ctx, n, loadPlan{Senders: senders}, func(ctx context.Context, i int) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(mk(i)))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				return fmt.Errorf("status %s", resp.Status)
			}
			return nil
		})
		if res.Failed > 0 {
			return 0, fmt.Errorf("%d calls failed, the first: %v", res.Failed, res.FirstErr)
		}
		return res.Elapsed, nil
	}
	same := body("DiskAlmostFull", "node-0")
	fmt.Fprintf(out, "alert intake, embedded stack (SQLite), %d senders, one alert per call:\n", senders)
	d, err := run(copies, func(int) []byte { return same })
	if err != nil {
		return fmt.Errorf("copies: %w", err)
	}
	fmt.Fprintf(out, "  de-duplicated  %7d copies  in %8s  %8.0f alerts/s\n", copies, d.Round(time.Millisecond), float64(copies)/d.Seconds())
	d, err = run(distinct, func(i int) []byte { return body("DiskAlmostFull", fmt.Sprint("node-", i+1)) })
	if err != nil {
		return fmt.Errorf("distinct: %w", err)
	}
	fmt.Fprintf(out, "  accepted (new) %7d alerts  in %8s  %8.0f alerts/s   (sealed, stored, routed to triage)\n", distinct, d.Round(time.Millisecond), float64(distinct)/d.Seconds())
	return nil
}

// benchDetectCommand is `breachflow bench detect`.
func benchDetectCommand() *cobra.Command {
	var events int
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "The CRM export detector on a generated Salesforce ReportExport log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events < 10000 {
				return fmt.Errorf("--events: want at least 10000")
			}
			var log bytes.Buffer
			planted, err := detect.Generate(&log, events)
			if err != nil {
				return err
			}
			cfg, err := detect.DefaultConfig()
			if err != nil {
				return err
			}
			size := log.Len()
			start := time.Now()
			rep, err := cfg.Run(detect.FormatSalesforce, &log)
			if err != nil {
				return err
			}
			d := time.Since(start)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "detector, generated ReportExport log (%d events, %.1f MiB), shipped rules:\n", events, float64(size)/(1<<20))
			fmt.Fprintf(out, "  read + rules   %7d events  in %8s  %8.0f events/s   findings %d (planted %d)\n",
				rep.Events, d.Round(time.Millisecond), float64(rep.Events)/d.Seconds(), len(rep.Findings), len(planted))
			return nil
		},
	}
	cmd.Flags().IntVar(&events, "events", 100000, "events in the generated log (its anomalies are planted for 100,000)")
	return cmd
}
