package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/alerts"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/internal/detect"
	"github.com/breachflow/breachflow/playbooks"
	"github.com/spf13/cobra"
)

// apiAlerts builds the API's alert intake from the configuration; nil
// (intake off) when no alert source is declared.
func apiAlerts(cfg *config.Config, catalog *playbooks.Catalog) (*api.AlertDeps, error) {
	if cfg.AlertSources == "" {
		return nil, nil
	}
	sources, err := alerts.ParseSources(cfg.AlertSources)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_ALERT_SOURCES: %w", err)
	}
	rules, err := alerts.LoadRules(cfg.AlertRulesDir, catalog)
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	det, err := detect.LoadConfig(cfg.DetectConfig)
	if err != nil {
		return nil, fmt.Errorf("BREACHFLOW_DETECT_CONFIG: %w", err)
	}
	return &api.AlertDeps{Sources: sources, Rules: rules, Rate: float64(cfg.AlertRate), Burst: cfg.AlertBurst, Detect: det}, nil
}

// alertsCommand is `breachflow alerts`: validate routing rules, and work
// the triage queue through the HTTP API.
func alertsCommand() *cobra.Command {
	o := &clientOptions{getenv: os.Getenv, now: time.Now}
	cmd := &cobra.Command{Use: "alerts", Short: "Alert routing rules and the triage queue"}
	o.flags(cmd)
	var dir string
	validate := &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check the shipped rules, BREACHFLOW_ALERT_RULES_DIR and FILEs against the playbooks; errors name file, line and field",
		RunE: func(cmd *cobra.Command, files []string) error {
			catalog, err := playbooks.Load(os.Getenv(playbooks.EnvDir))
			if err != nil {
				return fmt.Errorf("playbooks: %w", err)
			}
			rs, err := alerts.LoadRules(dir, catalog)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return errors.New("invalid alert rules")
			}
			bad := 0
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				more, err := alerts.ParseRules(f, data, catalog)
				if err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: %d rules\n", f, len(more.Rules))
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintf(w, "Routing table (de-duplication window %s):\nRULE\tACTION\tFILE\n", rs.DedupWindow)
			for _, r := range rs.Rules {
				fmt.Fprintf(w, "%s\t%s\t%s:%d\n", r.ID, r.Action, r.File, r.Line)
			}
			_ = w.Flush()
			if bad > 0 {
				return errors.New("invalid alert rules")
			}
			return nil
		},
	}
	validate.Flags().StringVar(&dir, "dir", os.Getenv(alerts.EnvRulesDir), "rules directory (default $"+alerts.EnvRulesDir+")")

	var state string
	list := &cobra.Command{Use: "list", Short: "List the triage queue (open alerts, oldest first)", Args: cobra.NoArgs}
	list.Flags().StringVar(&state, "state", "open", "open, launched, attached, dismissed or any")
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		var out struct {
			Alerts []api.AlertView `json:"alerts"`
		}
		return o.call(cmd, apiRequest{method: http.MethodGet, path: "/v1/alerts", query: url.Values{"state": {state}, "limit": {"1000"}}}, &out, func(w io.Writer) error {
			if len(out.Alerts) == 0 {
				fmt.Fprintln(w, "No alerts.")
				return nil
			}
			fmt.Fprintln(w, "ID\tSOURCE\tSEVERITY\tCOUNT\tFIRST SEEN\tSTATE\tRULE\tINCIDENT\tTITLE")
			for _, a := range out.Alerts {
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, cell(a.Source), cell(a.Severity), a.Count,
					a.FirstSeen.Format(time.RFC3339), cell(a.State), cell(a.Rule), cell(a.IncidentID), printable(a.Title, 60))
			}
			return nil
		})
	}
	show := &cobra.Command{Use: "show ID", Short: "Show an alert, its text and every decision about it", Args: cobra.ExactArgs(1)}
	show.RunE = func(cmd *cobra.Command, args []string) error {
		var a struct {
			api.AlertView
			Text   string `json:"text"`
			Events []struct {
				At         time.Time `json:"at"`
				Actor      string    `json:"actor"`
				Action     string    `json:"action"`
				IncidentID string    `json:"incident_id"`
				Reason     string    `json:"reason"`
			} `json:"events"`
		}
		return o.call(cmd, apiRequest{method: http.MethodGet, path: alertPath(args[0])}, &a, func(w io.Writer) error {
			fmt.Fprintf(w, "Alert\t%d\nTitle\t%s\nSource\t%s\nSeverity\t%s\nState\t%s\nRule\t%s\nIncident\t%s\nCount\t%d\nFirst seen\t%s\nLast seen\t%s\n",
				a.ID, printable(a.Title, 200), cell(a.Source), cell(a.Severity), cell(a.State), cell(a.Rule), cell(a.IncidentID), a.Count,
				a.FirstSeen.Format(time.RFC3339), a.LastSeen.Format(time.RFC3339))
			for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
				fmt.Fprintf(w, "  %s\t%s\n", printable(k, 60), printable(a.Labels[k], 200))
			}
			if a.Text != "" {
				fmt.Fprintf(w, "Text\t%s\n", printable(a.Text, 2000))
			}
			fmt.Fprintln(w, "\nAT\tACTOR\tACTION\tINCIDENT\tREASON")
			for _, e := range a.Events {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), cell(e.Actor), cell(e.Action), cell(e.IncidentID), printable(e.Reason, 200))
			}
			return nil
		})
	}
	var playbook, title, severity string
	var jurisdictions []string
	launch := &cobra.Command{Use: "launch ID --playbook P", Short: "Accept an alert: launch a playbook for it (aware_at is now, recorded with you)", Args: cobra.ExactArgs(1)}
	launch.Flags().StringVar(&playbook, "playbook", "", "playbook id (required)")
	launch.Flags().StringVar(&title, "title", "", "incident title (default: the alert's)")
	launch.Flags().StringVar(&severity, "severity", "", "low, medium, high or critical (default: the alert's)")
	launch.Flags().StringSliceVar(&jurisdictions, "jurisdiction", nil, "ISO 3166 code (repeatable)")
	launch.RunE = func(cmd *cobra.Command, args []string) error {
		body := map[string]any{"playbook": playbook}
		if title != "" {
			body["title"] = title
		}
		if severity != "" {
			body["severity"] = severity
		}
		if len(jurisdictions) > 0 {
			body["jurisdictions"] = jurisdictions
		}
		var out struct {
			Alert    api.AlertView `json:"alert"`
			Incident struct {
				ID string `json:"id"`
			} `json:"incident"`
		}
		return o.call(cmd, apiRequest{method: http.MethodPost, path: alertPath(args[0], "launch"), body: body}, &out, func(w io.Writer) error {
			fmt.Fprintf(w, "Alert %d launched %s (%s).\n", out.Alert.ID, cell(out.Incident.ID), printable(out.Alert.Reason, 200))
			return nil
		})
	}
	attach := &cobra.Command{Use: "attach ID INCIDENT", Short: "Attach an alert to an incident as evidence", Args: cobra.ExactArgs(2)}
	attach.RunE = func(cmd *cobra.Command, args []string) error {
		return o.call(cmd, apiRequest{method: http.MethodPost, path: alertPath(args[0], "attach"), body: map[string]string{"incident": args[1]}}, nil, func(w io.Writer) error {
			fmt.Fprintf(w, "Alert %s attached to %s.\n", cell(args[0]), cell(args[1]))
			return nil
		})
	}
	var reason string
	dismiss := &cobra.Command{Use: "dismiss ID --reason R", Short: "Dismiss an alert; repeats of it within the window stay dismissed", Args: cobra.ExactArgs(1)}
	dismiss.Flags().StringVar(&reason, "reason", "", "why it is not a breach (required)")
	dismiss.RunE = func(cmd *cobra.Command, args []string) error {
		return o.call(cmd, apiRequest{method: http.MethodPost, path: alertPath(args[0], "dismiss"), body: map[string]string{"reason": reason}}, nil, func(w io.Writer) error {
			fmt.Fprintf(w, "Alert %s dismissed.\n", cell(args[0]))
			return nil
		})
	}
	cmd.AddCommand(validate, list, show, launch, attach, dismiss)
	return cmd
}

func alertPath(id string, rest ...string) string {
	p := "/v1/alerts/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// detectCommand is `breachflow detect`: run the CRM export detector on a
// log, here (printing the report) or on the server (--send), where each
// finding becomes an alert.
func detectCommand() *cobra.Command {
	var format, cfgPath, sourceToken, apiURL string
	var send bool
	cmd := &cobra.Command{
		Use:   "detect --format salesforce|hubspot|jsonl FILE",
		Short: "Find after-hours exports, volume spikes and non-owner access to high-tier customers in a CRM access log",
		Long: "Reads a Salesforce EventLogFile CSV, a HubSpot audit-log export or a JSON-lines access log and prints\n" +
			"the lines it could not use and the findings. With --send the log goes to POST /v1/detect/{format}\n" +
			"instead, authenticated as an alert source, and each finding becomes an alert there.",
		Args: cobra.ExactArgs(1),
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", detect.FormatSalesforce, "salesforce, hubspot or jsonl")
	f.StringVar(&cfgPath, "config", os.Getenv(detect.EnvConfig), "detector configuration (default $"+detect.EnvConfig+", else the shipped one)")
	f.BoolVar(&send, "send", false, "send the log to the server instead of reading it here")
	f.StringVar(&apiURL, "api", "", "API base URL (default $BREACHFLOW_API_URL or "+defaultAPIURL+")")
	f.StringVar(&sourceToken, "source-token", "", "alert source token for --send (default $BREACHFLOW_SOURCE_TOKEN)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		file, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer file.Close()
		if send {
			return sendLog(cmd, apiURL, sourceToken, format, file)
		}
		cfg, err := detect.LoadConfig(cfgPath)
		if err != nil {
			return err
		}
		rep, err := cfg.Run(format, file)
		if err != nil {
			return err
		}
		printReport(cmd.OutOrStdout(), rep)
		return nil
	}
	return cmd
}

func printReport(out io.Writer, rep *detect.Report) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "Events read\t%d\nLines not used or out of order\t%d\n", rep.Events, rep.ProblemCount)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  line %d\t%s\n", p.Line, printable(p.Message, 200))
	}
	fmt.Fprintf(w, "Findings\t%d\n", len(rep.Findings))
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w, "RULE\tUSER\tDAY\tEVENTS\tRECORDS\tFROM\tTO")
		for _, x := range rep.Findings {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", cell(x.Rule), cell(x.User), x.Day, x.Events, x.Records,
				x.From.Format(time.RFC3339), x.To.Format(time.RFC3339))
		}
	}
}

// sendLog posts a log to /v1/detect/{format} as an alert source.
func sendLog(cmd *cobra.Command, base, token, format string, body io.Reader) error {
	if base == "" {
		base = cmp.Or(os.Getenv("BREACHFLOW_API_URL"), defaultAPIURL)
	}
	if token == "" {
		token = os.Getenv("BREACHFLOW_SOURCE_TOKEN")
	}
	if token == "" {
		return errors.New("--send needs an alert source token: --source-token or $BREACHFLOW_SOURCE_TOKEN")
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(base, "/")+"/v1/detect/"+url.PathEscape(format), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/detect/%s: %s: %s", format, resp.Status, printable(string(raw), 500))
	}
	var out struct {
		Report *detect.Report `json:"report"`
		Alerts []struct {
			AlertID    int64  `json:"alert_id"`
			Duplicate  bool   `json:"duplicate"`
			State      string `json:"state"`
			Rule       string `json:"rule"`
			IncidentID string `json:"incident_id"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	printReport(cmd.OutOrStdout(), out.Report)
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nALERT\tREPEAT\tSTATE\tRULE\tINCIDENT")
	for _, a := range out.Alerts {
		fmt.Fprintf(w, "%d\t%v\t%s\t%s\t%s\n", a.AlertID, a.Duplicate, cell(a.State), cell(a.Rule), cell(a.IncidentID))
	}
	return w.Flush()
}
